"""The centre's side: what was sent to whom over which channel, retrying failures, the school's
templates and reminder schedule, and reviewers' on-demand reminders (提醒)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peewee import JOIN, fn

from service.db import write_transaction
from service.errors import InvalidInput, NotFound, PermissionDenied
from service.models import Delivery, Notification, NotifySchedule, NotifyTemplate, School, utcnow
from service.services import audit, review_scope, schools
from service.services.actors import Actor
from service.services.notify import outbox, schedule, templates

LOG_PAGE_SIZE = 50
MAX_REMINDER_DAYS = 30
MAX_REMINDERS_PER_REQUEST = 20000


def _centre_school(actor: Actor) -> str:
    if actor.is_admin or actor.role != review_scope.centre_role(actor) or not actor.school_code:
        raise NotFound()  # the page does not exist for anyone else
    return actor.school_code


def _school_chain(code: str) -> str:
    return schools.school_chain(code)


@dataclass(frozen=True)
class LogRow:
    notification_id: int
    uid: str
    kind: str
    recipient: str
    subject: str
    created_at: datetime
    channel: str  # "inapp" for a message without a push delivery
    delivery_id: int | None
    status: str
    attempts: int
    last_error: str
    sent_at: datetime | None


def delivery_log(actor: Actor, *, status: str = "", page: int = 1) -> tuple[list[LogRow], dict[str, int]]:
    """Messages of the centre's school, newest first, one row per channel; and counts per status."""
    code = _centre_school(actor)
    query = (Notification.select(Notification, Delivery.id.alias("d_id"), Delivery.channel.alias("d_channel"),
                                 Delivery.status.alias("d_status"), Delivery.attempts.alias("d_attempts"),
                                 Delivery.last_error.alias("d_error"), Delivery.sent_at.alias("d_sent"))
             .join(Delivery, join_type=JOIN.LEFT_OUTER, on=(Delivery.notification == Notification.id))
             .where(Notification.school == code))
    if status:
        if status not in ("pending", "sending", "sent", "failed"):
            raise InvalidInput("状态应为 pending、sending、sent 或 failed", details={"status": ["无效"]})
        query = query.where(Delivery.status == status)
    rows = [LogRow(n.id, n.uid, n.kind, n.recipient, n.subject, n.created_at.replace(tzinfo=UTC),
                   n.d_channel or "inapp", n.d_id, n.d_status or "sent", n.d_attempts or 0, n.d_error or "",
                   n.d_sent.replace(tzinfo=UTC) if n.d_sent else None)
            for n in query.order_by(Notification.id.desc(), Delivery.id).paginate(max(page, 1), LOG_PAGE_SIZE)
            .objects()]
    counts = {s: c for s, c in (Delivery.select(Delivery.status, fn.COUNT(Delivery.id))
                                .join(Notification).where(Notification.school == code)
                                .group_by(Delivery.status).tuples())}
    return rows, counts


def retry(actor: Actor, delivery_ids: Iterable[int] | None = None) -> int:
    """Failed deliveries of the school (all, or the ones named) go back to the queue now; audited."""
    code = _centre_school(actor)
    school_notes = Notification.select(Notification.id).where(Notification.school == code)
    where = (Delivery.status == "failed") & Delivery.notification.in_(school_notes)
    ids = sorted(set(delivery_ids)) if delivery_ids is not None else None
    if ids is not None:
        where &= Delivery.id.in_(ids)
    with write_transaction():
        audit.lock_chain(_school_chain(code))
        count = (Delivery.update(status="pending", attempts=0, next_attempt_at=utcnow(), last_error="")
                 .where(where).execute())
        if ids is not None and not count:
            raise NotFound("没有可重发的失败消息")
        audit.append(_school_chain(code), school=code, actor=actor.username, actor_role=actor.role,
                     action="notify_retry", data_changed={"deliveries": [None, count]})
    return count


