"""The fast instance codec writes and reads exactly what SpiffWorkflow's own converters do.

Every state an instance passes through in both shipped diagrams (submit, approvals, rejections and
resubmission, completion, with and without task data) is dumped by both paths and restored by both
paths; the documents, every restored task attribute, and what happens next must all be equal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow

from service.config import PROJECT_ROOT
from service.workflow import engine, serializer
from service.workflow.definitions import ProcessDefinition, parse_process

BPMN_FILES = ["graduate_report.bpmn", "graduate_report_three_level.bpmn"]


def _definition(name: str) -> ProcessDefinition:
    return parse_process(Path(PROJECT_ROOT / "bpmn" / name).read_bytes(), name)


def _generic_load(text: str, definition: ProcessDefinition) -> BpmnWorkflow:
    dct = json.loads(text)
    assert dct.pop("spec_sha256") == definition.sha256
    serializer._serializers()[0].migrate(dct)
    workflow = serializer._generic_load(dct, definition.spec, definition.subprocess_specs)
    workflow.script_engine = serializer.RESTRICTED_ENGINE
    return workflow


def _task_view(task: Any) -> dict[str, Any]:
    attrs = dict(vars(task))
    attrs["workflow"] = type(attrs["workflow"])
    attrs["task_spec"] = task.task_spec.name
    return attrs


def _workflow_view(workflow: BpmnWorkflow) -> dict[str, Any]:
    return {
        "tasks": {key: _task_view(task) for key, task in workflow.tasks.items()},
        "order": list(workflow.tasks),
        "root": workflow.task_tree.id,
        "last_task": workflow.last_task.id if workflow.last_task is not None else None,
        "success": workflow.success, "completed": workflow.completed, "data": workflow.data,
        "correlations": workflow.correlations, "bpmn_events": workflow.bpmn_events,
        "subprocesses": workflow.subprocesses, "script_engine": workflow.script_engine,
        "events": sorted(str(t.id) for t in workflow.event_manager.tasks) if hasattr(workflow, "event_manager")
        else None,
    }


def _states(definition: ProcessDefinition) -> Iterator[BpmnWorkflow]:
    """Walk one instance through submit, a rejection at every level, resubmission and approval."""
    workflow = engine.start(definition)
    yield workflow
    levels = len(definition.meta["levels"])
    for reject_at in range(levels):
        steps = engine.pending(definition, workflow)
        engine.complete(definition, workflow, steps[0].task_id, {})  # the student submits
        yield workflow
        for level in range(reject_at + 1):
            decision = "reject" if level == reject_at else "approve"
            steps = engine.pending(definition, workflow)
            engine.complete(definition, workflow, steps[0].task_id,
                            {"decision": decision, "comment": "请核对生源地" if decision == "reject" else ""})
            yield workflow
    steps = engine.pending(definition, workflow)
    engine.complete(definition, workflow, steps[0].task_id, {})
    yield workflow
    while steps := engine.pending(definition, workflow):
        engine.complete(definition, workflow, steps[0].task_id, {"decision": "approve", "comment": ""})
        yield workflow
    assert workflow.completed


@pytest.mark.parametrize("bpmn", BPMN_FILES)
@pytest.mark.parametrize("with_data", [False, True])
def test_fast_path_equals_spiff_converters(bpmn: str, with_data: bool) -> None:
    definition = _definition(bpmn)
    seen = 0
    for workflow in _states(definition):
        if with_data:  # data that differs between a task and its parent exercises the deltas
            workflow.data["round"] = seen
            for i, task in enumerate(workflow.tasks.values()):
                if i % 3 == 1:
                    task.data.update({"note": f"第{i}步", "n": i, "ok": True, "x": 1.5, "none": None})
                if i % 4 == 2:
                    task.data.pop("note", None)
                    task.internal_data["event_fired"] = True
        assert serializer._fast_to_dict(workflow) is not None, "the shipped diagrams must take the fast path"
        fast_text = serializer.dump_instance(workflow, definition.sha256)
        generic_text = serializer._generic_dump(workflow, definition.sha256)
        assert json.loads(fast_text) == json.loads(generic_text)  # the text differs only in \u escapes

        fast = serializer.load_instance(fast_text, definition.spec, definition.subprocess_specs, definition.sha256)
        generic = _generic_load(generic_text, definition)
        assert _workflow_view(fast) == _workflow_view(generic)

        # and both restored instances behave the same from here on
        for restored in (fast, generic):
            steps = engine.pending(definition, restored)
            if steps:
                engine.complete(definition, restored, steps[0].task_id, {"decision": "approve", "comment": ""})
        fast_next = json.loads(serializer._generic_dump(fast, definition.sha256))
        generic_next = json.loads(serializer._generic_dump(generic, definition.sha256))
        for doc in (fast_next, generic_next):  # tasks created after the load get new ids and clocks
            doc["tasks"] = sorted(json.dumps([t["task_spec"], t["state"], t["data"], t["delta"]], sort_keys=True)
                                  for t in doc["tasks"].values())
            doc.pop("root"), doc.pop("last_task")
        assert fast_next == generic_next
        seen += 1
    assert seen >= 8


def test_ready_human_tasks_match_spiffs_iterator() -> None:
    from SpiffWorkflow.util.task import TaskState

    definition = _definition("graduate_report_three_level.bpmn")
    for workflow in _states(definition):
        spiff = workflow.get_tasks(state=TaskState.READY, manual=True)
        assert engine._ready_human_tasks(workflow) == spiff


@pytest.mark.parametrize("value", [{"nested": {"a": 1}}, datetime(2026, 6, 30, 12, 0), [1, 2], float("nan"), 2**70])
def test_anything_else_takes_the_generic_path_and_round_trips(value: Any) -> None:
    definition = _definition("graduate_report.bpmn")
    workflow = engine.start(definition)
    steps = engine.pending(definition, workflow)
    task = workflow.get_task_from_id(__import__("uuid").UUID(steps[0].task_id))
    task.data["value"] = value
    assert serializer._fast_to_dict(workflow) is None or isinstance(value, int)
    text = serializer.dump_instance(workflow, definition.sha256)
    restored = serializer.load_instance(text, definition.spec, definition.subprocess_specs, definition.sha256)
    got = restored.get_task_from_id(task.id).data["value"]
    if isinstance(value, float):
        assert got != got  # NaN survives as NaN, not as null
    else:
        assert got == value
    assert _workflow_view(restored) == _workflow_view(_generic_load(text, definition))


def test_an_instance_is_never_loaded_with_another_spec() -> None:
    definition = _definition("graduate_report.bpmn")
    other = _definition("graduate_report_three_level.bpmn")
    text = serializer.dump_instance(engine.start(definition), definition.sha256)
    with pytest.raises(serializer.SpecMismatch):
        serializer.load_instance(text, other.spec, other.subprocess_specs, other.sha256)
