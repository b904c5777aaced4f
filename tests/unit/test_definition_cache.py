"""The parsed-definition cache belongs to its database object and can be cleared at any time."""

from __future__ import annotations

import threading

from service.services import processes


def test_clear_cache_on_a_database_without_a_cache_returns(db) -> None:
    done = threading.Event()

    def clear() -> None:
        processes.clear_cache()  # the first touch of this database's cache
        done.set()

    worker = threading.Thread(target=clear, daemon=True)
    worker.start()
    worker.join(5)
    assert done.is_set(), "clear_cache deadlocked"


def test_definitions_are_cached_per_database(db) -> None:
    version, first = processes.active_definition()
    assert processes.definition(version.id) is first
    processes.clear_cache()
    assert processes.definition(version.id) is not first
