"""The one database handle, bound at startup to SQLite (embedded default) or PostgreSQL.

Models bind to `database` (a proxy) so the same code runs on both engines; `write_transaction`
takes SQLite's write lock up front (BEGIN IMMEDIATE) so a transaction never has to upgrade a stale
read snapshot, which WAL refuses with SQLITE_BUSY instead of waiting.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from peewee import Database, DatabaseProxy, SqliteDatabase
from playhouse.db_url import parse as parse_url
from playhouse.pool import PooledPostgresqlDatabase

database = DatabaseProxy()


def open_database(url: str, *, busy_timeout: float = 10.0) -> Database:
    """Open (lazily) the database a URL names: sqlite:///path or postgresql://user:pw@host/db."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(
            path,
            timeout=busy_timeout,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": int(busy_timeout * 1000),
                "synchronous": "normal",
                "cache_size": -32000,
            },
        )
    if url.startswith(("postgresql://", "postgres://")):
        params = parse_url(url)
        return PooledPostgresqlDatabase(
            params.pop("database"), max_connections=32, stale_timeout=300, **params
        )
    raise ValueError(f"unsupported database URL: {url!r} (use sqlite:///… or postgresql://…)")


def bind_database(db: Database) -> Database:
    """Point every model at `db`."""
    database.initialize(db)
    return db


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def write_transaction() -> AbstractContextManager:
    """A transaction for state changes: IMMEDIATE on SQLite, plain on PostgreSQL."""
    if is_sqlite():
        return database.atomic("IMMEDIATE")
    return database.atomic()
