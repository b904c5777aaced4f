"""Notifications: notification (in-app message), delivery (outbox), notify_template, notify_schedule, notify_mark.

Tables are declared here as they are at this step, not imported from service.models, so later
model changes never alter what this step creates.
"""

from peewee import (
    AutoField,
    CharField,
    Database,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from service.models import Record, RosterStudent, School, User


def apply(db: Database) -> None:
    class Notification(Model):
        id = AutoField()
        uid = CharField(max_length=40, unique=True)
        school = ForeignKeyField(School, on_delete="CASCADE", index=False)
        user = ForeignKeyField(User, null=True, on_delete="CASCADE")
        record = ForeignKeyField(Record, null=True, on_delete="SET NULL")
        student = ForeignKeyField(RosterStudent, null=True, on_delete="SET NULL")
        recipient = CharField(max_length=64, default="")
        kind = CharField(max_length=32)
        subject = CharField(max_length=200)
        body = TextField()
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField()
        read_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "notification"
            indexes = ((("school", "created_at"), False), (("user", "read_at"), False))

    class Delivery(Model):
        id = AutoField()
        notification = ForeignKeyField(Notification, on_delete="CASCADE")
        channel = CharField(max_length=16)
        address = CharField(max_length=254, default="")
        status = CharField(max_length=16, default="pending")
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField()
        claim_token = CharField(max_length=32, default="")
        claimed_at = DateTimeField(null=True)
        sent_at = DateTimeField(null=True)
        last_error = CharField(max_length=500, default="")

        class Meta:
            database = db
            table_name = "delivery"
            indexes = ((("status", "next_attempt_at"), False), (("claim_token",), False))

    class NotifyTemplate(Model):
        id = AutoField()
        school = ForeignKeyField(School, on_delete="CASCADE", index=False)
        kind = CharField(max_length=32)
        subject = CharField(max_length=200)
        body = TextField()
        updated_by = CharField(max_length=64, default="")
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "notify_template"
            indexes = ((("school", "kind"), True),)

    class NotifySchedule(Model):
        school = ForeignKeyField(School, primary_key=True, on_delete="CASCADE")
        reminder_days = IntegerField(default=3)
        updated_by = CharField(max_length=64, default="")
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "notify_schedule"

    class NotifyMark(Model):
        key = CharField(primary_key=True, max_length=160)
        data = TextField(default="{}")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "notify_mark"

    db.create_tables([Notification, Delivery, NotifyTemplate, NotifySchedule, NotifyMark])
