"""roster_student (school_id, year, eligible, id): the unbound counts read the index, not the rows.

The province's overview and the centre's dashboard count eligible roster students of the
graduation year that have no record yet, grouped by school (or by college of one school). Without
this index the planner walks roster_student by school and reads every row (its JSON `fields`
included) to test year and eligible; with it the filter and the anti-join key come from the index.
"""

from peewee import Database

INDEX = "roster_student_progress"
COLUMNS = ("school_id", "year", "eligible", "id")


def apply(db: Database) -> None:
    db.execute_sql(f"CREATE INDEX IF NOT EXISTS {INDEX} ON roster_student ({', '.join(COLUMNS)})")
