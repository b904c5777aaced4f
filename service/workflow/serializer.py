"""Serialize workflow instances WITHOUT their spec, and restore them against a given spec.

The default serialization embeds the whole spec in every instance (about half of its bytes and
most of the load time). Here the spec is stored once per process version; an instance carries
only the sha256 of its version, checked on load so an instance is never run on another spec.
SpiffWorkflow's serializer flips a registry-wide flag while encoding, so each thread gets its own.

Spiff's generic converter registry walks every value of every task through type lookups; for the
instances this service runs (plain tasks, flat JSON data, no subprocesses or pending events) that
was half of a review step. `_fast_to_dict` / `_fast_from_dict` write and read the SAME document
directly and return None for anything else, which then takes Spiff's generic path. The
equivalence (equal documents, equal restored trees) is pinned by tests/unit/test_serializer.py
for the pinned SpiffWorkflow version.
"""

from __future__ import annotations

import json
import math
import threading
from copy import deepcopy
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

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


_PRIMITIVES = frozenset({str, int, float, bool, type(None)})


def _flat(mapping: Any) -> bool:
    """A dict of str keys to JSON primitives: what the fast path writes and reads unchanged.

    Non-finite floats are left to the generic path (orjson would write NaN as null).
    """
    if not mapping:
        return type(mapping) is dict
    return type(mapping) is dict and all(
        type(k) is str and type(v) in _PRIMITIVES and (type(v) is not float or math.isfinite(v))
        for k, v in mapping.items())


