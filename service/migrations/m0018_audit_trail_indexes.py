"""audit_event indexes for the audit page (issue 14): newest first across schools, and by actor.

The page lists events newest first. For one school, (school, created_at) from m0001 already
serves it; the admin and the province read every school, which without an index on created_at
sorts the whole table for each page. Filtering by 操作人 reads (actor, created_at) instead of every
event of the school. Two indexes only: every event is appended inside a reviewer's transaction.
The changed-field filter is a LIKE over data_changed, bounded by the other filters (no index).
"""

from peewee import Database

INDEXES = {
    "audit_event_created": ("created_at", "id"),
    "audit_event_actor_created": ("actor", "created_at"),
}


def apply(db: Database) -> None:
    for name, columns in INDEXES.items():
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON audit_event ({', '.join(columns)})")
