"""record.status_since: when the record entered its current status, for the chase lists (催办).

Why a column: "pending at 二级 for more than N days" must be a range on an index, not a search of
the audit log per record. The value is the instance's updated_at at the step that changed the
status label; the triggers of m0003 (which copy the labels onto `record`) are replaced by ones that
also set it, so it is written by the same UPDATE, in the same transaction as the transition, by
whoever writes process_instance. An edit (lock_version and updated_at only) or a version
migration that keeps the label leaves it alone.

Backfill: the time of the record's latest audited status change, else the instance's updated_at.
Like review_status, the column is not a model field: it is derived data the database maintains.
"""

from __future__ import annotations

from peewee import Database, SqliteDatabase

# Chase lists filter on (school, status) and the age in that status, then group by college / major.
CHASE_INDEX = ("record_chase", ("school_id", "review_status", "status_since", "college_id", "major_id"))

_COPY = ("review_status = NEW.status, report_status = NEW.report_status, "
         "status_since = CASE WHEN {changed} THEN NEW.updated_at ELSE status_since END")
_SQLITE = [
    "DROP TRIGGER IF EXISTS process_instance_status_ins",
    "DROP TRIGGER IF EXISTS process_instance_status_upd",
    """CREATE TRIGGER process_instance_status_ins AFTER INSERT ON process_instance
       BEGIN UPDATE record SET review_status = NEW.status, report_status = NEW.report_status,
             status_since = NEW.updated_at WHERE id = NEW.record_id; END""",
    f"""CREATE TRIGGER process_instance_status_upd
       AFTER UPDATE OF status, report_status ON process_instance
       BEGIN UPDATE record SET {_COPY.format(changed="NEW.status IS NOT OLD.status")}
             WHERE id = NEW.record_id; END""",
]
_POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION gradflow_copy_instance_status() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN
           UPDATE record SET review_status = NEW.status, report_status = NEW.report_status,
                  status_since = NEW.updated_at WHERE id = NEW.record_id;
         ELSE
           UPDATE record SET {_COPY.format(changed="NEW.status IS DISTINCT FROM OLD.status")}
            WHERE id = NEW.record_id;
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
]


def apply(db: Database) -> None:
    sqlite = isinstance(db, SqliteDatabase)
    if "status_since" not in {c.name for c in db.get_columns("record")}:
        db.execute_sql(f"ALTER TABLE record ADD COLUMN status_since {'DATETIME' if sqlite else 'TIMESTAMP'} NULL")
    db.execute_sql(
        "UPDATE record SET status_since = COALESCE("
        " (SELECT MAX(e.created_at) FROM audit_event e WHERE e.record_id = record.id"
        "   AND e.status_after = record.review_status AND e.status_after <> e.status_before),"
        " (SELECT i.updated_at FROM process_instance i WHERE i.record_id = record.id)) "
        "WHERE status_since IS NULL AND EXISTS (SELECT 1 FROM process_instance i WHERE i.record_id = record.id)")
    for statement in (_SQLITE if sqlite else _POSTGRES):
        db.execute_sql(statement)
    name, columns = CHASE_INDEX
    db.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON record ({', '.join(columns)})")