def _fast_to_dict(workflow: BpmnWorkflow) -> dict[str, Any] | None:
    """Spiff's document for a plain instance, built directly; None when the generic path is needed."""
    if workflow.subprocesses or workflow.bpmn_events or workflow.correlations or not _flat(workflow.data):
        return None
    tasks: dict[str, Any] = {}
    by_id = workflow.tasks
    text = {key: str(key) for key in by_id}  # str(UUID) is slow and each id appears up to three times
    for key, task in by_id.items():
        if type(task) is not Task or not _flat(task.internal_data) or not _flat(task.data):
            return None
        parent = by_id.get(task._parent)
        if parent is None:
            data, delta = task.data, {}
        else:
            data = {}
            delta = {"updates": DeepMerge.get_updated_keys(parent.data, task.data),
                     "deletions": DeepMerge.get_deleted_keys(parent.data, task.data)}
        task_id = text[key]
        tasks[task_id] = {
            "id": task_id, "parent": text[task._parent] if parent is not None else None,
            "children": [text.get(child) or str(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task._state, "task_spec": task.task_spec.name, "triggered": task.triggered,
            "internal_data": dict(task.internal_data), "data": data, "delta": delta, "typename": "Task",
        }
    last = workflow.last_task
    return {
        "data": dict(workflow.data), "correlations": workflow.correlations,
        "last_task": text.get(last.id) or str(last.id) if last is not None else None,
        "success": workflow.success, "completed": workflow.completed, "tasks": tasks,
        "root": text.get(workflow.task_tree.id) or str(workflow.task_tree.id),
        "subprocesses": {}, "bpmn_events": [], "typename": "BpmnWorkflow",
    }


def dump_instance(workflow: BpmnWorkflow, spec_sha: str) -> str:
    serializer = _serializers()[0]
    fast = _fast_to_dict(workflow)
    if fast is not None:
        fast[serializer.VERSION_KEY] = serializer.VERSION
        fast["spec_sha256"] = spec_sha
        try:  # json.dumps' document (non-ASCII as UTF-8 instead of \u escapes), about 20 times faster
            return orjson.dumps(fast).decode()
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits
            pass
    return _generic_dump(workflow, spec_sha)


def _generic_dump(workflow: BpmnWorkflow, spec_sha: str) -> str:
    serializer = _serializers()[0]
    serializer.registry._encoder_mode = True
    try:
        dct = serializer.to_dict(workflow)
        dct[serializer.VERSION_KEY] = serializer.VERSION
        dct["spec_sha256"] = spec_sha
        return json.dumps(dct, cls=serializer._encoder_cls, separators=(",", ":"))
    finally:
        serializer.registry._encoder_mode = False


def _fast_from_dict(dct: dict[str, Any], spec: BpmnProcessSpec,
                    subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow | None:
    """Restore a plain instance as Spiff's converters would; None when the generic path is needed."""
    raw_tasks = dct["tasks"]
    if (dct.get("typename") != "BpmnWorkflow" or dct.get("subprocesses") or dct.get("bpmn_events")
            or dct.get("correlations") or not _flat(dct.get("data", {}))):
        return None
    for raw in raw_tasks.values():
        if raw.get("typename") != "Task" or not _flat(raw["internal_data"]) or not _flat(raw["data"]):
            return None
        delta = raw.get("delta")
        if delta and (not _flat(delta.get("updates", {})) or type(delta.get("deletions", [])) is not list):
            return None
    uuids: dict[str, UUID] = {}

    def uuid(text: str) -> UUID:
        found = uuids.get(text)
        if found is None:
            found = uuids[text] = UUID(text)
        return found

    workflow = BpmnWorkflow(spec, subprocess_specs, deserializing=True)
    tasks: dict[UUID, Task] = {}
    workflow.tasks = tasks
    task_specs = spec.task_specs
    for raw in raw_tasks.values():  # parents come before children, as Spiff wrote them
        task_spec = task_specs.get(raw["task_spec"])
        # Task.__init__ would register the task, stamp the clock and notify a parent, all of which
        # the attributes below overwrite; the unit test compares every attribute with Spiff's own restore.
        task = Task.__new__(Task)
        task.id = uuid(raw["id"])
        task.workflow = workflow
        task._parent = uuid(raw["parent"]) if raw["parent"] is not None else None
        task._children = [uuid(child) for child in raw["children"]]
        task._state = raw["state"]
        task.triggered = raw["triggered"]
        task.task_spec = task_spec
        task.thread_id = Task.thread_id_pool
        task.internal_data = dict(raw["internal_data"])
        task.last_state_change = raw["last_state_change"]
        tasks[task.id] = task
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            workflow.top_workflow.event_manager.add_task(task)
        delta = raw.get("delta")
        parent = tasks.get(task._parent)
        if delta and parent is not None:
            data = DeepMerge.merge({}, parent.data)
            data.update(delta.get("updates", {}))
            for key in delta.get("deletions", []):
                data.pop(key, None)
        else:
            data = dict(raw["data"])
        task.data = data
    workflow.task_tree = workflow.tasks.get(uuid(dct["root"]))
    workflow.success = dct["success"]
    workflow.completed = dct.get("completed", False)
    workflow.correlations = {}
    last = dct["last_task"]
    if isinstance(last, str):
        workflow.last_task = workflow.tasks.get(uuid(last))
    workflow.data = dict(dct.get("data", {}))
    workflow.bpmn_events = []
    return workflow


def load_instance(
    state: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec], spec_sha: str
) -> BpmnWorkflow:
    """Restore an instance on its own spec, with the restricted script engine (never Spiff's default)."""
    serializer = _serializers()[0]
    try:
        dct = orjson.loads(state)
    except orjson.JSONDecodeError:  # NaN or a huge integer written by the generic path
        dct = json.loads(state)
    stored_sha = dct.pop("spec_sha256", None)
    if stored_sha != spec_sha:
        raise SpecMismatch(f"instance was made with spec {stored_sha}, refusing to load it with {spec_sha}")
    workflow = None
    if dct.get(serializer.VERSION_KEY) == serializer.VERSION:
        del dct[serializer.VERSION_KEY]
        workflow = _fast_from_dict(dct, spec, subprocess_specs)
    else:
        serializer.migrate(dct)
    if workflow is None:
        workflow = _generic_load(dct, spec, subprocess_specs)
    workflow.script_engine = RESTRICTED_ENGINE
    return workflow


def _generic_load(dct: dict[str, Any], spec: BpmnProcessSpec,
                  subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    serializer = _serializers()[0]
    _local.restore_specs = (spec, subprocess_specs)
    try:
        return serializer.from_dict(dct)
    finally:
        _local.restore_specs = None


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