def template_rows(actor: Actor) -> list[dict[str, Any]]:
    code = _centre_school(actor)
    rows = []
    for kind in templates.KINDS.values():
        words = templates.wording(code, kind.key)
        rows.append({"kind": kind.key, "label": kind.label, "subject": words.subject, "body": words.body,
                     "custom": words.custom, "placeholders": list(kind.placeholders)})
    return rows


def save_template(actor: Actor, kind: str, subject: str, body: str, *, reset: bool = False) -> None:
    """Save (or with reset=True drop, back to the default) one kind's wording; audited."""
    code = _centre_school(actor)
    if kind not in templates.KINDS:
        raise NotFound("没有这种消息")
    if not reset:
        subject, body = templates.check(kind, subject, body)
    with write_transaction():
        audit.lock_chain(_school_chain(code))
        old = templates.wording(code, kind)
        NotifyTemplate.delete().where((NotifyTemplate.school == code) & (NotifyTemplate.kind == kind)).execute()
        if not reset:
            NotifyTemplate.create(school=code, kind=kind, subject=subject, body=body, updated_by=actor.username)
        new = templates.wording(code, kind)
        audit.append(_school_chain(code), school=code, actor=actor.username, actor_role=actor.role,
                     action="notify_template", data_changed={
                         f"{kind}.subject": [old.subject, new.subject], f"{kind}.body": [old.body, new.body]})


def reminder_days(actor: Actor) -> int:
    return schedule.reminder_days(_centre_school(actor))


def set_reminder_days(actor: Actor, days: Any) -> int:
    code = _centre_school(actor)
    try:
        value = int(str(days).strip())
    except ValueError:
        value = -1
    if not 1 <= value <= MAX_REMINDER_DAYS:
        raise InvalidInput(f"提前提醒天数应为 1 到 {MAX_REMINDER_DAYS} 的整数", details={"days": ["无效"]})
    with write_transaction():
        audit.lock_chain(_school_chain(code))
        row = NotifySchedule.get_or_none(NotifySchedule.school == code)
        old = row.reminder_days if row is not None else None
        (NotifySchedule.insert(school=code, reminder_days=value, updated_by=actor.username, updated_at=utcnow())
         .on_conflict(conflict_target=[NotifySchedule.school],
                      update={NotifySchedule.reminder_days: value, NotifySchedule.updated_by: actor.username,
                              NotifySchedule.updated_at: utcnow()}).execute())
        audit.append(_school_chain(code), school=code, actor=actor.username, actor_role=actor.role,
                     action="notify_schedule", data_changed={"reminder_days": [old, value]})
    return value


def remind(actor: Actor, targets: list[tuple[outbox.Recipient, str]], *, deadline_text: str = "") -> int:
    """A reviewer's 提醒 to the students of a chase list (already limited to the actor's scope by the
    caller); one audit event on the school's chain says who reminded how many."""
    if actor.is_admin or actor.role not in review_scope.reviewer_roles(actor) or not actor.school_code:
        raise PermissionDenied("只有审核人员可以发送提醒", code="role_not_allowed")
    if not targets:
        raise InvalidInput("没有需要提醒的学生", code="nobody_to_remind")
    if len(targets) > MAX_REMINDERS_PER_REQUEST:
        raise InvalidInput(f"一次最多提醒 {MAX_REMINDERS_PER_REQUEST} 名学生，请缩小范围", code="too_many")
    code = actor.school_code
    school_name = School.select(School.name).where(School.code == code).scalar() or ""
    with write_transaction():
        audit.lock_chain(_school_chain(code))
        for to, state in targets:
            if to.school != code:
                raise NotFound()
            outbox.enqueue("reminder", to, {"学号": to.recipient, "学校": school_name, "状态": state,
                                            "截止时间": deadline_text}, created_by=actor.username)
        audit.append(_school_chain(code), school=code, actor=actor.username, actor_role=actor.role,
                     action="notify_remind", data_changed={"students": [None, len(targets)]})
    return len(targets)
