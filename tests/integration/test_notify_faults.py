"""Nothing lost: an SMTP outage during 500 rejections, and a sender killed with SIGKILL mid-run.

Both count distinct Message-IDs on the receiving (real aiosmtpd) server. Delivery is at least
once; after a kill only the deliveries claimed at that moment (at most notify_batch_size) may
arrive twice, and the test reports how many did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from service.config import PROJECT_ROOT, load_settings
from service.db import write_transaction
from service.models import Delivery
from service.services import processes
from service.services.notify import sender
from tests.conftest import TEST_SECRET_KEY
from tests.support import reviewing as rv
from tests.support.notify_servers import SmtpServer, quiet_port

BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
SENDER = "noreply@example.edu.cn"


@pytest.fixture
def smtp_port() -> int:
    return quiet_port()


@pytest.fixture
def settings(db_url, tmp_path, process_file, smtp_port):
    return load_settings(
        environ={}, database_url=db_url, instance_path=str(tmp_path / "instance"), process=str(process_file),
        secret_key=TEST_SECRET_KEY, notify_worker=False, smtp_host="127.0.0.1", smtp_port=smtp_port,
        smtp_sender=SENDER, notify_backoff_seconds=0.01, notify_max_attempts=100, notify_quiet_hours="",
        notify_digest_hour=24, smtp_timeout=5.0)


def _rejections(count: int) -> None:
    world = rv.make_world()
    first = processes.active_definition()[1].meta["levels"][0]["role"]
    for i in range(count):
        rec = rv.submitted(world, world.m1 if i % 2 else world.m3)
        rv.reject(rec, first, f"第 {i} 条：请补充家庭地址")


@BOTH_DATABASES
def test_an_smtp_outage_during_500_rejections_loses_nothing(db, settings, smtp_port) -> None:
    _rejections(500)
    assert Delivery.select().count() == 500
    for _ in range(3):  # the server is down: every attempt fails and is put back with a backoff
        sender.run_once(settings)
        time.sleep(0.05)
    assert Delivery.select().where(Delivery.status == "sent").count() == 0
    assert Delivery.select().where(Delivery.attempts >= 1).count() == 500
    assert "SMTP connection" in Delivery.get().last_error

    server = SmtpServer(smtp_port).start()  # the server comes back
    try:
        deadline = time.monotonic() + 120
        while Delivery.select().where(Delivery.status == "sent").count() < 500 and time.monotonic() < deadline:
            sender.run_once(settings)
            time.sleep(0.02)
        ids = server.ids()
    finally:
        server.stop()
    assert len(set(ids)) == 500 and len(ids) == 500
    assert Delivery.select().where(Delivery.status != "sent").count() == 0


def _sender_process(settings, smtp_port: int, lease: float) -> subprocess.Popen:
    env = {**os.environ, "GRADFLOW_DATABASE_URL": settings.resolved_database_url,
           "GRADFLOW_SECRET_KEY": TEST_SECRET_KEY, "GRADFLOW_INSTANCE_PATH": settings.instance_path,
           "GRADFLOW_PROCESS": settings.process, "GRADFLOW_SMTP_HOST": "127.0.0.1",
           "GRADFLOW_SMTP_PORT": str(smtp_port), "GRADFLOW_SMTP_SENDER": SENDER,
           "GRADFLOW_NOTIFY_LEASE_SECONDS": str(lease), "GRADFLOW_NOTIFY_DIGEST_HOUR": "24",
           "GRADFLOW_NOTIFY_QUIET_HOURS": "", "GRADFLOW_NOTIFY_WORKER": "false",
           "GRADFLOW_NOTIFY_BACKOFF_SECONDS": "0.05", "GRADFLOW_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "service.cli", "notify", "run"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@BOTH_DATABASES
def test_a_sender_killed_mid_run_repeats_only_what_was_in_flight(db, settings, smtp_port, capsys) -> None:
    total = 300
    _rejections(total)
    server = SmtpServer(smtp_port, delay=0.01).start()
    try:
        proc = _sender_process(settings, smtp_port, lease=600)
        deadline = time.monotonic() + 60
        while len(server.messages) < total // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        arrived_at_kill = len(server.messages)
        assert 0 < arrived_at_kill < total, "the kill must land mid-run"
        in_flight = Delivery.select().where(Delivery.status == "sending").count()
        assert in_flight <= settings.notify_batch_size

        # The restarted sender releases the dead one's claims (lease 0 here) and finishes the queue
        # (run again while a retry is still due later: `notify run` stops when nothing is due now).
        for _ in range(5):
            proc = _sender_process(settings, smtp_port, lease=0)
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err.decode()
            if not Delivery.select().where(Delivery.status != "sent").exists():
                break
            time.sleep(0.2)
        ids = server.ids()
    finally:
        server.stop()
    repeats = len(ids) - len(set(ids))
    assert len(set(ids)) == total
    assert repeats <= in_flight
    assert max(Counter(ids).values()) <= 2
    with write_transaction():
        assert Delivery.select().where(Delivery.status != "sent").count() == 0
    with capsys.disabled():
        print(f"\n[notify kill test] {total} messages, {arrived_at_kill} arrived before SIGKILL, "
              f"{in_flight} in flight at the kill, {repeats} delivered twice")
