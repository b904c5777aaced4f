"""Build schools, org units, accounts and records directly through the models and services."""

from __future__ import annotations

import itertools

from service.db import write_transaction
from service.models import College, Major, Record, School
from service.services.actors import Actor
from service.services.transitions import start_instance

_seq = itertools.count(1)


def school(code: str = "10561", name: str = "华南理工大学") -> School:
    found = School.get_or_none(School.code == code)
    return found or School.create(code=code, name=name)


def college(sch: School, name: str = "计算机学院") -> College:
    found = College.get_or_none((College.school == sch) & (College.name == name))
    return found or College.create(school=sch, name=name)


def major(col: College, code: str = "080901", name: str = "计算机科学与技术") -> Major:
    found = Major.get_or_none((Major.college == col) & (Major.code == code) & (Major.name == name))
    return found or Major.create(school=col.school, college=col, code=code, name=name)


def record(maj: Major, *, student_no: str | None = None, name: str = "张三", by: str = "importer",
           origin_region: str = "440106") -> Record:
    """A record with its instance started (pending at the process's first task)."""
    no = student_no or f"2017{next(_seq):06d}"
    with write_transaction():
        rec = Record.create(school=maj.school, college=maj.college, major=maj, student_no=no, name=name,
                            origin_region=origin_region, data={})
        start_instance(rec, Actor(username=by, role="system", school_code=maj.school_id))
    return rec


def actor(role: str, sch: School | None, *, colleges: tuple[int, ...] = (), majors: tuple[int, ...] = (),
          username: str | None = None, record_id: int | None = None) -> Actor:
    return Actor(username=username or f"{role}-{next(_seq)}", role=role,
                 school_code=sch.code if sch is not None else None,
                 college_ids=frozenset(colleges), major_ids=frozenset(majors), record_id=record_id)
