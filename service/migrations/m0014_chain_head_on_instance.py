"""process_instance.audit_seq / audit_hash: a record chain's head kept on the record's instance.

Why: a step appends to its record's chain and needs the previous hash. With the head in
audit_head that was a read (or an upsert returning it) plus a second write on every step; on the
instance it is loaded with the instance and written by the same UPDATE that checks lock_version.
Existing record heads move here (and leave audit_head); NULL means "this chain's head is still
in audit_head" (a record without an instance, or rows bulk-written by a tool that does not know
these columns), which the append path keeps honouring.
"""

from __future__ import annotations

from peewee import CharField, Database, IntegerField
from playhouse.migrate import SchemaMigrator, migrate


def apply(db: Database) -> None:
    columns = {column.name for column in db.get_columns("process_instance")}
    migrator = SchemaMigrator.from_database(db)
    if "audit_seq" not in columns:  # a database created fresh has both from m0001 (current models)
        migrate(migrator.add_column("process_instance", "audit_seq", IntegerField(null=True)),
                migrator.add_column("process_instance", "audit_hash", CharField(max_length=64, null=True)))
    key = "'record:' || CAST(process_instance.record_id AS VARCHAR(20))"
    db.execute_sql(
        "UPDATE process_instance SET "
        f"audit_seq = (SELECT h.seq FROM audit_head h WHERE h.chain_key = {key}), "
        f"audit_hash = (SELECT h.hash FROM audit_head h WHERE h.chain_key = {key}) "
        f"WHERE EXISTS (SELECT 1 FROM audit_head h WHERE h.chain_key = {key})")
    db.execute_sql(
        "DELETE FROM audit_head WHERE chain_key IN (SELECT 'record:' || CAST(i.record_id AS VARCHAR(20)) "
        "FROM process_instance i WHERE i.audit_seq IS NOT NULL)")
