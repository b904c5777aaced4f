"""The centre-managed deadline: school_deadline (one row per school) and deadline_extension.

Tables are declared here as they are at this step, not imported from service.models, so later
model changes never alter what this step creates.
"""

from peewee import AutoField, CharField, Database, DateTimeField, ForeignKeyField, Model

from service.models import College, School


def apply(db: Database) -> None:
    class SchoolDeadline(Model):
        school = ForeignKeyField(School, primary_key=True, on_delete="CASCADE")
        deadline = DateTimeField(null=True)
        resubmit_until = DateTimeField(null=True)
        updated_by = CharField(max_length=64, default="")
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "school_deadline"

    class DeadlineExtension(Model):
        id = AutoField()
        school = ForeignKeyField(School, on_delete="CASCADE", index=False)
        kind = CharField(max_length=16)
        college = ForeignKeyField(College, null=True, on_delete="CASCADE")
        student_no = CharField(max_length=32, default="")
        target = CharField(max_length=32)
        until = DateTimeField()
        reason = CharField(max_length=200)
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "deadline_extension"
            indexes = ((("school", "kind", "target"), True),)

    db.create_tables([SchoolDeadline, DeadlineExtension])
