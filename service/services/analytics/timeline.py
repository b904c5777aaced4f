"""One streamed pass over a scope's status-changing audit events, as stays.

An event changes a record's status when its status_after is set and differs from status_before
(the create event enters the first status from ''). Consecutive such events of one record bound
a stay: the record was in the earlier event's status_after from its time to the later event's
time, and the later event's actor ended it. The last stay of a record is open (left is None).

The events are read once, ordered by (record_id, seq), with only the columns a stay needs (in
chunks of records, see stays()); the
accumulators (durations, backlog, burndown) each take every stay, so a page computes all of them
in that one pass whatever the number of records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from service.db import database
from service.models import AuditEvent, Record
from service.services.analytics.filters import Scope

CHUNK_RECORDS = 2000


@dataclass(frozen=True, slots=True)
class Stay:
    record_id: int
    status: str
    entered: datetime  # naive UTC
    left: datetime | None  # None: the record is still in this status (up to the pass's end)
    left_by: str = ""  # the actor whose event ended the stay
    school: str = ""  # the record's school, college and major (for breakdowns)
    college: int | None = None
    major: int | None = None


class Accumulator(Protocol):
    def add(self, stay: Stay) -> None: ...


Unit = tuple[str, int | None, int | None]  # a record's school, college, major


def _record_chunks(scope: Scope, size: int) -> Iterator[dict[int, Unit]]:
    """The records in scope by ascending id, `size` at a time (keyset: each chunk one indexed query),
    each with its school, college and major."""
    last = 0
    while True:
        rows = list(scope.records(Record.select(Record.id, Record.school, Record.college, Record.major)
                                  .where(Record.id > last)).order_by(Record.id).limit(size).tuples())
        if not rows:
            return
        yield {rid: (school or "", college, major) for rid, school, college, major in rows}
        last = rows[-1][0]


def _rows(query: Any) -> Iterator[tuple[int, str, datetime, str]]:
    """The query's rows straight from the driver's cursor (peewee's row conversion was a third of the
    pass); SQLite gives the stored text of created_at, parsed here, PostgreSQL a datetime."""
    for record_id, after, at, actor in database.execute(query):
        yield record_id, after, (datetime.fromisoformat(at) if isinstance(at, str) else at), actor


def stays(scope: Scope, until: datetime | None = None, chunk: int = CHUNK_RECORDS) -> Iterator[Stay]:
    """Every stay of the records in scope, from events before `until` (naive UTC; None: all).

    Records are read in chunks of `chunk` ids and their events with `record_id IN (…)` (the
    record_id index), so memory stays bounded on a province of 700,000 records whatever the
    database driver buffers, and the same SQL runs on SQLite and PostgreSQL.
    """
    where = ((AuditEvent.status_after != "") & (AuditEvent.status_after != AuditEvent.status_before))
    if until is not None:
        where &= AuditEvent.created_at < until
    for units in _record_chunks(scope, chunk):
        query = (AuditEvent.select(AuditEvent.record, AuditEvent.status_after, AuditEvent.created_at, AuditEvent.actor)
                 .where(where & AuditEvent.record.in_(list(units)))
                 .order_by(AuditEvent.record, AuditEvent.seq))
        current: int | None = None
        unit: Unit = ("", None, None)
        status, entered = "", None
        for record_id, after, at, actor in _rows(query):
            if record_id != current:
                if current is not None and entered is not None:
                    yield Stay(current, status, entered, None, "", *unit)
                current, entered, unit = record_id, None, units[record_id]
            if entered is not None:
                yield Stay(record_id, status, entered, at, actor, *unit)
            status, entered = after, at
        if current is not None and entered is not None:
            yield Stay(current, status, entered, None, "", *unit)


def run(scope: Scope, accumulators: Iterable[Accumulator], until: datetime | None = None) -> int:
    """Feed every stay to every accumulator; returns the number of stays."""
    adds = [a.add for a in accumulators]
    n = 0
    for stay in stays(scope, until):
        n += 1
        for add in adds:
            add(stay)
    return n
