"""SQLite WAL checkpoints run in a background thread of the web app, not inside requests."""

from __future__ import annotations

import gc
import os
import sqlite3
import time
from pathlib import Path

from service.db import SAFETY_NET_CHECKPOINT_PAGES, open_database


def _wait(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_thread_checkpoints_what_requests_commit(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    db = open_database(f"sqlite:///{path}", checkpoint_seconds=0.05)
    checkpointer = db.wal_checkpointer
    db.connect()
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    # requests keep only a safety net far above SQLite's 1,000-page default
    assert db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == SAFETY_NET_CHECKPOINT_PAGES
    db.execute_sql("CREATE TABLE item (body TEXT)")
    for i in range(300):
        with db.atomic():
            db.execute_sql("INSERT INTO item (body) VALUES (?)", (f"{i}:" + "生源" * 1500,))

    before = checkpointer.checkpoints

    def everything_copied() -> bool:  # a checkpoint after the last commit backfilled every WAL frame
        last = checkpointer.last
        return checkpointer.checkpoints > before and last is not None and 0 < last[1] == last[2]

    assert _wait(everything_copied), checkpointer.last
    db.close()  # a request connection closing neither checkpoints nor deletes the WAL: the thread's is open
    assert (tmp_path / "wal.db-wal").exists()
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT count(*) FROM item").fetchone()[0] == 300
    checkpointer.stop()
    assert not checkpointer.running


def test_the_thread_ends_with_its_database(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'gone.db'}", checkpoint_seconds=0.05)
    checkpointer = db.wal_checkpointer
    db.connect()
    db.execute_sql("CREATE TABLE item (x INTEGER)")
    db.close()
    assert checkpointer.running
    del db
    gc.collect()
    assert _wait(lambda: not checkpointer.running)


def test_zero_keeps_sqlites_own_checkpoints(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'plain.db'}", checkpoint_seconds=0)
    assert not hasattr(db, "wal_checkpointer")
    db.connect()
    assert db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    db.close()


def test_a_forked_worker_gets_its_own_thread(tmp_path: Path) -> None:
    """gunicorn --preload forks after create_app; threads do not survive a fork, so it restarts."""
    db = open_database(f"sqlite:///{tmp_path / 'fork.db'}", checkpoint_seconds=0.05)
    checkpointer = db.wal_checkpointer
    db.connect()
    db.execute_sql("CREATE TABLE item (x INTEGER)")
    db.close()
    pid = os.fork()
    if pid == 0:  # the child: only a new thread can make progress here
        before = checkpointer.checkpoints
        ok = _wait(lambda: checkpointer.running and checkpointer.checkpoints > before + 2, 5)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    checkpointer.stop()
