"""The school's deadline (set by the centre in the product) and extensions per college or student.

Instants are naive UTC like every other model; pages show Beijing time. A school without a row
here falls back to GRADFLOW_DEADLINE (see service.services.deadlines.policy).
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField

from service.models.base import BaseModel, utcnow
from service.models.org import College, School


class SchoolDeadline(BaseModel):
    """One row per school: its deadline and the resubmission window for rejected records."""

    school_id: str

    school = ForeignKeyField(School, primary_key=True, on_delete="CASCADE")
    deadline = DateTimeField(null=True)  # None: GRADFLOW_DEADLINE applies
    resubmit_until = DateTimeField(null=True)  # rejected records may be resubmitted until then
    updated_by = CharField(max_length=64, default="")
    updated_at = DateTimeField(default=utcnow)


class DeadlineExtension(BaseModel):
    """A later end time for one college (college set) or one student (student_no set) of a school."""

    school_id: str
    college_id: int | None

    id = AutoField()
    school = ForeignKeyField(School, on_delete="CASCADE", index=False)
    kind = CharField(max_length=16)  # "college" or "student"
    college = ForeignKeyField(College, null=True, on_delete="CASCADE")
    student_no = CharField(max_length=32, default="")
    # What the extension is for, one text column so the unique index also holds for students
    # (college is NULL for them, and NULLs never collide in a unique index): the college id or 学号.
    target = CharField(max_length=32)
    until = DateTimeField()
    reason = CharField(max_length=200)
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "deadline_extension"
        indexes = ((("school", "kind", "target"), True),)
