"""Where a student can be reached: the bound account (in-app), the report's e-mail and phone,
else the roster's phone."""

from __future__ import annotations

from typing import Any

from service.models import RosterStudent, notify_statements
from service.services.notify.outbox import Recipient


def _contact(data: dict[str, Any] | None, roster_fields: dict[str, Any] | None) -> tuple[str, str]:
    other = (data or {}).get("other") or {}
    roster_fields = roster_fields or {}
    email = str(other.get("email") or roster_fields.get("email") or "").strip()
    phone = str(other.get("phone") or roster_fields.get("phone") or "").strip()
    return email, phone


def from_context(record_id: int, ctx: dict[str, Any]) -> Recipient:
    """The recipient from models.notify_statements.message_context (the hot path's one query)."""
    email, phone = _contact(ctx["data"], ctx["roster_fields"])
    return Recipient(school=ctx["school"], name=ctx["name"], recipient=ctx["student_no"], user_id=ctx["user_id"],
                     record_id=record_id, student_id=ctx["student_id"], email=email, phone=phone)


def for_record(record_id: int) -> Recipient | None:
    """The recipient of a record's messages (the same one query the review hot path uses)."""
    ctx = notify_statements.message_context(record_id, "")
    return from_context(record_id, ctx) if ctx is not None else None


def for_roster_student(student: RosterStudent) -> Recipient:
    email, phone = _contact(None, student.fields)
    return Recipient(school=student.school_id, name=student.name, recipient=student.student_no,
                     student_id=student.id, email=email, phone=phone)
