"""The initial schema: every table of the first release."""

from peewee import Database

from service.models import ALL_MODELS


def apply(db: Database) -> None:
    db.create_tables(ALL_MODELS)
