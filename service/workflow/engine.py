"""Run one review-process instance: start it, find what is pending, complete a task.

Callers get plain data back (PendingStep) and decide about people, scopes and storage.
`task.run()` in SpiffWorkflow checks neither state nor lane, so `complete` checks READY here
and the service checks the actor's lane before calling it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from service.workflow.definitions import ProcessDefinition
from service.workflow.expressions import RESTRICTED_ENGINE, ExpressionError
from service.workflow.serializer import dump_instance, load_instance
from service.workflow.variables import ROUND_KEYS

__all__ = ["ROUND_KEYS", "EvaluationFailed", "NotReady", "PendingStep", "Snapshot", "complete", "dump", "load",
           "pending", "run_engine_steps", "snapshot", "start"]


class NotReady(RuntimeError):
    """The task exists but is not READY (already done, or not yet reached)."""


class EvaluationFailed(RuntimeError):
    """The engine could not go on after the step (a condition failed, no branch matched).

    Deployment checks every gateway, so this happens only with versions stored before those checks;
    the caller discards the in-memory workflow, so nothing is written. `element` is the spec name
    the engine stopped at, when known.
    """

    def __init__(self, message: str, element: str = "") -> None:
        super().__init__(message)
        self.element = element


@dataclass(frozen=True)
class PendingStep:
    task_id: str
    task_name: str
    title: str
    role: str
    status: str
    level: str
    action: str


@dataclass(frozen=True)
class Snapshot:
    """What storage needs after a step: status label, lane role, report status, pending tasks."""

    status: str
    report_status: str
    role: str
    completed: bool
    pending: list[PendingStep]


def start(definition: ProcessDefinition) -> BpmnWorkflow:
    workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=RESTRICTED_ENGINE)
    run_engine_steps(workflow)
    return workflow


# Spiff's tree iterator stops descending at this depth (its max_depth default); kept the same here.
_MAX_DEPTH = 1000


def run_engine_steps(workflow: BpmnWorkflow) -> None:
    """Spiff's do_engine_steps for an instance without subprocesses, with the same passes in the
    same order; Spiff's own loop as soon as a subprocess exists.

    Each pass of Spiff's loop collects the READY tasks with its generic tree iterator (filter
    objects, a call per task), ~70 µs a pass and 2–3 passes a step: a fifth of a review step's
    engine time. The walk below visits the same tasks in the same depth-first order with the same
    descent rule (children of tasks at FUTURE or later, up to depth 1000); tests/unit/
    test_engine_steps.py runs both side by side on the shipped diagrams, a parallel split/join
    and a subprocess, and compares what ran and the whole tree after every step.
    """
    while not workflow.subprocesses:
        ran = 0
        for task in _ready_in_tree_order(workflow):
            if not task.task_spec.manual:
                task.run()
                ran += 1
        if not ran:
            workflow.refresh_timers()
            return
    workflow.do_engine_steps()


def _ready_in_tree_order(workflow: BpmnWorkflow) -> list[Any]:
    """workflow.get_tasks(state=READY) without subprocesses: depth-first, children in order."""
    tasks, ready, future = workflow.tasks, TaskState.READY, TaskState.FUTURE
    found = []
    stack = [(workflow.task_tree, 0)]
    while stack:
        task, depth = stack.pop()
        if task._state & ready:
            found.append(task)
        if task._children and task._state >= future and depth < _MAX_DEPTH:
            stack.extend((tasks.get(child), depth + 1) for child in reversed(task._children))
    return found


def load(definition: ProcessDefinition, state: str) -> BpmnWorkflow:
    return load_instance(state, definition.spec, definition.subprocess_specs, definition.sha256)


def dump(definition: ProcessDefinition, workflow: BpmnWorkflow) -> str:
    return dump_instance(workflow, definition.sha256)


def pending(definition: ProcessDefinition, workflow: BpmnWorkflow, *, clear_round: bool = False) -> list[PendingStep]:
    """The READY human tasks; clear_round also drops the previous round's decision from them."""
    steps = []
    for task in _ready_human_tasks(workflow):
        if clear_round:
            for key in ROUND_KEYS:
                task.data.pop(key, None)
        meta = definition.task(task.task_spec.name)
        steps.append(PendingStep(
            task_id=str(task.id), task_name=meta["name"], title=meta["title"], role=meta["role"],
            status=meta["status"], level=meta["level"], action=meta["action"],
        ))
    return steps


def _ready_human_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """READY manual tasks. Without subprocesses every task is in workflow.tasks, and one pass over
    that dict (creation order) costs ~1 µs against ~20 µs for Spiff's tree iterator, twice a step."""
    if workflow.subprocesses:
        return workflow.get_tasks(state=TaskState.READY, manual=True)
    ready = TaskState.READY
    return [task for task in workflow.tasks.values() if task._state & ready and task.task_spec.manual]


def snapshot(definition: ProcessDefinition, workflow: BpmnWorkflow,
             steps: list[PendingStep] | None = None) -> Snapshot:
    steps = pending(definition, workflow) if steps is None else steps
    if steps:
        first = definition.task(steps[0].task_name)
        return Snapshot(steps[0].status, first["report_status"], steps[0].role, False, steps)
    end = _reached_end(definition, workflow)
    return Snapshot(end["status"], end["report_status"], "", workflow.completed, [])


def _reached_end(definition: ProcessDefinition, workflow: BpmnWorkflow) -> dict[str, Any]:
    ends = definition.meta["ends"]
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        if task.task_spec.name in ends:
            return ends[task.task_spec.name]
    raise RuntimeError("instance has no pending human task and reached no end event")


def complete(definition: ProcessDefinition, workflow: BpmnWorkflow, task_id: str,
             data: dict[str, Any]) -> list[PendingStep]:
    """Complete a READY human task with `data`, run the engine, clear the round's keys.

    Returns the human tasks READY afterwards (what snapshot() needs), from one pass over the tree.
    """
    task = workflow.get_task_from_id(UUID(task_id))
    if task is None or not (task.state & TaskState.READY) or not task.task_spec.manual:
        raise NotReady(task_id)
    for key in ROUND_KEYS:
        task.data.pop(key, None)
    task.data.update(data)
    try:
        task.run()
        run_engine_steps(workflow)
    except (SpiffWorkflowException, ExpressionError) as exc:
        spec = getattr(exc, "task_spec", None) or getattr(getattr(exc, "task", None), "task_spec", None)
        raise EvaluationFailed(str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                               getattr(spec, "name", "") or "") from exc
    for key in ROUND_KEYS:
        workflow.data.pop(key, None)
    return pending(definition, workflow, clear_round=True)
