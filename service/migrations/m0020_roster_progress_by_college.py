"""roster_student (school_id, year, eligible, college_id, major_id, id) in place of m0016's index.

The unbound counts (eligible roster students of the year with no record yet) are grouped by
school on the province's overview and by college (within a counselor's college / major grants)
on the centre's dashboard, the province's drill-down and the burn-down. m0016's index lacked
college_id, so for one school PostgreSQL walked roster_student_college_id over the whole province
and filtered: 193 ms for a school of 20,000 in a province of 700,228. With the grouping columns in
the index the school's part is an index-only range read in college order (12 ms, together with
the anti-join on record's student_id, which the queries now test instead of record.id so that
it too is index-only). The old index is dropped, so an import writes as many indexes as before.
"""

from peewee import Database

INDEX = "roster_student_progress_college"
COLUMNS = ("school_id", "year", "eligible", "college_id", "major_id", "id")


def apply(db: Database) -> None:
    db.execute_sql(f"CREATE INDEX IF NOT EXISTS {INDEX} ON roster_student ({', '.join(COLUMNS)})")
    db.execute_sql("DROP INDEX IF EXISTS roster_student_progress")
