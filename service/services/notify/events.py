"""Messages caused by review steps and reviewer edits; called inside the step's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.models import School, notify_statements
from service.services.notify import outbox, recipients, templates
from service.validation.sections import FIELD_LABELS


def _school_name(code: str) -> str:
    return School.select(School.name).where(School.code == code).scalar() or ""


def _review_kind(decision: str, completed: bool) -> str | None:
    if decision == "reject":
        return "rejected"
    return "approved" if completed else None


def _review_rows(record_id: int, ctx: dict[str, Any], kind: str, *, comment: str, task_title: str,
                 status_after: str, actor_username: str) -> notify_statements.MessageRows:
    to = recipients.from_context(record_id, ctx)
    default = templates.KINDS[kind]
    words = (templates.Wording(ctx["subject"], ctx["body"], True) if ctx["subject"] is not None
             else templates.Wording(default.subject, default.body, False))
    return outbox.message_rows(kind, to, {"学号": to.recipient, "学校": ctx["school_name"], "环节": task_title,
                                          "意见": comment, "状态": status_after},
                               created_by=actor_username, words=words)


def after_review(record_id: int, *, decision: str, comment: str, task_title: str, status_after: str,
                 completed: bool, actor_username: str) -> None:
    """A rejection (with its comment) or the last approval (完成) tells the student."""
    kind = _review_kind(decision, completed)
    if kind is None:
        return
    ctx = notify_statements.message_context(record_id, kind)
    if ctx is None:
        return
    rows = _review_rows(record_id, ctx, kind, comment=comment, task_title=task_title, status_after=status_after,
                        actor_username=actor_username)
    note_id = notify_statements.insert_notification(rows.notification)
    for channel, address, due in rows.deliveries:
        notify_statements.insert_delivery(note_id, channel, address, due)


@dataclass(frozen=True)
class ReviewOutcome:
    record_id: int
    decision: str
    comment: str
    task_title: str
    status_after: str
    completed: bool
    actor_username: str


def review_message(outcome: ReviewOutcome, ctx: dict[str, Any]) -> notify_statements.MessageRows | None:
    """after_review's message for one step from a context already read (None: no message)."""
    kind = _review_kind(outcome.decision, outcome.completed)
    if kind is None:
        return None
    return _review_rows(outcome.record_id, ctx, kind, comment=outcome.comment, task_title=outcome.task_title,
                        status_after=outcome.status_after, actor_username=outcome.actor_username)


def review_messages(outcomes: list[ReviewOutcome]) -> dict[int, notify_statements.MessageRows]:
    """after_review's messages for many steps, as rows to write with the steps (record id → rows),
    with one read per kind of message; steps that tell the student nothing are left out."""
    by_kind: dict[str, list[ReviewOutcome]] = {}
    for outcome in outcomes:
        kind = _review_kind(outcome.decision, outcome.completed)
        if kind is not None:
            by_kind.setdefault(kind, []).append(outcome)
    found: dict[int, notify_statements.MessageRows] = {}
    for kind, items in by_kind.items():
        contexts = notify_statements.message_contexts([o.record_id for o in items], kind)
        for o in items:
            ctx = contexts.get(o.record_id)
            if ctx is not None:
                found[o.record_id] = _review_rows(o.record_id, ctx, kind, comment=o.comment, task_title=o.task_title,
                                                  status_after=o.status_after, actor_username=o.actor_username)
    return found


def after_edit(record_id: int, changed: dict[str, Any], *, editor: str, status: str) -> None:
    """A reviewer changed the student's report: say who and which fields (not the values)."""
    if not changed:
        return
    to = recipients.for_record(record_id)
    if to is None:
        return
    names = [FIELD_LABELS.get(key.partition(".")[2], key) for key in changed]
    outbox.enqueue("edited", to, {"学号": to.recipient, "学校": _school_name(to.school), "修改人": editor,
                                  "修改项": "、".join(dict.fromkeys(names)), "状态": status}, created_by=editor)
