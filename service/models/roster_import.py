"""One roster import batch and its per-row report (kept so the report can be downloaded later)."""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField

from service.models.base import BaseModel, JSONTextField, utcnow
from service.models.org import School


class RosterImport(BaseModel):
    id = AutoField()
    school = ForeignKeyField(School, backref="roster_imports", on_delete="CASCADE")
    year = IntegerField()
    filename = CharField(max_length=255)
    actor = CharField(max_length=64)
    actor_role = CharField(max_length=32, default="")
    created_at = DateTimeField(default=utcnow, index=True)
    total = IntegerField(default=0)
    imported = IntegerField(default=0)
    updated = IntegerField(default=0)
    unchanged = IntegerField(default=0)
    excluded = IntegerField(default=0)
    errors = IntegerField(default=0)
    duration_ms = IntegerField(default=0)
    summary = JSONTextField(default=dict)  # created colleges/majors, ignored columns
    rows = JSONTextField(default=list)  # [{row, student_no, name, outcome, reason, errors: [{column, message}]}]

    class Meta:
        table_name = "roster_import"
