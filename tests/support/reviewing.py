"""A small school for the reviewer API tests: two schools, org units, accounts, records at statuses.

Records get valid report data from service.services.demo_data and move through the real process
(transitions.complete_task), so statuses, pending tasks and audit events are the real ones.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask.testing import FlaskClient

from service.db import write_transaction
from service.models import College, Major, Record, RosterStudent, School, User, UserScope
from service.services.accounts import hash_password
from service.services.actors import Actor
from service.services.demo_data import Generator
from service.services.transitions import complete_task, start_instance

PASSWORD = "password123"
_seq = itertools.count(1)


@lru_cache(maxsize=1)
def password_hash() -> str:
    """scrypt is slow on purpose: hash once per test session."""
    return hash_password(PASSWORD)


def user(username: str, role: str, school: School | None, *, colleges: tuple[College, ...] = (),
         majors: tuple[Major, ...] = ()) -> User:
    u = User.create(username=username, role=role, school=school, password_hash=password_hash(), display_name=username)
    for c in colleges:
        UserScope.create(user=u, college=c)
    for m in majors:
        UserScope.create(user=u, major=m)
    return u


class Api:
    """A logged-in test client that sends the CSRF header on state changes."""

    def __init__(self, client: FlaskClient, csrf: str | None) -> None:
        self.client, self.csrf = client, csrf

    def _h(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf} if self.csrf else {}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, json: Any = None) -> Any:
        return self.client.post(url, json=json, headers=self._h())

    def patch(self, url: str, json: Any = None) -> Any:
        return self.client.patch(url, json=json, headers=self._h())

    def call(self, method: str, url: str, json: Any = None) -> Any:
        if method == "GET":
            return self.get(url)
        return self.client.open(url, method=method, json=json, headers=self._h())


def login(app: Any, username: str | None, school_code: str | None = "10561") -> Api:
    client = app.test_client()
    if username is None:
        return Api(client, None)
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD,
                                                 "school_code": school_code})
    assert r.status_code == 200, r.get_json()
    return Api(client, r.get_json()["csrf_token"])


@dataclass
class World:
    school: School
    other_school: School
    c1: College
    c2: College
    m1: Major
    m2: Major
    m3: Major
    other_major: Major
    gen: Generator
    records: dict[str, Record] = field(default_factory=dict)


def make_world() -> World:
    with write_transaction():
        a = School.create(code="10561", name="华南理工大学")
        b = School.create(code="10562", name="广州大学")
        c1 = College.create(school=a, name="计算机科学与工程学院")
        c2 = College.create(school=a, name="外国语学院")
        m1 = Major.create(school=a, college=c1, code="080901", name="计算机科学与技术")
        m2 = Major.create(school=a, college=c1, code="080902", name="软件工程")
        m3 = Major.create(school=a, college=c2, code="050201", name="英语")
        cb = College.create(school=b, name="数学学院")
        mb = Major.create(school=b, college=cb, code="070101", name="数学与应用数学")
    return World(a, b, c1, c2, m1, m2, m3, mb, Generator(seed=42))


def roster_student(world: World, major: Major, **overrides: Any) -> RosterStudent:
    """An eligible roster row with the generator's data (not yet a record)."""
    st = world.gen.student(next(_seq), major.college.name, major.code, major.name)
    values = dict(school=major.school, year=2021, student_no=st.student_no, name=st.name, gender=st.gender,
                  id_type=st.id_type, id_number=st.id_number, category=st.category, exam_no=st.exam_no,
                  college=major.college, major=major, class_name=st.class_name,
                  fields={k: v for k, v in st.report["school"].items()
                          if k not in ("school_code", "student_no", "college", "major", "major_code", "class_name",
                                       "exam_no")})
    values.update(overrides)
    return RosterStudent.create(**values)


def report_for(world: World, major: Major, **personal: Any) -> tuple[dict[str, Any], Any]:
    st = world.gen.student(next(_seq), major.college.name, major.code, major.name)
    st.report["school"]["school_code"] = major.school_id
    st.report["personal"].update(personal)
    return st.report, st


def submitted(world: World, major: Major, *, name: str | None = None, origin: str | None = None,
              id_number: str | None = None, student_no: str | None = None) -> Record:
    """A record with a valid report, submitted by its student: pending at the first review level."""
    report, st = report_for(world, major)
    if name:
        report["personal"]["name"] = name
    if origin:
        report["personal"]["origin_region"] = origin
    if id_number:
        report["personal"]["id_number"] = id_number
    if student_no:
        report["school"]["student_no"] = student_no
    p = report["personal"]
    with write_transaction():
        rec = Record.create(school=major.school, college=major.college, major=major, category=st.category,
                            student_no=report["school"]["student_no"], name=p["name"], id_number=p["id_number"],
                            origin_region=p["origin_region"], data=report)
        start_instance(rec, Actor("importer", "system", major.school_id))
    complete_task(rec.id, Actor("stu", "student", major.school_id, record_id=rec.id))
    return rec


def unsubmitted(world: World, major: Major) -> Record:
    report, st = report_for(world, major)
    p = report["personal"]
    with write_transaction():
        rec = Record.create(school=major.school, college=major.college, major=major, category=st.category,
                            student_no=report["school"]["student_no"], name=p["name"], id_number=p["id_number"],
                            origin_region="", data={"school": report["school"]})
        start_instance(rec, Actor("importer", "system", major.school_id))
    return rec


def approve(record: Record, role: str) -> None:
    complete_task(record.id, Actor(f"{role}-auto", role, record.school_id), decision="approve")


def reject(record: Record, role: str, comment: str) -> None:
    complete_task(record.id, Actor(f"{role}-auto", role, record.school_id), decision="reject", comment=comment)


def reviewer(role: str, school: School, **kw: Any) -> Actor:
    return Actor(f"{role}-{next(_seq)}", role, school.code, **kw)


def page_login(app: Any, username: str, school_code: str | None) -> tuple[FlaskClient, str]:
    """Log a test client in through the login form (pages, not the API); returns it and the CSRF token."""
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        token = session["csrf"]
    r = client.post("/login", data={"csrf_token": token, "school_code": school_code or "", "username": username,
                                    "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    with client.session_transaction() as session:
        return client, str(session["csrf"])
