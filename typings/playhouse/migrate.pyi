"""Peewee typed as Any: its bundled stubs do not model runtime *_id accessors and query results."""

from typing import Any

def __getattr__(name: str) -> Any: ...
