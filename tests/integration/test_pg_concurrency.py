"""Issue 9 item 3: 16 clients against gunicorn (4 workers) on PostgreSQL, zero 5xx.

Before: exports, sign-off sheets and full-ID views appended to the same chains at the same moment
and collided on (chain_key, seq) (29 % of an export burst failed), and concurrent roster imports
created the same college twice (7 of 12 failed). Now appends queue on the chain's head row and
org units are created insert-or-nothing. The clients mix every kind of request that writes to a
shared chain, plus reviews; afterwards every chain verifies.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from service.config import PROJECT_ROOT
from service.models import AuditEvent, College
from service.services import audit
from tests.support import roster_files
from tests.support.reviewing import PASSWORD, make_world, submitted, user

CLIENTS = 16
ROUNDS = 3
SECRET = "concurrency-test-secret-" + "x" * 40


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(settings, db, tmp_path: Path):
    port = _port()
    env = {**os.environ, "GRADFLOW_DATABASE_URL": settings.database_url, "GRADFLOW_SECRET_KEY": SECRET,
           "GRADFLOW_AUDIT_KEY": settings.audit_key or settings.secret_key, "GRADFLOW_PROCESS": settings.process,
           "GRADFLOW_INSTANCE_PATH": str(tmp_path / "instance"), "GRADFLOW_LOG_LEVEL": "WARNING"}
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", "4", "--threads", "2", "-b", f"127.0.0.1:{port}",
         "--timeout", "120", "service:create_app()"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text(errors="replace")[-2000:])
    yield base
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _session(base: str, username: str) -> requests.Session:
    s = requests.Session()
    r = s.post(base + "/api/v1/auth/login", json={"username": username, "password": PASSWORD,
                                                  "school_code": "10561"}, timeout=30)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_sixteen_clients_exports_signoffs_imports_views_and_reviews_no_5xx(db, settings, tmp_path, request):
    world = make_world()
    records = [submitted(world, world.m1 if i % 2 else world.m3) for i in range(24)]
    for n in range(CLIENTS):
        user(f"centre{n}", "centre", world.school)
        user(f"counselor{n}", "counselor", world.school)
    base = request.getfixturevalue("gunicorn")
    # Every import brings the same new college: the old code created it twice and failed.
    roster = roster_files.xlsx_bytes([roster_files.student(9000 + i, 院系="新设学院", 专业="人工智能",
                                                           专业代码="080717T") for i in range(5)])
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    reviews_ok: list[int] = []

    def client(n: int) -> None:
        s = _session(base, f"centre{n}" if n % 2 == 0 else f"counselor{n}")
        for round_ in range(ROUNDS):
            rec = records[(n + round_) % len(records)]
            calls = [
                ("GET", "/api/v1/records/export.xlsx", {}),
                ("GET", f"/api/v1/records/{rec.id}/signoff.pdf", {}),
                ("GET", f"/api/v1/records/{rec.id}?full_id=true" if n % 2 == 0 else f"/api/v1/records/{rec.id}", {}),
                ("POST", "/api/v1/roster/import", {"files": {"file": ("roster.xlsx", roster)}}) if n % 2 == 0
                else ("POST", f"/api/v1/records/{rec.id}/review", {"json": {"decision": "approve"}}),
            ]
            for method, url, kw in calls:
                r = s.request(method, base + url, timeout=120, **kw)
                with lock:
                    statuses[r.status_code] += 1
                    if url.endswith("/review") and r.status_code == 200:
                        reviews_ok.append(rec.id)
                    if r.status_code >= 500:
                        failures.append(f"{method} {url}: {r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not failures, failures[:5]
    assert sum(statuses.values()) == CLIENTS * ROUNDS * 4
    # Reviews may lose the race to another counselor (409) but nothing else may fail.
    assert set(statuses) <= {200, 201, 409}, statuses
    assert College.select().where((College.school == "10561") & (College.name == "新设学院")).count() == 1
    result = audit.verify()
    assert result.ok, result.problems[:5]
    exports = AuditEvent.select().where((AuditEvent.chain_key == "school:10561") & (AuditEvent.action == "export"))
    assert exports.count() >= CLIENTS * ROUNDS * 2  # every export and sign-off sheet was audited
    reviews = AuditEvent.select().where((AuditEvent.action == "review") & (AuditEvent.actor_role == "counselor"))
    assert sorted(e.record for e in reviews) == sorted(reviews_ok)  # each accepted review: one event
