"""Roster import batches (table roster_import), so an import's report can be downloaded later.

The table is declared here as it was at this step, not imported from service.models, so later
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

from service.models import School


def apply(db: Database) -> None:
    class RosterImport(Model):
        id = AutoField()
        school = ForeignKeyField(School, on_delete="CASCADE")
        year = IntegerField()
        filename = CharField(max_length=255)
        actor = CharField(max_length=64)
        actor_role = CharField(max_length=32, default="")
        created_at = DateTimeField(index=True)
        total = IntegerField(default=0)
        imported = IntegerField(default=0)
        updated = IntegerField(default=0)
        unchanged = IntegerField(default=0)
        excluded = IntegerField(default=0)
        errors = IntegerField(default=0)
        duration_ms = IntegerField(default=0)
        summary = TextField(null=True)
        rows = TextField(null=True)

        class Meta:
            database = db
            table_name = "roster_import"

    db.create_tables([RosterImport])
