"""A reviewer's 提醒: remind every student a chase list shows (the reviewer's scope, the filter).

The list is the chase service's own (services.chase), so the reminded students are exactly the
listed ones; the messages and one audit event commit together (notify.admin.remind).
"""

from __future__ import annotations

from service.config import Settings
from service.models import RosterStudent
from service.services.actors import Actor
from service.services.chase import query as chase
from service.services.deadlines import store as deadlines
from service.services.deadlines.policy import beijing
from service.services.notify import admin, recipients
from service.services.notify.outbox import Recipient


def remind_listed(actor: Actor, filters: chase.ChaseFilters, settings: Settings) -> int:
    """Remind the students of the actor's chase list under `filters`; returns how many."""
    targets: list[tuple[Recipient, str]] = []
    for row in chase.iter_rows(actor, filters, settings.graduation_year):
        to = recipients.for_record(row.record_id) if row.record_id is not None else None
        if to is None and row.roster_id is not None:
            student = RosterStudent.get_or_none(RosterStudent.id == row.roster_id)
            to = recipients.for_roster_student(student) if student is not None else None
        if to is not None:
            targets.append((to, row.state))
    deadline = deadlines.school_overview(actor.school_code or "", settings).deadline if actor.school_code else None
    return admin.remind(actor, targets, deadline_text=f"截止时间：{beijing(deadline)}。" if deadline else "")
