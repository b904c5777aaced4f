"""process_activation: the version each school's new records start on, and its history.

Before this step one flag (process_version.active) chose the version of every school. The flag
stays (it marks the deployment default); the currently active version becomes the default row.
"""

from peewee import AutoField, BooleanField, CharField, Database, DateTimeField, ForeignKeyField, Model

from service.models import ProcessVersion
from service.models.base import utcnow


def apply(db: Database) -> None:
    class ProcessActivation(Model):
        id = AutoField()
        school_code = CharField(max_length=10, default="")
        version = ForeignKeyField(ProcessVersion, on_delete="CASCADE")
        current = BooleanField(default=True)
        activated_by = CharField(max_length=64, default="")
        activated_at = DateTimeField(default=utcnow)

        class Meta:
            database = db
            table_name = "process_activation"
            indexes = ((("school_code", "current"), False),)

    db.create_tables([ProcessActivation])
    active = db.execute_sql(f"SELECT id FROM process_version WHERE active = {db.param} ORDER BY id", (True,))
    for (version_id,) in active.fetchall()[:1]:
        ProcessActivation.create(school_code="", version=version_id, current=True, activated_by="m0013")
