"""Schools, their colleges and majors, user accounts and what each account may see."""

from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from service.models.base import BaseModel, utcnow


class School(BaseModel):
    code = CharField(primary_key=True, max_length=10)  # 5-digit MOE code
    name = CharField(max_length=100)
    created_at = DateTimeField(default=utcnow)


class College(BaseModel):
    school_id: str
    id = AutoField()
    school = ForeignKeyField(School, backref="colleges", on_delete="CASCADE")
    name = CharField(max_length=100)

    class Meta:
        indexes = ((("school", "name"), True),)


class Major(BaseModel):
    school_id: str
    college_id: int
    id = AutoField()
    school = ForeignKeyField(School, backref="majors", on_delete="CASCADE")
    college = ForeignKeyField(College, backref="majors", on_delete="CASCADE")
    code = CharField(max_length=10)
    name = CharField(max_length=100)

    class Meta:
        indexes = ((("college", "code", "name"), True),)


class User(BaseModel):
    """An account. `role` is a role key declared by a BPMN lane (e.g. counselor), or admin."""

    school_id: str | None

    id = AutoField()
    school = ForeignKeyField(School, null=True, backref="users", on_delete="CASCADE")
    username = CharField(max_length=64)
    password_hash = CharField(max_length=256)
    role = CharField(max_length=32, index=True)
    display_name = CharField(max_length=64, default="")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    # Set when a reviewer resets the password to a one-time code: nothing but changing it works
    # until it is changed (m0007).
    must_change_password = BooleanField(default=False)

    class Meta:
        indexes = ((("school", "username"), True),)


class UserScope(BaseModel):
    """One grant of a college or a major to a reviewer; no grants means the whole school."""

    user_id: int
    college_id: int | None
    major_id: int | None

    id = AutoField()
    user = ForeignKeyField(User, backref="scopes", on_delete="CASCADE")
    college = ForeignKeyField(College, null=True, on_delete="CASCADE")
    major = ForeignKeyField(Major, null=True, on_delete="CASCADE")


class UserSession(BaseModel):
    """A login, checked on every request so that logout, a password change or disabling ends it.

    The cookie carries a random token; the row's id is its sha256, so someone who can read the
    database still cannot present a session. Created by migration m0005_sessions (not ALL_MODELS).
    """

    user_id: int

    id = CharField(primary_key=True, max_length=64)
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    revoked_at = DateTimeField(null=True)

    class Meta:
        table_name = "user_session"


class Throttle(BaseModel):
    """Failure counter for logins and binds, keyed e.g. 'login:10561:2021001'."""

    key = CharField(primary_key=True, max_length=128)
    failures = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow)
