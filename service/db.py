"""The one database handle, bound at startup to SQLite (embedded default) or PostgreSQL.

Models bind to `database` (a proxy) so the same code runs on both engines; `write_transaction`
takes SQLite's write lock up front (BEGIN IMMEDIATE) so a transaction never has to upgrade a stale
read snapshot, which WAL refuses with SQLITE_BUSY instead of waiting.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from peewee import Database, DatabaseProxy, SqliteDatabase
from playhouse.db_url import parse as parse_url
from playhouse.pool import PooledPostgresqlDatabase

database = DatabaseProxy()


log = logging.getLogger("gradflow.db")

# With background checkpoints, a connection still checkpoints by itself once its WAL passes this
# many pages (about 80 MB): the safety net if the checkpoint thread falls behind or is gone.
SAFETY_NET_CHECKPOINT_PAGES = 20_000


def open_database(url: str, *, busy_timeout: float = 10.0, checkpoint_seconds: float = 0.0) -> Database:
    """Open (lazily) the database a URL names: sqlite:///path or postgresql://user:pw@host/db.

    checkpoint_seconds > 0 moves SQLite's WAL checkpoints to a background thread (see
    WalCheckpointer); 0 keeps SQLite's default, where a committing connection checkpoints.
    """
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        background = checkpoint_seconds > 0 and path != ":memory:"
        pragmas: dict[str, object] = {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": int(busy_timeout * 1000),
            "synchronous": "normal",
            "cache_size": -32000,
        }
        if background:
            pragmas["wal_autocheckpoint"] = SAFETY_NET_CHECKPOINT_PAGES
        db = SqliteDatabase(path, timeout=busy_timeout, pragmas=pragmas)
        if background:
            WalCheckpointer(db, path, checkpoint_seconds, busy_timeout).start()
        _OPENED.add(db)
        return db
    if url.startswith(("postgresql://", "postgres://")):
        params = parse_url(url)
        pooled = PooledPostgresqlDatabase(
            params.pop("database"), max_connections=32, stale_timeout=300, **params
        )
        _OPENED.add(pooled)
        return pooled
    raise ValueError(f"unsupported database URL: {url!r} (use sqlite:///… or postgresql://…)")


# Databases this process opened, and connections a forked child inherited from its parent.
_OPENED: weakref.WeakSet[Database] = weakref.WeakSet()
_INHERITED: list[object] = []


def _forget_connections_after_fork() -> None:
    """In a forked child (gunicorn --preload, a multiprocessing worker) the parent's connections
    must be neither used nor closed: PostgreSQL's socket is shared with the parent (closing sends
    it a Terminate) and closing a SQLite file drops the parent's POSIX locks. They are dropped
    from the handles (the child opens its own) and kept referenced so nothing closes them."""
    for db in list(_OPENED):
        state = db._state
        if state.conn is not None:
            _INHERITED.append(state.conn)
        state.reset()
        if isinstance(db, PooledPostgresqlDatabase):
            _INHERITED.extend(db._connections)
            _INHERITED.extend(db._in_use.values())
            db._connections = []
            db._in_use = {}


os.register_at_fork(after_in_child=_forget_connections_after_fork)


def bind_database(db: Database) -> Database:
    """Point every model at `db`."""
    database.initialize(db)
    return db


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


T = TypeVar("T")
# Reads that a request repeats (which process version a school runs, its light row): remembered
# for the rest of that request only, so several workers never disagree for longer than a request.
# None outside a request (CLI, tests calling services directly): nothing is remembered there.
_request_memo: ContextVar[dict[Any, Any] | None] = ContextVar("gradflow_request_memo", default=None)


def begin_request_memo() -> None:
    _request_memo.set({})


def end_request_memo() -> None:
    _request_memo.set(None)


def request_memo(key: Any, load: Callable[[], T]) -> T:
    """load(), once per request and key (every call outside a request)."""
    memo = _request_memo.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]  # type: ignore[no-any-return]


def forget_request_memo() -> None:
    """A write in this request changed what the memo holds (e.g. an activation): read afresh."""
    memo = _request_memo.get()
    if memo is not None:
        memo.clear()


def release_request_connection() -> None:
    """End of a request: PostgreSQL's connection goes back to the pool; SQLite's stays open.

    Opening a SQLite connection costs more than a whole cheap request (the file is opened and six
    PRAGMAs run), so each worker thread keeps its own (peewee's connection state is per thread);
    it is in autocommit mode between transactions, so nothing is held across requests.
    """
    if database.obj is None or database.is_closed():
        return
    if not is_sqlite():
        database.close()


@contextmanager
def savepoint(name: str = "gradflow_item") -> Iterator[None]:
    """Make one item of a larger transaction all-or-nothing: an error rolls back only this block.

    Plain SQL with a fixed name (nesting reuses it safely): peewee's savepoints name each one
    with a fresh uuid and cost several times as much, which shows when a batch takes thousands.
    """
    database.execute_sql(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        database.execute_sql(f"ROLLBACK TO SAVEPOINT {name}")
        database.execute_sql(f"RELEASE SAVEPOINT {name}")
        raise
    database.execute_sql(f"RELEASE SAVEPOINT {name}")


def write_transaction() -> AbstractContextManager:
    """A transaction for state changes: IMMEDIATE on SQLite, plain on PostgreSQL."""
    if is_sqlite():
        return database.atomic("IMMEDIATE")
    return database.atomic()


class WalCheckpointer:
    """Copies a SQLite file's WAL back into the database from a background thread.

    By default the commit that takes the WAL past 1,000 pages checkpoints inside that request:
    it writes the pages into the database file and fsyncs it, up to ~300 ms on this hardware and
    a quarter of a batch review's time. Here a thread runs PASSIVE checkpoints every `interval`
    seconds instead (they wait for no reader or writer); sqlite3 releases the GIL while it does,
    so the copy and fsync overlap request work. Durability is unchanged (synchronous=NORMAL).
    Its open connection also keeps the WAL from being checkpointed and deleted whenever the last
    request connection closes. The thread stops with stop() or once its database object is gone,
    and starts again in a forked child (gunicorn --preload forks after create_app).
    """

    def __init__(self, db: SqliteDatabase, path: str, interval: float, busy_timeout: float) -> None:
        self.path = path
        self.interval = interval
        self.busy_timeout = busy_timeout
        self.checkpoints = 0
        self.last: tuple[int, int, int] | None = None
        self._db = weakref.ref(db)
        self._stop = threading.Event()
        self._thread = self._new_thread()
        db.wal_checkpointer = self  # type: ignore[attr-defined]
        _LIVE_CHECKPOINTERS.add(self)

    def _new_thread(self) -> threading.Thread:
        return threading.Thread(target=self._run, name=f"wal-checkpoint:{Path(self.path).name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _restart_in_child(self) -> None:
        """After fork only the forking thread exists: start a fresh thread (and connection) here."""
        if self._stop.is_set() or self._db() is None:
            return
        self._thread = self._new_thread()
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def checkpoint(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, WAL frames, frames checkpointed)."""
        busy, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        self.last = (busy, frames, done)
        return self.last

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self.interval) and self._db() is not None:
                if conn is None:
                    if not Path(self.path).exists():
                        continue  # nothing to checkpoint until the first connection creates the file
                    conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                           check_same_thread=True)
                    conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                try:
                    self.checkpoint(conn)
                except sqlite3.Error as exc:  # e.g. the file is being replaced; try again next time
                    log.warning("background WAL checkpoint of %s failed: %s", self.path, exc)
        finally:
            if conn is not None:
                conn.close()


_LIVE_CHECKPOINTERS: weakref.WeakSet[WalCheckpointer] = weakref.WeakSet()


def _restart_checkpointers_after_fork() -> None:
    for checkpointer in list(_LIVE_CHECKPOINTERS):
        checkpointer._restart_in_child()


os.register_at_fork(after_in_child=_restart_checkpointers_after_fork)
