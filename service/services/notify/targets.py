"""Students who still have to act, for the deadline reminders: unbound roster students and records
waiting for the student (never submitted, or rejected and not yet revised)."""

from __future__ import annotations

from collections.abc import Iterator

from service.models import PendingTask, Record, RosterStudent
from service.services import processes
from service.services.notify import recipients
from service.services.notify.outbox import Recipient

UNBOUND_LABEL = "未绑定"  # a product state before any process starts, not a BPMN status


def open_students(school_code: str, *, skip_students: frozenset[str] = frozenset(),
                  skip_colleges: frozenset[int] = frozenset()) -> Iterator[tuple[Recipient, str]]:
    """(recipient, state label) of each student of the school who still has to act."""
    submitter = processes.active_definition(school_code)[1].submitter_role
    waiting = (Record.select(Record.id, Record.student_no, Record.college, PendingTask.status.alias("status"))
               .join(PendingTask, on=(PendingTask.record == Record.id))
               .where((Record.school == school_code) & (PendingTask.role == submitter))
               .order_by(Record.id).objects())
    for row in waiting:
        if row.student_no in skip_students or row.college_id in skip_colleges:
            continue
        to = recipients.for_record(row.id)
        if to is not None:
            yield to, row.status
    bound = Record.select(Record.student).where((Record.school == school_code) & Record.student.is_null(False))
    unbound = (RosterStudent.select()
               .where((RosterStudent.school == school_code) & (RosterStudent.eligible == True)  # noqa: E712
                      & RosterStudent.id.not_in(bound))
               .order_by(RosterStudent.id))
    for student in unbound:
        if student.student_no in skip_students or student.college_id in skip_colleges:
            continue
        yield recipients.for_roster_student(student), UNBOUND_LABEL
