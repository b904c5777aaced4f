"""The roster (学籍) the centre imports and the report records students fill from it."""

from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from service.models.base import BaseModel, JSONTextField, utcnow
from service.models.org import College, Major, School, User


class RosterStudent(BaseModel):
    """One roster row as imported; `eligible` false rows keep the reason they are out of scope."""

    school_id: str
    college_id: int | None
    major_id: int | None

    id = AutoField()
    school = ForeignKeyField(School, backref="roster", on_delete="CASCADE")
    year = IntegerField()
    student_no = CharField(max_length=32)
    name = CharField(max_length=64)
    gender = CharField(max_length=2, default="")
    id_type = CharField(max_length=4, default="")
    id_number = CharField(max_length=32, default="", index=True)
    category = CharField(max_length=16, default="mainland")  # mainland | hmt
    nationality = CharField(max_length=32, default="")
    exam_no = CharField(max_length=32, default="")
    college = ForeignKeyField(College, null=True, on_delete="SET NULL")
    major = ForeignKeyField(Major, null=True, on_delete="SET NULL")
    class_name = CharField(max_length=64, default="")
    fields = JSONTextField(default=dict)  # the remaining roster columns, by field id
    eligible = BooleanField(default=True)
    exclusion_reason = CharField(max_length=64, default="")
    row_hash = CharField(max_length=64, default="")
    imported_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("school", "student_no"), True),)


class Record(BaseModel):
    """A graduate's report (学校 / 个人 / 其他). Its workflow state lives in ProcessInstance."""

    school_id: str
    student_id: int | None
    user_id: int | None
    college_id: int | None
    major_id: int | None

    id = AutoField()
    school = ForeignKeyField(School, backref="records", on_delete="CASCADE")
    student = ForeignKeyField(RosterStudent, null=True, unique=True, on_delete="SET NULL")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")  # the bound student account
    college = ForeignKeyField(College, null=True, on_delete="SET NULL")
    major = ForeignKeyField(Major, null=True, on_delete="SET NULL")
    category = CharField(max_length=16, default="mainland")
    # Copied out of `data` so search is a plain indexed query.
    student_no = CharField(max_length=32)
    name = CharField(max_length=64, index=True)
    id_number = CharField(max_length=32, default="", index=True)
    origin_region = CharField(max_length=6, default="", index=True)
    data = JSONTextField(default=dict)  # {"school": {...}, "personal": {...}, "other": {...}}
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    submitted_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("school", "student_no"), True),)
