"""user.must_change_password: an account whose password was reset to a one-time code.

Databases created before this step get the column added (default false, so every existing
account logs in as before); a database created fresh already has it from m0001, which creates
the current models, so the column is added only when missing.
"""

from __future__ import annotations

from peewee import BooleanField, Database
from playhouse.migrate import SchemaMigrator, migrate

COLUMN = "must_change_password"


def apply(db: Database) -> None:
    if COLUMN in {column.name for column in db.get_columns("user")}:
        return
    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_column("user", COLUMN, BooleanField(default=False)))
