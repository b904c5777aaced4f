"""Issue 13: background work is safe with N gunicorn workers on M machines sharing PostgreSQL.

Every worker process runs its own notification sender, so any number of them claim deliveries
and run the schedule at the same moment: claims never overlap (SKIP LOCKED plus the status check),
a scheduled job runs once however many senders race for it (its unique mark). A process forked
from one that already held connections (gunicorn --preload) neither uses nor closes the parent's
connections, and gets its own sender thread.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import datetime, timedelta

import pytest

from service.db import database
from service.models import Delivery, Notification, utcnow
from service.services import processes
from service.services.notify import schedule, sender
from tests.support import reviewing as rv

SENDERS = 4


def _due_deliveries(school_code: str, n: int) -> set[int]:
    ids = set()
    for i in range(n):
        note = Notification.create(uid=uuid.uuid4().hex, school=school_code, kind="digest", subject=f"s{i}", body="b")
        ids.add(Delivery.create(notification=note, channel="email", address=f"a{i}@example.edu.cn",
                                next_attempt_at=utcnow() - timedelta(seconds=1)).id)
    return ids


def _race(target, n: int = SENDERS) -> list:  # type: ignore[no-untyped-def]
    """Run target() in n threads released together (each thread has its own connection)."""
    barrier = threading.Barrier(n)
    out: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            value = target()
            with lock:
                out.append(value)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return out


@pytest.mark.parametrize("db_url", ["postgres", "sqlite"], indirect=True)
def test_concurrent_senders_claim_every_delivery_exactly_once(db, settings) -> None:
    world = rv.make_world()
    ids = _due_deliveries(world.school.code, 120)

    def drain() -> list[int]:
        mine: list[int] = []
        while True:
            batch = sender.claim(settings, utcnow(), 7)
            if not batch:
                return mine
            mine.extend(d.id for d in batch)

    claimed = _race(drain)
    flat = [i for part in claimed for i in part]
    assert len(flat) == len(set(flat)), "a delivery was claimed by two senders"
    assert set(flat) == ids
    assert sum(1 for part in claimed if part) >= 2  # the senders really did share the work
    assert Delivery.select().where(Delivery.status == "sending").count() == len(ids)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_stale_claim_is_released_once_and_its_late_sender_cannot_finish_it(db, settings) -> None:
    world = rv.make_world()
    (did,) = _due_deliveries(world.school.code, 1)
    (first,) = sender.claim(settings, utcnow(), 5)  # a sender that then died: its lease ran out
    Delivery.update(claimed_at=utcnow() - timedelta(seconds=settings.notify_lease_seconds + 5)).execute()
    released = _race(lambda: sender.release_stale(settings, utcnow()))
    assert sum(released) == 1  # one of the racing senders released it
    (second,) = sender.claim(settings, utcnow(), 5)
    sender._finish(first, status="sent")  # the first sender wakes up late: its claim is no longer valid
    row = Delivery.get_by_id(did)
    assert row.status == "sending" and row.claim_token == second.claim_token


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_daily_digest_is_written_once_when_every_sender_runs_it_at_once(db, settings) -> None:
    world = rv.make_world()
    first = processes.active_definition()[1].reviewer_roles[0]
    rv.user("c1", first, world.school, colleges=(world.c1,))
    rv.user("c2", first, world.school, colleges=(world.c2,))
    rv.submitted(world, world.m1)
    rv.submitted(world, world.m3)
    morning = datetime(2026, 12, 3, 1, 0)  # 09:00 Beijing
    written = _race(lambda: schedule.daily_digest(world.school.code, "华南理工大学", settings, morning))
    assert sorted(written) == [0] * (SENDERS - 1) + [2]
    assert Notification.select().where(Notification.kind == "digest").count() == 2


def _in_child(check) -> int:  # type: ignore[no-untyped-def]
    """Fork, run check() in the child (True → exit 0), return the child's exit status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            code = 0 if check() else 3
        except BaseException:  # noqa: BLE001
            code = 4
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize("db_url", ["postgres", "sqlite"], indirect=True)
def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone(db, settings) -> None:
    pg = not settings.database_url.startswith("sqlite")
    who = "SELECT pg_backend_pid()" if pg else "SELECT 1"
    parent_id = database.execute_sql(who).fetchone()[0]
    parent_conn = database.connection()

    def child() -> bool:
        if database.connection() is parent_conn:
            return False
        mine = database.execute_sql(who).fetchone()[0]
        database.close()
        return (mine != parent_id) if pg else mine == 1

    assert _in_child(child) == 0
    # The parent's connection survived the child's exit (nothing sent it a Terminate or dropped its locks).
    assert database.connection() is parent_conn
    assert database.execute_sql(who).fetchone()[0] == parent_id


