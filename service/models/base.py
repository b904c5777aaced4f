"""Model base class and small field helpers shared by every table."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from peewee import Model, TextField

from service import clock
from service.db import database


def utcnow() -> datetime:
    """Now as naive UTC, from service.clock (which tests may fix)."""
    return clock.now()


class JSONTextField(TextField):
    """JSON stored as text: identical on SQLite and PostgreSQL, and never queried inside."""

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    def python_value(self, value: Any) -> Any:
        if value is None or value == "":
            return None
        return json.loads(value)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False
