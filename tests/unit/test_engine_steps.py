"""engine.run_engine_steps does what SpiffWorkflow's do_engine_steps does, only faster.

Two instances of the same spec are driven side by side, one with Spiff's loop and one with
gradflow's, completing the same human task with the same data each time. After every step the
automatic tasks each ran (in order) and the whole tree (spec, state, data, depth-first) must be
equal. The shipped diagrams are walked through every rejection and approval; two hand-written
diagrams add what they lack: a parallel split and join with an exclusive gateway on the data,
(two automatic tasks READY in one pass, so their order shows) and an embedded subprocess (where
gradflow's loop hands over to Spiff's).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from service.config import PROJECT_ROOT
from service.workflow import engine
from service.workflow.definitions import parse_process
from service.workflow.expressions import RESTRICTED_ENGINE

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')

PARALLEL = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="d" targetNamespace="t">
  <bpmn:process id="parallel" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="merge"/>
    <bpmn:exclusiveGateway id="merge"/>
    <bpmn:sequenceFlow id="f0" sourceRef="merge" targetRef="split"/>
    <bpmn:parallelGateway id="split"/>
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="to_a"/>
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="to_b"/>
    <bpmn:exclusiveGateway id="to_a" default="f2a"/>
    <bpmn:exclusiveGateway id="to_b" default="f3b"/>
    <bpmn:sequenceFlow id="f2a" sourceRef="to_a" targetRef="a"/>
    <bpmn:sequenceFlow id="f3b" sourceRef="to_b" targetRef="b"/>
    <bpmn:userTask id="a"/>
    <bpmn:userTask id="b"/>
    <bpmn:sequenceFlow id="f4" sourceRef="a" targetRef="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="b" targetRef="join"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="choose"/>
    <bpmn:exclusiveGateway id="choose" default="f8"/>
    <bpmn:sequenceFlow id="f7" sourceRef="choose" targetRef="again">
      <bpmn:conditionExpression>decision == "reject"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f8" sourceRef="choose" targetRef="done"/>
    <bpmn:userTask id="again"/>
    <bpmn:sequenceFlow id="f9" sourceRef="again" targetRef="merge"/>
    <bpmn:endEvent id="done"/>
  </bpmn:process>
</bpmn:definitions>"""

SUBPROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="d" targetNamespace="t">
  <bpmn:process id="nested" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="inner"/>
    <bpmn:subProcess id="inner">
      <bpmn:startEvent id="inner_start"/>
      <bpmn:sequenceFlow id="g1" sourceRef="inner_start" targetRef="inner_task"/>
      <bpmn:userTask id="inner_task"/>
      <bpmn:sequenceFlow id="g2" sourceRef="inner_task" targetRef="inner_end"/>
      <bpmn:endEvent id="inner_end"/>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="inner" targetRef="after"/>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def _spiff_spec(xml: str, process_id: str, tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    path = tmp_path / f"{process_id}.bpmn"
    path.write_text(xml, encoding="utf-8")
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(path))
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def _tree(workflow: BpmnWorkflow) -> list[tuple[str, int, dict[str, Any]]]:
    """Every task of the instance and its subprocesses, depth-first, as (spec, state, data)."""
    found = []
    for task in workflow.get_tasks(state=TaskState.ANY_MASK):
        found.append((task.task_spec.name, task.state, dict(task.data)))
    return found


def _human(workflow: BpmnWorkflow) -> list[Task]:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


class _Pair:
    """The same spec run twice: `spiff` with Spiff's loop, `ours` with engine.run_engine_steps."""

    def __init__(self, spec: Any, subprocess_specs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
        self.ran: list[str] = []
        original = Task.run

        def recording_run(task: Task) -> Any:
            if not task.task_spec.manual:
                self.ran.append(task.task_spec.name)
            return original(task)

        monkeypatch.setattr(Task, "run", recording_run)
        self.spiff = BpmnWorkflow(spec, subprocess_specs, script_engine=RESTRICTED_ENGINE)
        self.ours = BpmnWorkflow(spec, subprocess_specs, script_engine=RESTRICTED_ENGINE)
        self._advance(lambda: None)

    def _advance(self, act: Callable[[], None]) -> None:
        self.ran.clear()
        act()
        self.spiff.do_engine_steps()
        spiff_ran = list(self.ran)
        self.ran.clear()
        engine.run_engine_steps(self.ours)
        assert self.ran == spiff_ran
        assert _tree(self.ours) == _tree(self.spiff)
        assert self.ours.completed == self.spiff.completed

    def complete(self, index: int, data: dict[str, Any]) -> None:
        theirs, mine = _human(self.spiff), _human(self.ours)
        assert [t.task_spec.name for t in mine] == [t.task_spec.name for t in theirs]

        def act() -> None:
            for task in (theirs[index], mine[index]):
                task.data.update(data)
                task.run()

        self._advance(act)


def _walk(pair: _Pair, data: Callable[[str], dict[str, Any]]) -> int:
    """Complete the first READY human task (with data(its spec name)) until none is left;
    returns how many were completed."""
    done = 0
    while tasks := _human(pair.spiff):
        pair.complete(0, data(tasks[0].task_spec.name))
        done += 1
    return done


@pytest.mark.parametrize("name", ["graduate_report.bpmn", "graduate_report_three_level.bpmn"])
@pytest.mark.parametrize("reject_at", [None, 0, 1, 2])
def test_shipped_diagrams_take_the_same_steps(name: str, reject_at: int | None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    definition = parse_process((PROJECT_ROOT / "bpmn" / name).read_bytes(), name)
    pair = _Pair(definition.spec, definition.subprocess_specs, monkeypatch)
    reviews = iter(range(100))

    def data(task_name: str) -> dict[str, Any]:  # one rejection, at the reject_at-th review
        if definition.task(task_name)["action"] != "review":
            return {}
        return {"decision": "reject", "comment": "请核对生源地"} if next(reviews) == reject_at else {"decision": "approve"}

    assert _walk(pair, data) >= 1 + len(definition.meta["levels"])
    assert pair.spiff.completed and pair.ours.completed


def test_parallel_split_join_and_a_loop_take_the_same_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pair = _Pair(*_spiff_spec(PARALLEL, "parallel", tmp_path), monkeypatch)
    assert [t.task_spec.name for t in _human(pair.spiff)] == ["a", "b"]
    pair.complete(1, {"decision": "approve"})  # b first: the join waits for a
    pair.complete(0, {"decision": "reject"})  # the join fires, the gateway sends it round again
    assert [t.task_spec.name for t in _human(pair.ours)] == ["again"]
    pair.complete(0, {"decision": "reject"})
    pair.complete(0, {"decision": "approve"})
    pair.complete(0, {"decision": "approve"})
    assert pair.ours.completed and pair.spiff.completed


def test_a_subprocess_is_left_to_spiffs_own_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pair = _Pair(*_spiff_spec(SUBPROCESS, "nested", tmp_path), monkeypatch)
    assert pair.ours.subprocesses
    assert [t.task_spec.name for t in _human(pair.ours)] == ["inner_task"]
    assert _walk(pair, lambda _: {}) == 2
    assert pair.ours.completed
