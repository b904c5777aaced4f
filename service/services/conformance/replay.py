"""One record's history replayed against the diagram it ran on, and its stored state compared.

The audit chain proves that events were not edited or removed; it cannot prove that the events
themselves are ones the diagram allows, since anyone holding the key (or a bug) can append a
well-hashed event that skips a level. This replay is that second check: every event must start
from the status the previous one left, every step must be a task the diagram had reached, taken
by the task's lane, ending where the engine would end; and the stored status, the engine state and
the pending tasks must agree with each other and with the last event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from service.services.conformance.rules import ProcessRules

READY = 16  # SpiffWorkflow's TaskState.READY in a serialized task
MIGRATE = "migrate"


class Event(NamedTuple):
    seq: int
    event_id: int
    action: str
    task: str
    decision: str
    actor_role: str
    status_before: str
    status_after: str
    process_version: str


class Stored(NamedTuple):
    """What the database says now about a record: its row, its instance, its pending tasks."""

    record_id: int
    school: str
    review_status: str | None
    instance_id: int | None
    status: str | None
    completed: bool
    version_sha: str | None
    state: str | bytes | None
    pending: list[tuple[str, str]]  # (task name, status)


@dataclass(frozen=True)
class Finding:
    record_id: int
    school: str
    kind: str
    message: str
    seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "school": self.school, "kind": self.kind, "message": self.message,
                "seq": self.seq}


KINDS = {
    "no_events": "没有审计事件",
    "bad_start": "起点不符",
    "gap": "状态改变没有事件",
    "not_reached": "未到达的任务",
    "forbidden": "流程图不允许的流转",
    "wrong_role": "办理角色不符",
    "unknown_version": "未知流程版本",
    "unknown_task": "未知任务",
    "untasked_change": "无任务的状态改变",
    "stored_status": "当前状态与事件不符",
    "record_status": "记录状态与实例不符",
    "engine_state": "引擎状态不符",
    "pending_tasks": "待办任务不符",
    "version": "版本不符",
}


def check_record(stored: Stored, events: list[Event], rules_of: Callable[[str], ProcessRules | None]
                 ) -> list[Finding]:
    """Every way this record's history or state departs from its diagram (empty: it conforms)."""
    out: list[Finding] = []

    def found(kind: str, message: str, seq: int | None = None) -> None:
        out.append(Finding(stored.record_id, stored.school, kind, message, seq))

    if stored.instance_id is None:
        if events:
            found("engine_state", "记录有审计事件，但没有流程实例")
        return out
    if not events:
        found("no_events", "记录有流程实例，但没有任何审计事件")
        return out
    current: str | None = None
    version: str | None = None
    for ev in events:
        if not ev.task and not ev.status_before and not ev.status_after:
            continue  # about the student's account (password reset, recovery …), not the process
        if current is None:
            if not _starts(ev):
                found("bad_start", f"第 {ev.seq} 条事件（{ev.action}）之前没有创建流程实例的事件", ev.seq)
                current = ev.status_before or None
            else:
                rules = rules_of(ev.process_version)
                version = ev.process_version
                if rules is None:
                    found("unknown_version", f"第 {ev.seq} 条事件的流程版本 {ev.process_version[:12]} 未部署", ev.seq)
                elif ev.status_after != rules.initial_status:
                    found("bad_start", f"记录创建于「{ev.status_after}」，流程图的起点是「{rules.initial_status}」", ev.seq)
                current = ev.status_after
                continue
        if ev.status_before != current:
            found("gap", f"第 {ev.seq} 条事件从「{ev.status_before}」出发，但此前的事件使记录处于「{current}」："
                         "其间的状态改变没有事件", ev.seq)
        if ev.action == MIGRATE:
            rules = rules_of(ev.process_version)
            if rules is None:
                found("unknown_version", f"第 {ev.seq} 条事件迁移到的流程版本 {ev.process_version[:12]} 未部署", ev.seq)
            elif ev.status_after not in rules.statuses:
                found("forbidden", f"第 {ev.seq} 条事件迁移后处于「{ev.status_after}」，新版本流程图没有这个状态", ev.seq)
            current, version = ev.status_after, ev.process_version
            continue
        if not ev.task:
            if ev.status_after != ev.status_before:
                found("untasked_change", f"第 {ev.seq} 条事件（{ev.action}）不是任何任务，却把状态从"
                                         f"「{ev.status_before}」改为「{ev.status_after}」", ev.seq)
            current = ev.status_after
            continue
        version = ev.process_version
        rules = rules_of(ev.process_version)
        if rules is None:
            found("unknown_version", f"第 {ev.seq} 条事件的流程版本 {ev.process_version[:12]} 未部署", ev.seq)
            current = ev.status_after
            continue
        _check_step(ev, rules, found)
        current = ev.status_after
    _check_stored(stored, current, version, rules_of, found)
    return out


