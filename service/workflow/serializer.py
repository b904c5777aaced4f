"""Serialize workflow instances WITHOUT their spec, and restore them against a given spec.

The default serialization embeds the whole spec in every instance (about half of its bytes and
most of the load time). Here the spec is stored once per process version; an instance carries
only the sha256 of its version, checked on load so an instance is never run on another spec.
SpiffWorkflow's serializer flips a registry-wide flag while encoding, so each thread gets its own.
"""

from __future__ import annotations

import json
import threading
from copy import deepcopy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from service.workflow.expressions import RESTRICTED_ENGINE


class SpecMismatch(RuntimeError):
    """An instance was about to be loaded with a spec it was not made with."""


_local = threading.local()


class _SpecByReferenceConverter(BpmnWorkflowConverter):
    """Like Spiff's converter, but the spec comes from the caller instead of the document."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = _local.restore_specs
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _serializers() -> tuple[BpmnWorkflowSerializer, BpmnWorkflowSerializer]:
    """(by-reference serializer, standard serializer) for the current thread."""
    pair = getattr(_local, "pair", None)
    if pair is None:
        config = deepcopy(SPIFF_CONFIG)
        config[BpmnWorkflow] = _SpecByReferenceConverter
        by_ref = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        standard = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(deepcopy(SPIFF_CONFIG)))
        pair = _local.pair = (by_ref, standard)
    return pair


def registry():
    """The standard converter registry (specs to dicts, used for spec storage and diffs)."""
    return _serializers()[1].registry


def dump_instance(workflow: BpmnWorkflow, spec_sha: str) -> str:
    serializer = _serializers()[0]
    serializer.registry._encoder_mode = True
    try:
        dct = serializer.to_dict(workflow)
        dct[serializer.VERSION_KEY] = serializer.VERSION
        dct["spec_sha256"] = spec_sha
        return json.dumps(dct, cls=serializer._encoder_cls, separators=(",", ":"))
    finally:
        serializer.registry._encoder_mode = False


def load_instance(
    state: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec], spec_sha: str
) -> BpmnWorkflow:
    """Restore an instance on its own spec, with the restricted script engine (never Spiff's default)."""
    serializer = _serializers()[0]
    dct = json.loads(state)
    stored_sha = dct.pop("spec_sha256", None)
    if stored_sha != spec_sha:
        raise SpecMismatch(f"instance was made with spec {stored_sha}, refusing to load it with {spec_sha}")
    serializer.migrate(dct)
    _local.restore_specs = (spec, subprocess_specs)
    try:
        workflow = serializer.from_dict(dct)
    finally:
        _local.restore_specs = None
    workflow.script_engine = RESTRICTED_ENGINE
    return workflow


def dump_spec(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    reg = registry()
    return json.dumps(
        {"spec": reg.convert(spec), "subprocess_specs": {k: reg.convert(v) for k, v in subprocess_specs.items()}},
        separators=(",", ":"),
    )


def load_spec(spec_json: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    reg = registry()
    dct = json.loads(spec_json)
    return reg.restore(dct["spec"]), {k: reg.restore(v) for k, v in dct["subprocess_specs"].items()}
