"""Who is acting, and which records they may see.

Scope rules: an admin sees every school; other accounts see their own school; an account with
college or major grants sees only those; a student account sees only its own record. Anything
outside scope is reported as not found (404), never as forbidden, so ids leak nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peewee import Expression

from service.models import Record, User, UserScope

ADMIN_ROLE = "admin"  # the deployment operator: not a BPMN lane, it deploys the BPMN itself
# The provincial education department (省级): not a BPMN lane and not tied to a school. It reads the
# progress of every school and exports completed records through its own endpoints only
# (service/services/province); every record query of the other roles matches nothing for it.
PROVINCE_ROLE = "province"
# Roles of the deployment rather than of a school's process: created only at the command line.
DEPLOYMENT_ROLES = (ADMIN_ROLE, PROVINCE_ROLE)


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    school_code: str | None
    user_id: int | None = None
    college_ids: frozenset[int] = field(default_factory=frozenset)
    major_ids: frozenset[int] = field(default_factory=frozenset)
    record_id: int | None = None  # set for a student: the one record they own

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN_ROLE

    @property
    def is_province(self) -> bool:
        return self.role == PROVINCE_ROLE

    @property
    def restricted(self) -> bool:
        return bool(self.college_ids or self.major_ids)

    def can_see(self, school_code: str, college_id: int | None, major_id: int | None,
                record_id: int | None = None) -> bool:
        if self.is_admin:
            return True
        if self.school_code != school_code:
            return False
        if self.record_id is not None:
            return record_id == self.record_id
        if not self.restricted:
            return True
        return (college_id in self.college_ids) or (major_id in self.major_ids)

    def grants_clause(self, college_field: Any, major_field: Any) -> Expression | None:
        """The college/major grants as a WHERE clause on any table's columns (None: not restricted)."""
        if not self.restricted:
            return None
        grants = None
        if self.college_ids:
            grants = college_field.in_(sorted(self.college_ids))
        if self.major_ids:
            by_major = major_field.in_(sorted(self.major_ids))
            grants = by_major if grants is None else (grants | by_major)
        return grants

    def record_filter(self) -> Expression | None:
        """A WHERE clause limiting Record queries to this actor's scope (None = everything)."""
        if self.is_admin:
            return None
        clause = Record.school == self.school_code
        if self.record_id is not None:
            return clause & (Record.id == self.record_id)
        grants = self.grants_clause(Record.college, Record.major)
        return clause if grants is None else clause & grants


def actor_for_user(user: User) -> Actor:
    """Build the Actor of an account, loading its grants (and its record, for a student)."""
    colleges: set[int] = set()
    majors: set[int] = set()
    for grant in UserScope.select().where(UserScope.user == user):
        if grant.college_id:
            colleges.add(grant.college_id)
        if grant.major_id:
            majors.add(grant.major_id)
    record_id = None
    owned = Record.select(Record.id).where(Record.user == user).first()
    if owned is not None:
        record_id = owned.id
    return Actor(
        username=user.username, role=user.role, school_code=user.school_id, user_id=user.id,
        college_ids=frozenset(colleges), major_ids=frozenset(majors), record_id=record_id,
    )


SYSTEM = Actor(username="system", role="system", school_code=None)