def _starts(ev: Event) -> bool:
    """The event that created the instance (transitions.start_instance: created, bound, added …):
    it comes from no status and completes no task."""
    return not ev.status_before and not ev.task and bool(ev.status_after)


def _check_step(ev: Event, rules: ProcessRules, found: Callable[..., None]) -> None:
    title = rules.task_title.get(ev.task)
    if title is None:
        found("unknown_task", f"第 {ev.seq} 条事件办理的任务 {ev.task} 不在该版本的流程图中", ev.seq)
        return
    at = rules.task_status[ev.task]
    if at != ev.status_before:
        found("not_reached", f"第 {ev.seq} 条事件在「{ev.status_before}」时办理了「{title}」：流程尚未到达该任务"
                             f"（它在「{at}」时办理）", ev.seq)
    allowed = rules.allowed_after(ev.task, ev.decision)
    if ev.status_after not in allowed:
        decided = f"（决定 {ev.decision}）" if ev.decision else ""
        may = "、".join(f"「{s}」" for s in sorted(allowed)) or "无"
        found("forbidden", f"第 {ev.seq} 条事件「{title}」{decided}使状态变为「{ev.status_after}」，"
                           f"流程图只允许：{may}", ev.seq)
    if not rules.may_take(ev.task, ev.actor_role, ev.action):
        found("wrong_role", f"第 {ev.seq} 条事件「{title}」由角色 {ev.actor_role} 办理，"
                            f"该任务属于 {rules.task_role[ev.task]}", ev.seq)


def _check_stored(stored: Stored, replayed: str | None, version: str | None,
                  rules_of: Callable[[str], ProcessRules | None], found: Callable[..., None]) -> None:
    if stored.status != replayed:
        found("stored_status", f"实例当前状态「{stored.status}」，但审计事件最后使记录处于「{replayed}」："
                               "状态改变没有对应的事件")
    if stored.review_status != stored.status:
        found("record_status", f"记录表中的状态「{stored.review_status}」与流程实例的状态「{stored.status}」不一致")
    if version is not None and stored.version_sha != version:
        found("version", f"实例运行在版本 {str(stored.version_sha)[:12]}，最后的事件记录的是 {version[:12]}")
    rules = rules_of(stored.version_sha or "")
    if rules is None or stored.state is None:
        return
    try:
        doc = orjson.loads(stored.state)
        ready = {t["task_spec"] for t in doc["tasks"].values()
                 if t["state"] == READY and t["task_spec"] in rules.task_status}
        ended = bool(doc.get("completed"))
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        found("engine_state", "流程实例的引擎状态无法读取")
        return
    engine_statuses = {rules.task_status[name] for name in ready}
    if ended != stored.completed:
        found("engine_state", f"引擎{'已' if ended else '未'}结束，实例却标为{'已完成' if stored.completed else '未完成'}")
    if ready and stored.status not in engine_statuses:
        found("engine_state", f"引擎停在「{'、'.join(sorted(engine_statuses))}」，实例状态却是「{stored.status}」")
    if not ready and not ended:
        found("engine_state", "引擎没有待办任务，也没有结束")
    if ended and stored.status not in rules.end_statuses:
        found("engine_state", f"引擎已结束，实例状态却是「{stored.status}」")
    pending_names = {name for name, _ in stored.pending}
    if pending_names != ready:
        found("pending_tasks", f"待办任务 {sorted(pending_names) or '无'} 与引擎的 {sorted(ready) or '无'} 不一致")
    for name, status in stored.pending:
        if rules.task_status.get(name, status) != status:
            found("pending_tasks", f"待办任务 {name} 记为「{status}」，流程图中它在「{rules.task_status[name]}」")
