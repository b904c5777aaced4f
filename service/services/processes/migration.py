"""Move waiting instances to a newer process version with SpiffWorkflow's diff utilities.

An instance is refused when a task whose spec changed (or was removed) has already run in it:
its history would no longer match the diagram it claims to follow. Each migration is audited.

The report is broken down by each record's current status, for the review page and the CLI: how
many would move and to which status (a dry run migrates the loaded workflow in memory, so the
status it shows is the one a real run gives); how many are refused, why (naming the element's id
and name), which records, and what they still go through in their own version.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from service.db import write_transaction
from service.errors import NotFound
from service.models import PendingTask, ProcessInstance, Record, School, utcnow
from service.services import audit, processes
from service.services.actors import SYSTEM, Actor
from service.services.transitions import pending_rows
from service.workflow import engine
from service.workflow.definitions import ProcessDefinition
from service.workflow.serializer import registry

CONCURRENT_CHANGE = "迁移期间记录被他人修改"


@dataclass
class Refusal:
    """Records of one status and one old version refused for one reason."""

    reason: str  # Chinese, names every element by name and id
    elements: list[dict[str, str]]  # [{"element_id", "element_name"}]
    from_version: int
    remaining: list[str]  # status labels still ahead in the old version, the current one first
    record_ids: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.record_ids)

    @property
    def next_text(self) -> str:
        """E.g. 仍按版本 1：中心待审 → 完成"""
        return f"仍按版本 {self.from_version}：" + " → ".join(self.remaining)


@dataclass
class StatusBreakdown:
    """What a migration does to the records now at one status."""

    status: str
    moves: Counter = field(default_factory=Counter)  # status in the target version -> count
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def moved(self) -> int:
        return sum(self.moves.values())

    @property
    def refused(self) -> int:
        return sum(r.count for r in self.refusals)

    @property
    def total(self) -> int:
        return self.moved + self.refused

    def refuse(self, reason: str, elements: list[dict[str, str]], from_version: int, remaining: list[str],
               record_id: int) -> None:
        for refusal in self.refusals:
            if (refusal.reason, refusal.from_version) == (reason, from_version):
                refusal.record_ids.append(record_id)
                return
        self.refusals.append(Refusal(reason, elements, from_version, remaining, [record_id]))


@dataclass
class MigrationReport:
    target_version: int
    dry_run: bool
    school: str | None = None
    migrated: int = 0
    refused: Counter = field(default_factory=Counter)
    unchanged: int = 0
    details: list[tuple[int, str]] = field(default_factory=list)  # (record_id, reason) for refusals
    by_status: dict[str, StatusBreakdown] = field(default_factory=dict)

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    def breakdown(self) -> list[StatusBreakdown]:
        """Per current status, in the order statuses were first met (records in id order)."""
        return list(self.by_status.values())

    def breakdown_json(self) -> list[dict[str, Any]]:
        """The breakdown as JSON-ready dicts (for an API or a page script)."""
        return [{
            "status": row.status, "total": row.total, "moved": row.moved, "refused": row.refused,
            "moves": [{"status": status, "count": count} for status, count in row.moves.most_common()],
            "refusals": [{"reason": r.reason, "elements": r.elements, "from_version": r.from_version,
                          "remaining": r.remaining, "next": r.next_text, "count": r.count,
                          "record_ids": r.record_ids} for r in row.refusals],
        } for row in self.breakdown()]

    def _status(self, status: str) -> StatusBreakdown:
        return self.by_status.setdefault(status, StatusBreakdown(status))

    def _refuse(self, inst: ProcessInstance, reason: str, elements: list[dict[str, str]], old_def: ProcessDefinition,
                workflow: Any | None) -> None:
        self.refused[reason] += 1
        self.details.append((inst.record.id, reason))
        remaining = remaining_path(old_def, workflow) if workflow is not None else [inst.status]
        self._status(inst.status).refuse(reason, elements, inst.version_id, remaining or [inst.status],
                                         inst.record.id)


def migrate(target_ref: str, *, dry_run: bool = False, actor: Actor = SYSTEM,
            school: str | None = None) -> MigrationReport:
    """Move every waiting instance (of one school, when given) that can move to the target version."""
    target = processes.find_version(target_ref)
    new_def = processes.definition(target.id)
    if school is not None and School.get_or_none(School.code == school) is None:
        raise NotFound(f"学校 {school} 不存在", code="school_not_found")
    report = MigrationReport(target.id, dry_run, school)
    where = (ProcessInstance.completed == False) & (ProcessInstance.version != target.id)  # noqa: E712
    if school is not None:
        where &= Record.school == school
    query = ProcessInstance.select(ProcessInstance, Record).join(Record).where(where).order_by(ProcessInstance.id)
    for inst in query:
        old_def = processes.definition(inst.version_id)
        if old_def.process_id != new_def.process_id:
            reason = (f"流程不同：「{old_def.meta.get('name', '')}」（{old_def.process_id}）与"
                      f"「{new_def.meta.get('name', '')}」（{new_def.process_id}）不是同一流程，不能迁移")
            report._refuse(inst, reason, [{"element_id": new_def.process_id,
                                           "element_name": new_def.meta.get("name", "")}],
                           old_def, engine.load(old_def, inst.state))
            continue
        workflow = engine.load(old_def, inst.state)
        top_diff, sub_diffs = diff_workflow(registry(), workflow, new_def.spec, new_def.subprocess_specs)
        ran = {t.task_spec.name: t.task_spec for t in top_diff.changed + top_diff.removed
               if t.state & TaskState.COMPLETED}
        if ran:
            elements = [{"element_id": name, "element_name": getattr(spec, "bpmn_name", None) or ""}
                        for name, spec in sorted(ran.items())]
            reason = "已执行过的环节在新版本中有改动：" + "、".join(_named(e) for e in elements)
            report._refuse(inst, reason, elements, old_def, workflow)
            continue
        migrate_workflow(top_diff, workflow, new_def.spec)
        workflow.subprocess_specs = new_def.subprocess_specs
        engine.run_engine_steps(workflow)
        snap = engine.snapshot(new_def, workflow)
        if dry_run:
            report.migrated += 1
            report._status(inst.status).moves[snap.status] += 1
            continue
        if not _save(inst, workflow, snap, old_def, new_def, target.id, actor):
            report._refuse(inst, CONCURRENT_CHANGE, [], old_def, None)
            continue
        report.migrated += 1
        report._status(inst.status).moves[snap.status] += 1
    return report


def _save(inst: ProcessInstance, workflow: Any, snap: engine.Snapshot, old_def: ProcessDefinition,
          new_def: ProcessDefinition, target_id: int, actor: Actor) -> bool:
    """Store the migrated instance, its pending tasks and the audit event in one transaction."""
    state = engine.dump(new_def, workflow)
    with write_transaction():
        updated = (ProcessInstance
                   .update(version=target_id, state=state, status=snap.status, report_status=snap.report_status,
                           role=snap.role, completed=snap.completed, lock_version=inst.lock_version + 1,
                           updated_at=utcnow())
                   .where((ProcessInstance.id == inst.id) & (ProcessInstance.lock_version == inst.lock_version))
                   .execute())
        if updated != 1:
            return False
        PendingTask.delete().where(PendingTask.instance == inst.id).execute()
        rows = pending_rows(inst.id, inst.record.id, inst.record.school_id, inst.record.college_id,
                            inst.record.major_id, snap.pending)
        if rows:
            PendingTask.insert_many(rows).execute()
        audit.append(audit.record_chain(inst.record.id), record=inst.record.id, instance=inst.id,
                     school=inst.record.school_id, actor=actor.username, actor_role=actor.role,
                     action="migrate", status_before=inst.status, status_after=snap.status,
                     process_version=new_def.sha256,
                     data_changed={"from_version": old_def.sha256, "to_version": new_def.sha256})
    return True


def _named(element: dict[str, str]) -> str:
    name, element_id = element["element_name"], element["element_id"]
    return f"「{name}」（{element_id}）" if name else element_id


def remaining_path(definition: ProcessDefinition, workflow: Any) -> list[str]:
    """Status labels a waiting instance still goes through in its version when every review passes.

    From each ready human task, the shortest way through the diagram to an end event: in a review
    chain that is the run of approvals (a rejection goes back, so it is never shorter). Read from
    the spec and the version's task metadata; no status or decision is named here.
    """
    tasks, ends = definition.meta.get("tasks", {}), definition.meta.get("ends", {})
    ready = [t.task_spec for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.name in tasks]
    best: list[str] = []
    for start in ready:
        path = _shortest_to_end(start, ends)
        labels = [tasks[name]["status"] if name in tasks else ends[name].get("status", "")
                  for name in path if name in tasks or name in ends]
        labels = [label for i, label in enumerate(labels) if label and (i == 0 or label != labels[i - 1])]
        if labels and (not best or len(labels) < len(best)):
            best = labels
    return best


def _shortest_to_end(start: Any, ends: dict[str, Any]) -> list[str]:
    """Names of the human tasks and the end event on the shortest path from start to an end event."""
    previous: dict[str, str | None] = {start.name: None}
    queue = deque([start])
    while queue:
        spec = queue.popleft()
        if spec.name in ends:
            path = []
            name: str | None = spec.name
            while name is not None:
                path.append(name)
                name = previous[name]
            return list(reversed(path))
        for output in spec.outputs:
            if output.name not in previous:
                previous[output.name] = spec.name
                queue.append(output)
    return [start.name]
