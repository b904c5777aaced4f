"""Schema migrations: an ordered list of named steps, each applied once and recorded.

A new schema change is a new module mNNNN_<what>.py with `def apply(db) -> None`, appended to
STEPS. Steps must not rely on the current models' columns for tables created by earlier steps
(use playhouse.migrate for added columns), so old databases upgrade the same way new ones do.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from peewee import CharField, Database, DateTimeField, Model, SqliteDatabase

STEPS = [
    "m0001_initial",
    "m0002_roster_imports",
    "m0003_record_search",
    "m0004_audit_heads",
    "m0005_sessions",
    "m0006_deadlines",
    "m0007_account_recovery",
    "m0008_chase",
    "m0011_notifications",
    "m0012_process_canonical",
    "m0013_school_activation",
    "m0014_chain_head_on_instance",
    "m0015_list_search",
    "m0016_province_roster_index",
    "m0017_name_search_table",
    "m0018_audit_trail_indexes",
    "m0019_audit_school_order",
    "m0020_roster_progress_by_college",
]


class SchemaMigration(Model):
    name = CharField(primary_key=True, max_length=128)
    applied_at = DateTimeField()

    class Meta:
        table_name = "schema_migrations"


def upgrade(db: Database) -> list[str]:
    """Apply the steps this database has not seen; returns their names (empty when up to date)."""
    with db.bind_ctx([SchemaMigration]), _one_upgrade_at_a_time(db):
        db.create_tables([SchemaMigration], safe=True)
        done = {m.name for m in SchemaMigration.select(SchemaMigration.name)}
        applied = []
        for name in STEPS:
            if name in done:
                continue
            module = importlib.import_module(f"service.migrations.{name}")
            with db.atomic():
                module.apply(db)
                SchemaMigration.create(name=name, applied_at=datetime.now(UTC).replace(tzinfo=None))
            applied.append(name)
        return applied


# Any constant: the advisory lock that makes concurrent `gradflow db upgrade` runs take turns.
_UPGRADE_LOCK = 0x67726164  # "grad"


@contextmanager
def _one_upgrade_at_a_time(db: Database) -> Iterator[None]:
    """On PostgreSQL, hold a session advisory lock while upgrading: every machine of a release may
    run `gradflow db upgrade` at once; the first applies the steps, the others wait and then find
    nothing left to do. (SQLite serializes writers by itself.)"""
    if isinstance(db, SqliteDatabase):
        yield
        return
    db.execute_sql("SELECT pg_advisory_lock(%s)", (_UPGRADE_LOCK,))
    try:
        yield
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (_UPGRADE_LOCK,))


def pending(db: Database) -> list[str]:
    with db.bind_ctx([SchemaMigration]):
        if not db.table_exists("schema_migrations"):
            return list(STEPS)
        done = {m.name for m in SchemaMigration.select(SchemaMigration.name)}
    return [s for s in STEPS if s not in done]
