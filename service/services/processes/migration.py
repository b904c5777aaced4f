"""Move waiting instances to a newer process version with SpiffWorkflow's diff utilities.

An instance is refused when a task whose spec changed (or was removed) has already run in it:
its history would no longer match the diagram it claims to follow. Each migration is audited.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from service.db import write_transaction
from service.models import PendingTask, ProcessInstance, Record, utcnow
from service.services import audit, processes
from service.services.actors import SYSTEM, Actor
from service.services.transitions import pending_rows
from service.workflow import engine
from service.workflow.serializer import registry


@dataclass
class MigrationReport:
    target_version: int
    dry_run: bool
    migrated: int = 0
    refused: Counter = field(default_factory=Counter)
    unchanged: int = 0
    details: list[tuple[int, str]] = field(default_factory=list)  # (record_id, reason) for refusals

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())


def migrate(target_ref: str, *, dry_run: bool = False, actor: Actor = SYSTEM) -> MigrationReport:
    target = processes.find_version(target_ref)
    new_def = processes.definition(target.id)
    report = MigrationReport(target.id, dry_run)
    query = (ProcessInstance.select(ProcessInstance, Record)
             .join(Record)
             .where((ProcessInstance.completed == False) & (ProcessInstance.version != target.id))  # noqa: E712
             .order_by(ProcessInstance.id))
    for inst in query:
        old_def = processes.definition(inst.version_id)
        if old_def.process_id != new_def.process_id:
            reason = f"流程标识不同（{old_def.process_id} → {new_def.process_id}），不能迁移"
            report.refused[reason] += 1
            report.details.append((inst.record.id, reason))
            continue
        workflow = engine.load(old_def, inst.state)
        top_diff, sub_diffs = diff_workflow(registry(), workflow, new_def.spec, new_def.subprocess_specs)
        ran = [t.task_spec.name for t in top_diff.changed + top_diff.removed if t.state & TaskState.COMPLETED]
        if ran:
            reason = "已执行过的环节在新版本中有改动：" + "、".join(sorted(set(ran)))
            report.refused[reason] += 1
            report.details.append((inst.record.id, reason))
            continue
        if dry_run:
            report.migrated += 1
            continue
        migrate_workflow(top_diff, workflow, new_def.spec)
        workflow.subprocess_specs = new_def.subprocess_specs
        workflow.do_engine_steps()
        snap = engine.snapshot(new_def, workflow)
        state = engine.dump(new_def, workflow)
        with write_transaction():
            updated = (ProcessInstance
                       .update(version=target.id, state=state, status=snap.status, report_status=snap.report_status,
                               role=snap.role, completed=snap.completed, lock_version=inst.lock_version + 1,
                               updated_at=utcnow())
                       .where((ProcessInstance.id == inst.id) & (ProcessInstance.lock_version == inst.lock_version))
                       .execute())
            if updated != 1:
                report.refused["迁移期间记录被他人修改"] += 1
                report.details.append((inst.record.id, "迁移期间记录被他人修改"))
                continue
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
        report.migrated += 1
    return report
