"""Server-side login sessions (table user_session), so that logout and password changes end them.

The table is declared here as it was at this step, not imported from service.models, so later
model changes never alter what this step creates.
"""

from peewee import CharField, Database, DateTimeField, ForeignKeyField, Model

from service.models import User


def apply(db: Database) -> None:
    class UserSession(Model):
        id = CharField(primary_key=True, max_length=64)
        user = ForeignKeyField(User, on_delete="CASCADE")
        created_at = DateTimeField()
        last_seen_at = DateTimeField()
        expires_at = DateTimeField(index=True)
        revoked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "user_session"

    db.create_tables([UserSession])
