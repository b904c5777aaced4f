"""Name search without a scan on PostgreSQL.

Why grams and not only pg_trgm: Chinese names are two to four characters and reviewers search
by one or two of them (王, 小明). pg_trgm can use its index only for patterns holding a whole
trigram, so `LIKE '%小明%'` would still read every row. Instead each name is indexed (GIN) as
the array of its one- and two-character substrings; a fragment of any length is then looked up
as "contains all of the fragment's grams" and confirmed with LIKE (services/records_query.py).
The expression is an IMMUTABLE SQL function, so the index needs no extra column or trigger, and
no extension has to be installed by a superuser.

SQLite keeps LIKE over its covering search index (one school's rows; it meets the targets).
Keyset pages need no new index: the default order (school, 学号) is the unique index's.
"""

from __future__ import annotations

from peewee import Database, SqliteDatabase

GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION gradflow_name_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT coalesce(array_agg(DISTINCT g), '{}') FROM (
    SELECT substr(t, i, n) AS g
      FROM generate_series(1, char_length(t)) AS i, (VALUES (1), (2)) AS v(n)
     WHERE i + n - 1 <= char_length(t)) AS grams
$$"""
_POSTGRES = [
    GRAMS_FUNCTION,
    "CREATE INDEX IF NOT EXISTS record_name_grams ON record USING gin (gradflow_name_grams(name))",
]


def apply(db: Database) -> None:
    if isinstance(db, SqliteDatabase):
        return
    for statement in _POSTGRES:
        db.execute_sql(statement)
