"""Issue 13: what a request does on every call, and that nothing it keeps goes stale.

The caller (session, account, grants, owned record) is one statement; the activations of the
caller's school are read once per request however many lookups need them; a record view is one
statement for record, instance, college and major. Nothing is cached across requests that another
worker could change: a revoked session, a new grant or another version's activation is seen on
the very next request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from service.db import begin_request_memo, database, end_request_memo
from service.models import UserScope
from service.services import accounts, processes
from tests.conftest import THREE_LEVEL_BPMN
from tests.support import reviewing as rv


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL the bound database runs inside the block (peewee's execute_sql, wrapped)."""
    seen: list[str] = []
    db = database.obj
    original = db.execute_sql

    def spy(sql, params=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(sql)
        return original(sql, params, *args, **kwargs)

    db.execute_sql = spy
    try:
        yield seen
    finally:
        del db.execute_sql


def _first_level() -> str:
    return processes.active_definition()[1].reviewer_roles[0]


def test_auth_me_is_one_statement_and_a_record_view_four(app, db) -> None:
    world = rv.make_world()
    rec = rv.submitted(world, world.m1)
    rv.user("centre1", "centre", world.school)
    api = rv.login(app, "centre1")
    api.get("/api/v1/auth/me")
    with statements() as seen:
        assert api.get("/api/v1/auth/me").status_code == 200
    assert len(seen) == 1, seen
    with statements() as seen:
        assert api.get(f"/api/v1/records/{rec.id}").status_code == 200
    # caller; activations; record + instance + college + major; pending tasks
    assert len(seen) == 4, seen
    assert sum("process_activation" in s for s in seen) == 1


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_a_review_reads_the_activations_once(app, db) -> None:
    world = rv.make_world()
    rec = rv.submitted(world, world.m1)
    rv.user("cn", _first_level(), world.school)
    api = rv.login(app, "cn")
    with statements() as seen:
        r = api.post(f"/api/v1/records/{rec.id}/review", {"decision": "approve"})
    assert r.status_code == 200, r.get_json()
    assert sum("process_activation" in s for s in seen) == 1, seen


def test_what_another_worker_changes_is_seen_on_the_next_request(app, db) -> None:
    world = rv.make_world()
    rec = rv.submitted(world, world.m3)  # in c2
    u = rv.user("cn", _first_level(), world.school, colleges=(world.c1,))
    api = rv.login(app, "cn")
    assert api.get(f"/api/v1/records/{rec.id}").status_code == 404  # out of scope
    UserScope.create(user=u, college=world.c2)  # granted elsewhere (another worker, the CLI)
    assert api.get(f"/api/v1/records/{rec.id}").status_code == 200
    assert sorted(api.get("/api/v1/auth/me").get_json()["college_ids"]) == sorted([world.c1.id, world.c2.id])
    accounts.revoke_sessions(u)  # e.g. an admin disabled the account on another machine
    assert api.get("/api/v1/auth/me").status_code == 401


def test_activations_are_one_read_per_request_and_a_write_in_it_is_seen_at_once(app, db) -> None:
    first = processes.active_version().id
    other = processes.deploy_file(THREE_LEVEL_BPMN).version.id
    with app.test_request_context():
        begin_request_memo()
        try:
            with statements() as seen:
                assert processes.active_version_or_none().id == first
                assert processes.definitions_in_use()[0].sha256 == processes.definition(first).sha256
                assert processes.active_definition()[0].id == first
            assert sum("process_activation" in s for s in seen) == 1
            # Another worker activates meanwhile: this request keeps one consistent view ...
            done = threading.Thread(target=lambda: (processes.activate(str(other)), database.close()))
            done.start()
            done.join()
            assert processes.active_definition()[0].id == first
            # ... but a write of its own is seen at once.
            processes.activate(str(first))
            processes.activate(str(other))
            assert processes.active_definition()[0].id == other
            assert processes.active_definition()[0].active
        finally:
            end_request_memo()
    processes.activate(str(first))  # the next request (or any code outside one) reads afresh
    assert processes.active_definition()[0].id == first
