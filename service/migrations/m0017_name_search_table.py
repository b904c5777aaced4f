"""Name grams in a table of their own, so a review step does not rewrite them (PostgreSQL).

m0015 indexed gradflow_name_grams(record.name) on `record` itself. Every step changes the
record's review_status (m0003/m0008 triggers), which other indexes hold, so no step's update is
HOT: each one inserted the name's grams into the GIN index again. Measured on 700,000 records
(durable cluster, batch approve of 900): dropping that index took the chunk write from 0.72 to
0.49 ms a record and the batch from 761 to 965 records/s. The grams now live in
record_name_search (one row per record), written by triggers only when a record is inserted or
its name changes; the list query looks names up there (services/records_query.py).

SQLite keeps LIKE over its covering search index (m0015 does nothing there either).
"""

from __future__ import annotations

from peewee import Database, SqliteDatabase

TABLE = "record_name_search"
INDEX = "record_name_search_grams"
_POSTGRES = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
          record_id integer PRIMARY KEY REFERENCES record (id) ON DELETE CASCADE,
          grams text[] NOT NULL)""",
    f"""CREATE OR REPLACE FUNCTION gradflow_record_name_search() RETURNS trigger AS $$
       BEGIN
         INSERT INTO {TABLE} (record_id, grams)
              VALUES (NEW.id, coalesce(gradflow_name_grams(NEW.name), '{{}}'))
         ON CONFLICT (record_id) DO UPDATE SET grams = excluded.grams;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS record_name_search_ins ON record",
    """CREATE TRIGGER record_name_search_ins AFTER INSERT ON record
       FOR EACH ROW EXECUTE FUNCTION gradflow_record_name_search()""",
    "DROP TRIGGER IF EXISTS record_name_search_upd ON record",
    """CREATE TRIGGER record_name_search_upd AFTER UPDATE OF name ON record
       FOR EACH ROW WHEN (NEW.name IS DISTINCT FROM OLD.name) EXECUTE FUNCTION gradflow_record_name_search()""",
    f"""INSERT INTO {TABLE} (record_id, grams)
        SELECT id, coalesce(gradflow_name_grams(name), '{{}}') FROM record ON CONFLICT (record_id) DO NOTHING""",
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} USING gin (grams)",
    "DROP INDEX IF EXISTS record_name_grams",
]


def apply(db: Database) -> None:
    if isinstance(db, SqliteDatabase):
        return
    for statement in _POSTGRES:
        db.execute_sql(statement)
