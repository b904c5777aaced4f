"""Notifications: the in-app message, its outbox deliveries, the schools' templates and schedule marks.

A Notification is written in the same transaction as the change that causes it (a rejection that
rolls back leaves none); it is the in-app message itself, and each push channel (e-mail, webhook)
gets one Delivery row that the sender works through. Created by migration m0011_notifications.
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from service.models.base import BaseModel, JSONTextField, utcnow
from service.models.org import School, User
from service.models.records import Record, RosterStudent


class Notification(BaseModel):
    """One message to one person; `uid` is the stable id every channel carries (Message-ID, idempotency key)."""

    school_id: str
    user_id: int | None
    record_id: int | None
    student_id: int | None

    id = AutoField()
    uid = CharField(max_length=40, unique=True)
    school = ForeignKeyField(School, on_delete="CASCADE", index=False)
    user = ForeignKeyField(User, null=True, on_delete="CASCADE")  # the recipient's account (in-app)
    record = ForeignKeyField(Record, null=True, on_delete="SET NULL")
    student = ForeignKeyField(RosterStudent, null=True, on_delete="SET NULL")
    recipient = CharField(max_length=64, default="")  # 学号 / username, for the centre's log
    kind = CharField(max_length=32)
    subject = CharField(max_length=200)
    body = TextField()
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)
    read_at = DateTimeField(null=True)

    class Meta:
        table_name = "notification"
        indexes = ((("school", "created_at"), False), (("user", "read_at"), False))


class Delivery(BaseModel):
    """One push of a notification over one channel: pending → sending → sent, or back to pending
    with a backoff, or failed after the last attempt (the reason kept, the centre can retry)."""

    notification_id: int

    id = AutoField()
    notification = ForeignKeyField(Notification, backref="deliveries", on_delete="CASCADE")
    channel = CharField(max_length=16)  # "email" | "webhook"
    address = CharField(max_length=254, default="")  # e-mail address or phone number
    status = CharField(max_length=16, default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    claim_token = CharField(max_length=32, default="")
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    last_error = CharField(max_length=500, default="")

    class Meta:
        table_name = "delivery"
        indexes = ((("status", "next_attempt_at"), False), (("claim_token",), False))


class NotifyTemplate(BaseModel):
    """A school's own wording for one kind of message (absent: the Chinese default)."""

    school_id: str

    id = AutoField()
    school = ForeignKeyField(School, on_delete="CASCADE", index=False)
    kind = CharField(max_length=32)
    subject = CharField(max_length=200)
    body = TextField()
    updated_by = CharField(max_length=64, default="")
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "notify_template"
        indexes = ((("school", "kind"), True),)


class NotifySchedule(BaseModel):
    """A school's reminder choices: how many days before the deadline the first reminder goes out."""

    school_id: str

    school = ForeignKeyField(School, primary_key=True, on_delete="CASCADE")
    reminder_days = IntegerField(default=3)
    updated_by = CharField(max_length=64, default="")
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "notify_schedule"


class NotifyMark(BaseModel):
    """A scheduled job that already ran (deadline reminder, daily digest): its key is unique, so two
    senders racing for the same job cannot both enqueue it."""

    key = CharField(primary_key=True, max_length=160)
    data = JSONTextField(default=dict)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "notify_mark"
