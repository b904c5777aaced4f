"""代为提交: complete the student's pending submit task as a reviewer, audited as on-behalf.

The report goes through the checks of the student's own submit (student_report.checked_submission:
editable, the student's deadline, the whole report valid). The step is an ordinary transition
(transitions.complete_task): one transaction, behind the instance's lock_version (409 when someone
acted first), its audit event on the record's chain with the reviewer as actor, action
`submit_on_behalf` and `on_behalf_of` naming the student. Inside that transaction the record is
read again: a student who bound meanwhile makes the step fail instead of being acted for.
"""

from __future__ import annotations

from datetime import datetime

from service.config import Settings
from service.errors import StaleVersion
from service.models import PendingTask, Record
from service.services import records, student_report
from service.services.actors import Actor
from service.services.on_behalf import policy
from service.services.transitions import TransitionResult, complete_task

ACTION = "submit_on_behalf"


def submit_on_behalf(actor: Actor, record_id: int, settings: Settings, *, expected_version: int | None = None,
                     now: datetime | None = None) -> TransitionResult:
    """Submit the record for its student (who has no account); it moves to the next review level."""
    rec, inst = records.load_visible(actor, record_id)  # out of scope: 404
    pending = records.pending_tasks(rec.id)
    refused = policy.refusal(actor, rec, inst, pending, records.edit_refusal(actor, inst, pending))
    if refused is not None:
        raise refused
    if expected_version is not None and expected_version != inst.lock_version:
        raise StaleVersion()
    write = student_report.checked_submission(rec, inst, settings, now=now)
    task, _ = policy.on_behalf_task(inst, pending)
    assert task is not None  # refusal() returned None, so a submit task is pending
    row = PendingTask.get_or_none((PendingTask.record == rec.id) & (PendingTask.task_name == task["task"]))
    if row is None:
        raise StaleVersion()

    def write_if_still_without_account() -> None:
        if Record.select(Record.user).where(Record.id == rec.id).scalar() is not None:
            raise policy.StudentHasAccount()
        write()

    return complete_task(rec.id, actor, task_id=row.task_id, on_behalf=True, expected_version=inst.lock_version,
                         extra_write=write_if_still_without_account, action=ACTION,
                         data_changed={"on_behalf_of": rec.student_no})
