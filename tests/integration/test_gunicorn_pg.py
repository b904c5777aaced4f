"""Issue 13: gunicorn with 2 workers on the throwaway PostgreSQL, concurrent journeys through it.

Production runs several gunicorn workers (on several machines) against one PostgreSQL. Here two
workers, each with its own notification sender, serve threads of students submitting, reviewers
approving and rejecting the same records in the same order (so they collide), and a burst of
reviews of one record. Afterwards: no 5xx, exactly one audit event per accepted transition, no
event for a refused one, and `gradflow audit verify` (the CLI, in its own process) passes.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
import requests

from service.config import PROJECT_ROOT
from service.db import write_transaction
from service.models import AuditEvent, PendingTask, ProcessInstance, Record
from service.services import processes
from service.services.actors import Actor
from service.services.transitions import start_instance
from tests.support.gunicorn import Gunicorn, gunicorn_env
from tests.support.reviewing import PASSWORD, World, make_world, report_for, submitted, user

SECRET = "gunicorn-pg-test-secret-" + "y" * 40
STUDENTS = 12
SUBMITTED = 16
REVIEWERS = 4
BURST = 8


def _ready_to_submit(world: World, n: int) -> tuple[Record, str]:
    """A record with a complete report, not yet submitted, bound to a student account."""
    major = world.m1 if n % 2 else world.m3
    report, st = report_for(world, major)
    p = report["personal"]
    username = f"stu{n}"
    with write_transaction():
        account = user(username, processes.active_definition()[1].submitter_role, world.school)
        rec = Record.create(school=major.school, college=major.college, major=major, category=st.category,
                            student_no=report["school"]["student_no"], name=p["name"], id_number=p["id_number"],
                            origin_region=p["origin_region"], data=report, user=account)
        start_instance(rec, Actor("importer", "system", major.school_id))
    return rec, username


class Client:
    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.s = requests.Session()
        r = self.s.post(base + "/api/v1/auth/login", json={"username": username, "password": PASSWORD,
                                                            "school_code": "10561"}, timeout=30)
        assert r.status_code == 200, r.text
        self.s.headers["X-CSRF-Token"] = r.json()["csrf_token"]

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return self.s.post(self.base + path, json=body or {}, timeout=60)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_workers_concurrent_journeys_no_5xx_one_event_per_transition(db, settings, tmp_path: Path) -> None:
    world = make_world()
    definition = processes.active_definition()[1]
    first, centre = definition.meta["levels"][0]["role"], definition.meta["levels"][-1]["role"]
    students = [_ready_to_submit(world, n) for n in range(STUDENTS)]
    pending = [submitted(world, world.m1 if i % 2 else world.m3) for i in range(SUBMITTED)]
    contested = submitted(world, world.m2)
    for n in range(REVIEWERS):
        user(f"{first}{n}", first, world.school)
        user(f"{centre}{n}", centre, world.school)
    for n in range(BURST):
        user(f"burst{n}", first, world.school)
    events_before = AuditEvent.select().count()

    env = gunicorn_env(database_url=settings.database_url, secret_key=SECRET,
                       audit_key=settings.audit_key or settings.secret_key, process=settings.process,
                       instance_path=str(tmp_path / "instance"), log_level="WARNING",
                       notify_poll_seconds="0.5")
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    accepted: list[tuple[str, str, int]] = []  # (actor, action, record id) of every 200
    lock = threading.Lock()

    def note(r: requests.Response, actor: str, action: str, record_id: int) -> None:
        with lock:
            statuses[r.status_code] += 1
            if r.status_code >= 500:
                failures.append(f"{actor} {action} {record_id}: {r.status_code} {r.text[:200]}")
            elif r.status_code == 200 and action != "view":
                accepted.append((actor, action, record_id))

    def student(batch: list[tuple[Record, str]]) -> None:
        for rec, username in batch:
            r = Client(server.base, username).post("/api/v1/student/report/submit")
            note(r, username, "submit", rec.id)

    def reviewer(username: str, n: int) -> None:
        c = Client(server.base, username)
        for i, rec in enumerate(pending):  # all reviewers walk the same records: they collide
            reject = (rec.id + n) % 5 == 0
            body = {"decision": "reject", "comment": "请核对生源地"} if reject else {"decision": "approve"}
            note(c.post(f"/api/v1/records/{rec.id}/review", body), username, "review", rec.id)
            if i % 4 == 0:
                note(c.s.get(f"{server.base}/api/v1/records/{rec.id}", timeout=60), username, "view", rec.id)

    def centre_reviewer(username: str) -> None:
        c = Client(server.base, username)
        for rec in pending:
            r = c.post(f"/api/v1/records/{rec.id}/review", {"decision": "approve"})
            note(r, username, "review", rec.id)

    barrier = threading.Barrier(BURST)

    def burst(username: str) -> None:
        c = Client(server.base, username)
        barrier.wait()
        note(c.post(f"/api/v1/records/{contested.id}/review", {"decision": "approve"}), username, "review",
             contested.id)

    with Gunicorn(env, workers=2, log=tmp_path / "gunicorn.log") as server:
        threads = [threading.Thread(target=student, args=(students[i::3],)) for i in range(3)]
        threads += [threading.Thread(target=reviewer, args=(f"{first}{n}", n)) for n in range(REVIEWERS)]
        threads += [threading.Thread(target=burst, args=(f"burst{n}",)) for n in range(BURST)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        # The centre's reviewers then race each other for whatever reached the centre.
        threads = [threading.Thread(target=centre_reviewer, args=(f"{centre}{n}",)) for n in range(REVIEWERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        log_tail = server.log_tail()

    assert not failures, (failures[:5], log_tail)
    # A lost race is a 409 (the record moved on) or, once it left the reviewer's level, a 409/403/404.
    assert set(statuses) <= {200, 403, 404, 409}, statuses
    assert statuses[409] >= BURST - 1, statuses  # the races did happen
    assert sum(1 for a in accepted if a[1] == "submit") == STUDENTS  # each student submits once, no race
    assert sum(1 for a in accepted if a[2] == contested.id) == 1  # one of the burst wins
    # Each record is reviewed once at the first level, whoever wins the race.
    first_level = Counter(r for actor, action, r in accepted if action == "review" and not actor.startswith(centre))
    assert first_level == Counter({rec.id: 1 for rec in pending} | {contested.id: 1})

    events = list(AuditEvent.select().where(AuditEvent.id > 0).order_by(AuditEvent.id))[events_before:]
    transitions = Counter((e.actor, e.action, e.record) for e in events if e.action in ("review", "submit"))
    assert transitions == Counter(accepted), "every accepted transition has exactly one event, nothing else"
    for rec in [*pending, contested]:
        inst = ProcessInstance.get(ProcessInstance.record == rec.id)
        waiting = [p.role for p in PendingTask.select().where(PendingTask.record == rec.id)]
        assert inst.completed or waiting, rec.id  # every record is either done or waiting for someone

    verify = subprocess.run(
        [sys.executable, "-m", "service.cli", "audit", "verify"], cwd=PROJECT_ROOT, capture_output=True,
        text=True, env=env, timeout=120, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
