"""Messages caused by review steps and reviewer edits; called inside the step's transaction."""

from __future__ import annotations

from typing import Any

from service.models import School, notify_statements
from service.services.notify import outbox, recipients, templates
from service.validation.sections import FIELD_LABELS


def _school_name(code: str) -> str:
    return School.select(School.name).where(School.code == code).scalar() or ""


def after_review(record_id: int, *, decision: str, comment: str, task_title: str, status_after: str,
                 completed: bool, actor_username: str) -> None:
    """A rejection (with its comment) or the last approval (完成) tells the student."""
    if decision == "reject":
        kind = "rejected"
    elif completed:
        kind = "approved"
    else:
        return
    ctx = notify_statements.message_context(record_id, kind)
    if ctx is None:
        return
    to = recipients.from_context(record_id, ctx)
    default = templates.KINDS[kind]
    words = (templates.Wording(ctx["subject"], ctx["body"], True) if ctx["subject"] is not None
             else templates.Wording(default.subject, default.body, False))
    outbox.enqueue(kind, to, {"学号": to.recipient, "学校": ctx["school_name"], "环节": task_title,
                              "意见": comment, "状态": status_after}, created_by=actor_username, words=words)


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