def test_a_forked_process_starts_its_own_sender(db, settings) -> None:
    sender.start_worker(settings)

    def child() -> bool:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if any(t.name == "gradflow-notify" and t.is_alive() for t in threading.enumerate()):
                return True
            time.sleep(0.05)
        return False

    try:
        assert _in_child(child) == 0
    finally:
        sender.stop_worker()


def test_every_machine_of_a_release_may_upgrade_and_deploy_at_once(pg_server, tmp_path) -> None:
    """`gradflow db upgrade` and `gradflow process deploy --activate`, run by three machines at the
    same moment (three processes): the steps are applied once, the file becomes one version,
    every run succeeds."""
    import subprocess
    import sys

    import psycopg2

    from service.config import PROJECT_ROOT
    from service.migrations import STEPS
    from tests.conftest import DEFAULT_BPMN, TEST_SECRET_KEY
    from tests.support import postgres
    from tests.support.gunicorn import gunicorn_env

    url = postgres.create_database(pg_server)
    env = gunicorn_env(database_url=url, secret_key=TEST_SECRET_KEY, instance_path=str(tmp_path))
    try:
        for command in (["db", "upgrade"], ["process", "deploy", str(DEFAULT_BPMN), "--activate"]):
            runs = [subprocess.Popen([sys.executable, "-m", "service.cli", *command], cwd=PROJECT_ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(3)]
            outputs = [(r.wait(120), r.stdout.read() if r.stdout else "") for r in runs]
            assert all(code == 0 for code, _ in outputs), outputs
        conn = psycopg2.connect(url)
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*), COUNT(DISTINCT name) FROM schema_migrations")
            assert cur.fetchone() == (len(STEPS), len(STEPS))
            cur.execute("SELECT COUNT(*) FROM process_version")
            assert cur.fetchone() == (1,)
            cur.execute("SELECT COUNT(*) FROM process_activation WHERE current")
            assert cur.fetchone() == (1,)
        conn.close()
        verify = subprocess.run([sys.executable, "-m", "service.cli", "audit", "verify"], cwd=PROJECT_ROOT, env=env,
                                capture_output=True, text=True, timeout=120, check=False)
        assert verify.returncode == 0, verify.stdout + verify.stderr
    finally:
        postgres.drop_database(pg_server, url)


@pytest.mark.parametrize("db_url", ["postgres", "sqlite"], indirect=True)
def test_one_sender_of_the_whole_deployment_runs_the_schedule_per_period(db, settings) -> None:
    now = datetime(2026, 12, 3, 1, 0, 5)
    takers = _race(lambda: schedule.claim_tick(settings, now))
    assert sorted(takers) == [False] * (SENDERS - 1) + [True]
    assert not schedule.claim_tick(settings, now + timedelta(seconds=30))  # same period
    assert schedule.claim_tick(settings, now + timedelta(seconds=60))  # the next one
    from service.models import NotifyMark

    ticks = NotifyMark.select().where(NotifyMark.key.startswith(schedule.TICK_PREFIX)).count()
    assert ticks == 1  # older periods' marks are gone
