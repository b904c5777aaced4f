"""Authorization matrix of the review page and its actions: every role × page/POST × in scope / out.

Process versions belong to the whole deployment, so "in scope" is a deployed version (for roll
back: the default, every school) and "out of scope" is a version id or school code that does not
exist: 404, never 403, for those who may use the page. Centre and admin read the review page; only
the admin activates and rolls back; other roles get 403, anonymous callers are sent to login.
Whatever the call, a refused one activates nothing.
"""

from __future__ import annotations

import pytest

from service.services import processes
from service.services.actors import Actor
from tests.conftest import THREE_LEVEL_BPMN
from tests.support import reviewing as rv

ROLES = ("student", "counselor", "centre", "centre_other", "admin", "anonymous")
LOGIN = {"centre_other": "10562", "admin": None}
MISSING_VERSION = 987654

PAGES = {
    "review": ("GET", "/centre/processes/{id}/review", None),
    "activate_unconfirmed": ("POST", "/centre/processes/{id}/activate", {}),
    "activate": ("POST", "/centre/processes/{id}/activate", {"confirm": "1", "scope": "all",
                                                             "ack": "level_order:二级+一级+中心"}),
    "activate_school": ("POST", "/centre/processes/{id}/activate", {"confirm": "1", "scope": "chosen",
                                                                    "school": "10561",
                                                                    "ack": "level_order:二级+一级+中心"}),
    "rollback": ("POST", "/centre/processes/rollback", "school"),
}
NONE_ALLOWED = {p: (403, 403) for p in PAGES}
# role -> page -> (status in scope, status out of scope)
EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    "student": NONE_ALLOWED,
    "counselor": NONE_ALLOWED,
    "centre": {**NONE_ALLOWED, "review": (200, 404)},
    "centre_other": {**NONE_ALLOWED, "review": (200, 404)},
    "admin": {"review": (200, 404), "activate_unconfirmed": (200, 404), "activate": (302, 404),
              "activate_school": (302, 404), "rollback": (302, 404)},
    "anonymous": {p: (302, 302) for p in PAGES},
}


def test_the_table_covers_every_role_and_page() -> None:
    assert set(EXPECTED) == set(ROLES)
    for row in EXPECTED.values():
        assert set(row) == set(PAGES)


@pytest.fixture
def setup(db):
    w = rv.make_world()
    rv.user("counselor", "counselor", w.school, colleges=(w.c1,))
    rv.user("centre", "centre", w.school)
    rv.user("centre_other", "centre", w.other_school)
    rv.user("admin", "admin", None)
    student = rv.user("20210000001", "student", w.school)
    two = processes.active_version()
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    admin = Actor("root", "admin", None)
    processes.activate(str(three.id), actor=admin)
    processes.activate(str(two.id), actor=admin)  # so a roll back has a previous version to return to
    return {"student": student.username, "two": two.id, "three": three.id}


def _state() -> tuple[int, ...]:
    return (processes.active_version().id, processes.active_version("10561").id, processes.active_version("10562").id)


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("role", ROLES)
def test_review_pages_authorization(app, setup, role: str, name: str) -> None:
    username = {"student": setup["student"], "anonymous": None}.get(role, role)
    api = rv.login(app, username, LOGIN.get(role, "10561"))
    method, url, body = PAGES[name]
    before = _state()
    got = []
    for version_id, school in ((MISSING_VERSION, "99999"), (setup["three"], "")):
        target = url.format(id=version_id)
        form = {"school": school} if body == "school" else dict(body or {})
        if method == "GET":
            got.append(api.client.get(target).status_code)
        else:
            got.append(api.client.post(target, data={**form, "csrf_token": api.csrf or ""}).status_code)
        if got[-1] != 302 or role != "admin":
            assert _state() == before, (role, name, "a refused call changed the active version")
    assert (got[1], got[0]) == EXPECTED[role][name], (role, name)
