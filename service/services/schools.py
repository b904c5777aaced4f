"""Schools and the colleges/majors under them.

A deployment may hold many schools, so every school is added explicitly (by its 5-digit MOE code);
colleges and majors are normally created by the roster import, which uses `OrgCache` to find or
create them without one query per row.
"""

from __future__ import annotations

import re

from service.db import write_transaction
from service.errors import Conflict, InvalidInput, NotFound
from service.models import College, Major, School
from service.services import audit
from service.services.actors import SYSTEM, Actor

SCHOOL_CODE = re.compile(r"\d{5}")


def school_chain(code: str) -> str:
    """Audit chain for school-wide events (roster imports, school creation)."""
    return f"school:{code}"


def add_school(code: str, name: str, *, actor: Actor = SYSTEM) -> School:
    code, name = code.strip(), name.strip()
    if not SCHOOL_CODE.fullmatch(code):
        raise InvalidInput("院校代码应为5位数字", details={"code": ["院校代码应为5位数字"]})
    if not name or len(name) > 100:
        raise InvalidInput("请填写学校名称（不超过100个字符）", details={"name": ["请填写学校名称"]})
    with write_transaction():
        if School.get_or_none(School.code == code) is not None:
            raise Conflict(f"学校 {code} 已存在", code="school_exists")
        school = School.create(code=code, name=name)
        audit.append(school_chain(code), school=code, actor=actor.username, actor_role=actor.role,
                     action="school_add", data_changed={"name": [None, name]})
    return school


def get_school(code: str) -> School:
    school = School.get_or_none(School.code == (code or "").strip())
    if school is None:
        raise NotFound(f"学校 {code} 不存在", code="school_not_found")
    return school


class OrgCache:
    """Colleges and majors of one school, loaded once; missing ones are created on demand.

    Call `college_id` / `major_id` inside the import's transaction: creation is an INSERT each,
    but a roster holds tens of colleges and a few hundred majors, not thousands.
    """

    def __init__(self, school_code: str) -> None:
        self.school_code = school_code
        self.colleges: dict[str, int] = {
            c.name: c.id for c in College.select(College.id, College.name).where(College.school == school_code)
        }
        self.majors: dict[tuple[int, str, str], int] = {
            (m.college_id, m.code, m.name): m.id
            for m in Major.select(Major.id, Major.college, Major.code, Major.name).where(Major.school == school_code)
        }
        self.created_colleges: list[str] = []
        self.created_majors: list[str] = []

    def college_id(self, name: str) -> int:
        found = self.colleges.get(name)
        if found is None:
            # Another import of this school may create the same college at the same moment:
            # insert-or-nothing, then read, instead of failing on the unique index.
            College.insert(school=self.school_code, name=name).on_conflict_ignore().execute()
            found = College.get((College.school == self.school_code) & (College.name == name)).id
            self.colleges[name] = found
            self.created_colleges.append(name)
        return found

    def major_id(self, college_id: int, code: str, name: str) -> int:
        key = (college_id, code, name)
        found = self.majors.get(key)
        if found is None:
            Major.insert(school=self.school_code, college=college_id, code=code, name=name).on_conflict_ignore().execute()
            found = Major.get((Major.college == college_id) & (Major.code == code) & (Major.name == name)).id
            self.majors[key] = found
            self.created_majors.append(f"{code} {name}")
        return found


def list_schools() -> list[School]:
    """Every school of the deployment, by code (the activation form's choice of schools)."""
    return list(School.select().order_by(School.code))
