"""The in-app message centre: a person's own messages, newest first, and marking them read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from peewee import Expression

from service.errors import NotFound
from service.models import Notification, Record, utcnow
from service.services.actors import Actor

PAGE_SIZE = 50


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    subject: str
    body: str
    created_at: datetime
    read: bool

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "kind": self.kind, "subject": self.subject, "body": self.body,
                "created_at": self.created_at.isoformat(), "read": self.read}


def _mine(actor: Actor) -> Expression:
    """The actor's messages: sent to the account, or (a reminder before binding) to its roster entry."""
    mine = Notification.user == (actor.user_id or -1)
    if actor.record_id is None:
        return mine
    roster = Record.select(Record.student).where((Record.id == actor.record_id) & Record.student.is_null(False))
    return mine | (Notification.user.is_null() & Notification.student.in_(roster))


def unread_count(actor: Actor) -> int:
    if actor.user_id is None:
        return 0
    return Notification.select().where(_mine(actor) & Notification.read_at.is_null()).count()


def messages(actor: Actor, *, page: int = 1) -> list[Message]:
    if actor.user_id is None:
        return []
    rows = (Notification.select().where(_mine(actor))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .paginate(max(page, 1), PAGE_SIZE))
    return [Message(n.id, n.kind, n.subject, n.body, n.created_at.replace(tzinfo=UTC), n.read_at is not None)
            for n in rows]


def mark_read(actor: Actor, message_id: int | None = None) -> int:
    """One message (404 when it is not the actor's) or all of them; returns how many changed."""
    query = Notification.update(read_at=utcnow()).where(_mine(actor) & Notification.read_at.is_null())
    if message_id is None:
        return query.execute()
    if not Notification.select().where(_mine(actor) & (Notification.id == message_id)).exists():
        raise NotFound("消息不存在")
    return query.where(Notification.id == message_id).execute()
