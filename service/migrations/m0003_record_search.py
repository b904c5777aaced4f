"""Search columns on `record` (review_status, report_status), kept equal to the instance's by triggers.

Why: reviewer lists filter and count by status within a school. The status lives on
process_instance, whose rows carry the serialized engine state (~4 KB): joining it for 100,000
records read hundreds of MB and took ~0.5 s per list request. With the two labels copied onto
`record` and one covering index, a filtered count or page is an index-only scan (~10 ms).

Triggers (not application code) keep the copies right, whoever writes process_instance (the
transition service, version migration, bulk seeding). The columns are not model fields on purpose:
they are derived data the database maintains; services/records_query.py reads them.
"""

from __future__ import annotations

from peewee import Database, SqliteDatabase

# Two covering indexes: one led by the status (status filters and counts are range scans), one by
# college and major (a counselor's scope is a range scan); every other filter is checked inside
# the index, so a list never reads table rows except for the page it returns.
SEARCH_INDEXES = {
    "record_search_status": ("school_id", "review_status", "college_id", "major_id", "origin_region",
                             "report_status", "student_no", "id_number", "name", "updated_at"),
    "record_search_scope": ("school_id", "college_id", "major_id", "review_status", "report_status",
                            "origin_region", "student_no", "id_number", "name", "updated_at"),
}

_SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS process_instance_status_ins AFTER INSERT ON process_instance
       BEGIN UPDATE record SET review_status = NEW.status, report_status = NEW.report_status
             WHERE id = NEW.record_id; END""",
    """CREATE TRIGGER IF NOT EXISTS process_instance_status_upd
       AFTER UPDATE OF status, report_status ON process_instance
       BEGIN UPDATE record SET review_status = NEW.status, report_status = NEW.report_status
             WHERE id = NEW.record_id; END""",
]
_POSTGRES = [
    """CREATE OR REPLACE FUNCTION gradflow_copy_instance_status() RETURNS trigger AS $$
       BEGIN
         UPDATE record SET review_status = NEW.status, report_status = NEW.report_status
          WHERE id = NEW.record_id;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS process_instance_status_ins ON process_instance",
    """CREATE TRIGGER process_instance_status_ins AFTER INSERT ON process_instance
       FOR EACH ROW EXECUTE FUNCTION gradflow_copy_instance_status()""",
    "DROP TRIGGER IF EXISTS process_instance_status_upd ON process_instance",
    """CREATE TRIGGER process_instance_status_upd AFTER UPDATE OF status, report_status ON process_instance
       FOR EACH ROW EXECUTE FUNCTION gradflow_copy_instance_status()""",
]


def apply(db: Database) -> None:
    existing = {c.name for c in db.get_columns("record")}
    for column in ("review_status", "report_status"):
        if column not in existing:
            db.execute_sql(f"ALTER TABLE record ADD COLUMN {column} VARCHAR(32) NOT NULL DEFAULT ''")
    db.execute_sql(
        "UPDATE record SET review_status = (SELECT status FROM process_instance i WHERE i.record_id = record.id), "
        "report_status = (SELECT report_status FROM process_instance i WHERE i.record_id = record.id) "
        "WHERE EXISTS (SELECT 1 FROM process_instance i WHERE i.record_id = record.id)")
    for statement in (_SQLITE if isinstance(db, SqliteDatabase) else _POSTGRES):
        db.execute_sql(statement)
    for name, columns in SEARCH_INDEXES.items():
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON record ({', '.join(columns)})")
