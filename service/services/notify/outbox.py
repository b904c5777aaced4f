"""Writing messages: the in-app notification and one delivery per configured push channel.

Call `enqueue` inside the transaction of the change that causes the message: the rows commit or
roll back with it (the outbox pattern), and the sender picks the deliveries up afterwards. Which
channels are on is set once at startup (`configure`), like the audit key, so code deep in a
transition needs no settings object.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service.config import InsecureConfiguration, Settings
from service.models import notify_statements, utcnow
from service.services.notify import templates

EMAIL, WEBHOOK = "email", "webhook"


@dataclass(frozen=True)
class Channels:
    email: bool = False
    webhook: bool = False
    quiet_hours: tuple[int, int] | None = None  # (start, end) in minutes after Beijing midnight


_channels = Channels()


def parse_quiet_hours(text: str) -> tuple[int, int] | None:
    """'22:00-08:00' → (1320, 480); empty → None. A malformed value is a configuration error."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        start, end = (part.strip() for part in text.split("-"))
        minutes = []
        for part in (start, end):
            hour, minute = part.split(":")
            value = int(hour) * 60 + int(minute)
            if not 0 <= value < 24 * 60:
                raise ValueError(part)
            minutes.append(value)
    except ValueError:
        raise ValueError(f"notify_quiet_hours must look like 22:00-08:00, not {text!r}") from None
    return minutes[0], minutes[1]


def configure(settings: Settings) -> None:
    """Which push channels are on (a channel without its settings is off)."""
    global _channels
    if settings.webhook_url and len(settings.webhook_secret) < 16:
        raise InsecureConfiguration("GRADFLOW_WEBHOOK_SECRET must be set (at least 16 characters) when "
                                    "GRADFLOW_WEBHOOK_URL is: the gateway checks every call's signature with it")
    if settings.smtp_security not in ("none", "starttls", "ssl"):
        raise ValueError(f"smtp_security must be none, starttls or ssl, not {settings.smtp_security!r}")
    _channels = Channels(email=bool(settings.smtp_host and settings.smtp_sender),
                         webhook=bool(settings.webhook_url),
                         quiet_hours=parse_quiet_hours(settings.notify_quiet_hours))


def configured_channels() -> Channels:
    return _channels


def after_quiet_hours(now: datetime, quiet: tuple[int, int] | None) -> datetime:
    """The first instant (naive UTC) at or after `now` outside the quiet hours."""
    if quiet is None:
        return now
    start, end = quiet
    local = now.replace(tzinfo=None) + timedelta(hours=8)
    minute = local.hour * 60 + local.minute
    inside = (start <= minute or minute < end) if start > end else (start <= minute < end)
    if not inside:
        return now
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    end_local = datetime(day.year, day.month, day.day, end // 60, end % 60)
    return end_local - timedelta(hours=8)  # Beijing is UTC+8 all year (no daylight saving)


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to and where: the account (in-app), an e-mail address, a phone number."""

    school: str
    name: str
    recipient: str  # 学号 or username, shown in the centre's log
    user_id: int | None = None
    record_id: int | None = None
    student_id: int | None = None
    email: str = ""
    phone: str = ""


def new_uid() -> str:
    return secrets.token_hex(16)


def message_rows(kind: str, to: Recipient, values: dict[str, Any], *, created_by: str = "",
                 now: datetime | None = None, words: templates.Wording | None = None) -> notify_statements.MessageRows:
    """One message and its deliveries as rows, not written (`enqueue` writes them; a review step
    on PostgreSQL writes them in its own statement)."""
    now = now or utcnow()
    words = words or templates.wording(to.school, kind)
    filled = {k: "" if v is None else str(v) for k, v in values.items()}
    filled.setdefault("姓名", to.name)
    rows = notify_statements.MessageRows({
        "uid": new_uid(), "school": to.school, "user": to.user_id, "record": to.record_id, "student": to.student_id,
        "recipient": to.recipient[:64], "kind": kind, "subject": templates.render(words.subject, filled)[:200],
        "body": templates.render(words.body, filled), "created_by": created_by[:64], "created_at": now})
    due = after_quiet_hours(now, _channels.quiet_hours) if templates.KINDS[kind].reminder else now
    if _channels.email and to.email:
        rows.deliveries.append((EMAIL, to.email[:254], due))
    if _channels.webhook and (to.phone or to.user_id or to.email):
        rows.deliveries.append((WEBHOOK, to.phone[:254], due))
    return rows


def enqueue(kind: str, to: Recipient, values: dict[str, Any], *, created_by: str = "",
            now: datetime | None = None, words: templates.Wording | None = None) -> int:
    """Write one message and its deliveries; call inside the causing change's transaction.
    Returns the message id. `words` saves the template lookup when the caller already has it."""
    rows = message_rows(kind, to, values, created_by=created_by, now=now, words=words)
    note_id = notify_statements.insert_notification(rows.notification)
    for channel, address, due in rows.deliveries:
        notify_statements.insert_delivery(note_id, channel, address, due)
    return note_id
