"""Authorization matrix for the deadline endpoints: every role × endpoint × an id in scope and one out.

"In scope" is school 10561 (a college of it, an extension of it); "out of scope" is school 10562.
Only the centre (the role of the school-wide last review level) changes anything, and only for its
own school: another school's ids are 404, other roles 403, anonymous 401. Reviewers of the school
may read. Whatever the call, the other school's settings never change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from service.models import DeadlineExtension, SchoolDeadline
from tests.support import reviewing as rv

ROLES = ("student", "counselor_in", "counselor_out", "centre", "centre_other", "admin", "province", "anonymous")
LOGIN = {"centre_other": "10562", "admin": None, "province": None}


@dataclass(frozen=True)
class Endpoint:
    method: str
    url: str  # {ext} is filled with the in / out extension id
    body: Any = None  # "college" → {college_id: the in / out college, ...}


ENDPOINTS: dict[str, Endpoint] = {
    "get": Endpoint("GET", "/api/v1/deadline"),
    "put": Endpoint("PUT", "/api/v1/deadline", {"deadline": "2030-01-01T12:00+08:00", "resubmit_until": None}),
    "list": Endpoint("GET", "/api/v1/deadline/extensions"),
    "add": Endpoint("POST", "/api/v1/deadline/extensions", "college"),
    "remove": Endpoint("DELETE", "/api/v1/deadline/extensions/{ext}"),
}

# role -> endpoint -> (status with the in-scope id, status with the out-of-scope id)
READ_ONLY = {"get": (200, 200), "put": (403, 403), "list": (200, 200), "add": (403, 403), "remove": (403, 403)}
EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    "student": {e: (403, 403) for e in ENDPOINTS},
    "anonymous": {e: (401, 401) for e in ENDPOINTS},
    "admin": {e: (403, 403) for e in ENDPOINTS},  # not an account of a school: nothing to read or set
    "province": {e: (403, 403) for e in ENDPOINTS},  # 省级 sees deadlines on its own overview, sets none
    "counselor_in": READ_ONLY,
    "counselor_out": READ_ONLY,
    "centre": {"get": (200, 200), "put": (200, 200), "list": (200, 200), "add": (201, 404), "remove": (204, 404)},
    # the other school's centre: the 10561 ids are out of its scope (404); its own school reads/sets fine
    "centre_other": {"get": (200, 200), "put": (200, 200), "list": (200, 200), "add": (404, 201),
                     "remove": (404, 204)},
}


def test_the_table_covers_every_role_and_endpoint() -> None:
    assert set(EXPECTED) == set(ROLES)
    for row in EXPECTED.values():
        assert set(row) == set(ENDPOINTS)


@pytest.fixture
def setup(db):
    w = rv.make_world()
    other_college = w.other_major.college
    rec = rv.submitted(w, w.m1)
    rv.user("counselor_in", "counselor", w.school, colleges=(w.c1,))
    rv.user("counselor_out", "counselor", w.school, colleges=(w.c2,))
    rv.user("centre", "centre", w.school)
    rv.user("centre_other", "centre", w.other_school)
    rv.user("admin", "admin", None)
    rv.user("province", "province", None)
    student = rv.user(rec.student_no, "student", w.school)
    rec.user = student
    rec.save()
    ext_in = DeadlineExtension.create(school=w.school, kind="college", college=w.c1, target=str(w.c1.id),
                                      until=datetime(2030, 1, 1), reason="in")
    ext_out = DeadlineExtension.create(school=w.other_school, kind="student", student_no="20990000001",
                                       target="20990000001", until=datetime(2030, 1, 1), reason="out")
    return {"in": (w.c2.id, ext_in.id), "out": (other_college.id, ext_out.id), "student": rec.student_no}


def _call(api: rv.Api, endpoint: Endpoint, college_id: int, ext_id: int) -> Any:
    body = endpoint.body
    if body == "college":
        body = {"college_id": college_id, "until": "2030-06-01T12:00+08:00", "reason": "答辩推迟"}
    return api.call(endpoint.method, endpoint.url.format(ext=ext_id), body)


def _state(school: str) -> tuple[Any, ...]:
    row = SchoolDeadline.get_or_none(SchoolDeadline.school == school)
    exts = sorted((e.id, e.target, e.until) for e in DeadlineExtension.select().where(DeadlineExtension.school == school))
    return (row.deadline if row else None, tuple(exts))


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_deadline_authorization_matrix(app, setup, role: str, endpoint: str) -> None:
    username = {"student": setup["student"], "anonymous": None}.get(role, role)
    api = rv.login(app, username, LOGIN.get(role, "10561"))
    own_school = "10562" if role == "centre_other" else "10561"
    foreign_school = "10561" if role == "centre_other" else "10562"
    expected_in, expected_out = EXPECTED[role][endpoint]
    foreign_before = _state(foreign_school)
    out = _call(api, ENDPOINTS[endpoint], *setup["out"])
    assert out.status_code == expected_out, (role, endpoint, "out", out.get_json() if out.is_json else None)
    inside = _call(api, ENDPOINTS[endpoint], *setup["in"])
    assert inside.status_code == expected_in, (role, endpoint, "in", inside.get_json() if inside.is_json else None)
    for resp in (out, inside):
        if resp.status_code >= 400:
            assert set(resp.get_json()) == {"code", "message", "details"}
    # nobody changes another school's settings, whatever they send
    assert _state(foreign_school) == foreign_before
    if endpoint in ("get", "list") and inside.status_code == 200:
        body = inside.get_json()
        items = body["extensions"] if endpoint == "get" else body["items"]
        assert {e["reason"] for e in items} == {"out" if own_school == "10562" else "in"}


PAGES = {
    "page": ("GET", "/centre/deadline", None),
    "set": ("POST", "/centre/deadline", {"deadline_date": "2030-01-01", "deadline_time": "12:00"}),
    "add": ("POST", "/centre/deadline/extensions", "college"),
    "remove": ("POST", "/centre/deadline/extensions/{ext}/delete", {}),
}
# role -> page -> (status with the in-scope id, status with the out-of-scope id); anonymous is sent to login
PAGE_EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    "student": {p: (403, 403) for p in PAGES},
    "counselor_in": {p: (403, 403) for p in PAGES},
    "counselor_out": {p: (403, 403) for p in PAGES},
    "admin": {p: (403, 403) for p in PAGES},
    "province": {p: (403, 403) for p in PAGES},
    "anonymous": {"page": (302, 302), "set": (302, 302), "add": (302, 302), "remove": (302, 302)},
    "centre": {"page": (200, 200), "set": (302, 302), "add": (302, 404), "remove": (302, 404)},
    "centre_other": {"page": (200, 200), "set": (302, 302), "add": (404, 302), "remove": (404, 302)},
}


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("role", ROLES)
def test_deadline_page_authorization(app, setup, role: str, name: str) -> None:
    username = {"student": setup["student"], "anonymous": None}.get(role, role)
    api = rv.login(app, username, LOGIN.get(role, "10561"))
    foreign_school = "10561" if role == "centre_other" else "10562"
    foreign_before = _state(foreign_school)
    method, url, body = PAGES[name]
    got = []
    for college_id, ext_id in (setup["out"], setup["in"]):
        form = ({"kind": "college", "college_id": str(college_id), "until_date": "2030-06-01", "until_time": "12:00",
                 "reason": "答辩推迟"} if body == "college" else body)
        target = url.format(ext=ext_id)
        if method == "GET":
            got.append(api.client.get(target).status_code)
        else:
            got.append(api.client.post(target, data={**(form or {}), "csrf_token": api.csrf or ""}).status_code)
    expected_in, expected_out = PAGE_EXPECTED[role][name]
    assert (got[1], got[0]) == (expected_in, expected_out), (role, name)
    assert _state(foreign_school) == foreign_before
