"""Authorization matrix for the account actions: every role × endpoint × a target in scope and one out.

Targets are a student account (its record in 计算机科学与工程学院 of 10561; out of scope: a student of
10562) and a counselor account (of 10561; out: one of 10562). Reviewers reset and unlock students in
their grants; the centre (school-wide last level) acts on its school's earlier-level reviewers; the
admin on anyone. Out of the caller's school or grants is 404, in reach but not allowed 403,
a wrong role 403, anonymous 401 (pages: a redirect to login). Whatever the call, a refused one
changes nothing on the target.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.models import AuditEvent, User
from tests.support import reviewing as rv

ROLES = ("student", "counselor_in", "counselor_out", "centre", "centre_other", "admin", "anonymous")
LOGIN = {"centre_other": "10562", "admin": None}
ACTIONS = ("reset-password", "unlock", "disable", "enable")
TARGETS = ("student", "counselor")

ALL_OK = {a: (200, 200) for a in ACTIONS}
NOT_FOUND = {a: (404, 404) for a in ACTIONS}
# role -> target -> action -> (status on the in-scope target, status on the out-of-scope target)
EXPECTED: dict[str, dict[str, dict[str, tuple[int, int]]]] = {
    "student": {t: {a: (403, 403) for a in ACTIONS} for t in TARGETS},
    "anonymous": {t: {a: (401, 401) for a in ACTIONS} for t in TARGETS},
    "admin": {t: ALL_OK for t in TARGETS},
    "counselor_in": {
        "student": {"reset-password": (200, 404), "unlock": (200, 404), "disable": (403, 404), "enable": (403, 404)},
        "counselor": {a: (403, 404) for a in ACTIONS},
    },
    "counselor_out": {"student": NOT_FOUND, "counselor": {a: (403, 404) for a in ACTIONS}},  # other college
    "centre": {
        "student": {"reset-password": (200, 404), "unlock": (200, 404), "disable": (403, 404), "enable": (403, 404)},
        "counselor": {a: (200, 404) for a in ACTIONS},
    },
    "centre_other": {
        "student": {"reset-password": (404, 200), "unlock": (404, 200), "disable": (404, 403), "enable": (404, 403)},
        "counselor": {a: (404, 200) for a in ACTIONS},
    },
}


def test_the_table_covers_every_role_target_and_action() -> None:
    assert set(EXPECTED) == set(ROLES)
    for row in EXPECTED.values():
        assert set(row) == set(TARGETS)
        assert all(set(cells) == set(ACTIONS) for cells in row.values())


@pytest.fixture
def setup(db):
    w = rv.make_world()
    rec_in = rv.submitted(w, w.m1)
    rec_out = rv.submitted(w, w.other_major)
    rv.user("counselor_in", "counselor", w.school, colleges=(w.c1,))
    rv.user("counselor_out", "counselor", w.school, colleges=(w.c2,))
    rv.user("centre", "centre", w.school)
    rv.user("centre_other", "centre", w.other_school)
    rv.user("admin", "admin", None)
    students = {}
    for key, rec, school in (("in", rec_in, w.school), ("out", rec_out, w.other_school)):
        account = rv.user(rec.student_no, "student", school)
        rec.user = account
        rec.save()
        students[key] = account.id
    staff = {"in": rv.user("target-coun", "counselor", w.school, colleges=(w.c1,)).id,
             "out": rv.user("target-coun", "counselor", w.other_school).id}
    return {"student": students, "counselor": staff, "records": {"in": rec_in.id, "out": rec_out.id},
            "caller_student": rec_in.student_no}


def _snapshot(user_id: int) -> tuple[Any, ...]:
    user = User.get_by_id(user_id)
    return user.password_hash, user.active, user.must_change_password


def _api(app, setup, role: str) -> rv.Api:
    username = {"student": setup["caller_student"], "anonymous": None}.get(role, role)
    return rv.login(app, username, LOGIN.get(role, "10561"))


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_account_action_authorization_matrix(app, setup, role: str, target: str, action: str) -> None:
    api = _api(app, setup, role)
    expected_in, expected_out = EXPECTED[role][target][action]
    for where, expected in (("out", expected_out), ("in", expected_in)):
        user_id = setup[target][where]
        before, events_before = _snapshot(user_id), AuditEvent.select().count()
        response = api.post(f"/api/v1/accounts/{user_id}/{action}")
        assert response.status_code == expected, (role, target, action, where, response.get_json())
        if expected >= 400:
            assert set(response.get_json()) == {"code", "message", "details"}
            assert _snapshot(user_id) == before and AuditEvent.select().count() == events_before
        else:
            assert AuditEvent.select().count() == events_before + 1
            assert ("one_time_code" in response.get_json()) == (action == "reset-password")


def test_unknown_account_is_404_and_not_a_leak(app, setup) -> None:
    for role in ("counselor_in", "centre", "admin"):
        assert _api(app, setup, role).post("/api/v1/accounts/999999/unlock").status_code == 404


PAGE_ACTIONS = {"console-reset": "reset", "console-unlock": "unlock"}
CENTRE_ACTIONS = ("reset", "unlock", "disable", "enable")
# role -> page -> (in, out); the console pages take a record id, the centre pages a counselor account id
PAGE_EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    "student": {**{p: (403, 403) for p in PAGE_ACTIONS}, **{a: (403, 403) for a in CENTRE_ACTIONS}},
    "anonymous": {**{p: (302, 302) for p in PAGE_ACTIONS}, **{a: (302, 302) for a in CENTRE_ACTIONS}},
    "admin": {**{p: (403, 403) for p in PAGE_ACTIONS}, **{a: (200, 200) for a in CENTRE_ACTIONS}},
    "counselor_in": {**{p: (200, 404) for p in PAGE_ACTIONS}, **{a: (403, 403) for a in CENTRE_ACTIONS}},
    "counselor_out": {**{p: (404, 404) for p in PAGE_ACTIONS}, **{a: (403, 403) for a in CENTRE_ACTIONS}},
    "centre": {**{p: (200, 404) for p in PAGE_ACTIONS}, **{a: (200, 404) for a in CENTRE_ACTIONS}},
    "centre_other": {**{p: (404, 200) for p in PAGE_ACTIONS}, **{a: (404, 200) for a in CENTRE_ACTIONS}},
}


@pytest.mark.parametrize("name", [*PAGE_ACTIONS, *CENTRE_ACTIONS])
@pytest.mark.parametrize("role", ROLES)
def test_account_page_authorization(app, setup, role: str, name: str) -> None:
    api = _api(app, setup, role)
    expected_in, expected_out = PAGE_EXPECTED[role][name]
    for where, expected in (("out", expected_out), ("in", expected_in)):
        if name in PAGE_ACTIONS:
            url = f"/console/records/{setup['records'][where]}/account/{PAGE_ACTIONS[name]}"
            user_id = setup["student"][where]
        else:
            user_id = setup["counselor"][where]
            url = f"/centre/accounts/{user_id}/{name}"
        before = _snapshot(user_id)
        response = api.post(url)
        assert response.status_code == expected, (role, name, where)
        if expected != 200:
            assert _snapshot(user_id) == before
        elif name in ("console-reset", "reset"):
            assert 'id="one-time-code"' in response.get_data(as_text=True)
            assert response.headers["Cache-Control"] == "no-store"
