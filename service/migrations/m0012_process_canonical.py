"""processversion.canonical_sha256 / semantic_sha256: versions keyed by a canonical form (issue 12).

Databases created before this step get both columns added and filled from each version's stored
BPMN text. Two old versions that were already the same canonically (saved twice by an editor)
both stay; the later one keeps canonical_sha256 NULL, so deploy finds the earlier. A database
created fresh has the columns from m0001 (which creates the current models) and only the fill runs.
"""

from __future__ import annotations

from peewee import CharField, Database
from playhouse.migrate import SchemaMigrator, migrate

from service.services.processes.canonical import fingerprint

TABLE = "process_version"


def apply(db: Database) -> None:
    columns = {column.name for column in db.get_columns(TABLE)}
    migrator = SchemaMigrator.from_database(db)
    if "canonical_sha256" not in columns:
        migrate(migrator.add_column(TABLE, "canonical_sha256", CharField(max_length=64, null=True)))
    if "semantic_sha256" not in columns:
        migrate(migrator.add_column(TABLE, "semantic_sha256", CharField(max_length=64, default="")))
    taken = {row[0] for row in db.execute_sql(
        f"SELECT canonical_sha256 FROM {TABLE} WHERE canonical_sha256 IS NOT NULL")}
    rows = db.execute_sql(
        f"SELECT id, bpmn_xml FROM {TABLE} WHERE canonical_sha256 IS NULL OR semantic_sha256 = '' ORDER BY id"
    ).fetchall()
    for version_id, text in rows:
        found = fingerprint(text.encode("utf-8"))
        canonical = None if found.canonical_sha256 in taken else found.canonical_sha256
        if canonical:
            taken.add(canonical)
        db.execute_sql(f"UPDATE {TABLE} SET canonical_sha256 = {db.param}, semantic_sha256 = {db.param} "
                       f"WHERE id = {db.param}", (canonical, found.semantic_sha256, version_id))
    indexes = {index.name for index in db.get_indexes(TABLE)}
    if f"{TABLE}_canonical_sha256" not in indexes:
        migrate(migrator.add_index(TABLE, ("canonical_sha256",), True))
    if f"{TABLE}_semantic_sha256" not in indexes:
        migrate(migrator.add_index(TABLE, ("semantic_sha256",), False))
