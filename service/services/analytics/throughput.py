"""Reviewer throughput: review decisions (and how many were 不通过) per reviewer per day (Beijing
time), aggregated in SQL.

A review is an event with a decision (通过 / 不通过) on a record in scope; the day is the Beijing
calendar day of its time (SQLite: date(created_at, '+8 hours'); PostgreSQL: the same with an
interval). Reviewers are named by account (school + username) with their display name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from peewee import SQL, NodeList, fn

from service.db import is_sqlite
from service.models import AuditEvent, Record, User
from service.services.analytics.filters import Scope
from service.services.analytics.rejections import REJECT, decision_events


@dataclass(frozen=True)
class ReviewerDay:
    day: date
    school: str
    reviewer: str
    name: str
    count: int
    rejected: int = 0  # of which 不通过


@dataclass
class Throughput:
    rows: list[ReviewerDay] = field(default_factory=list)  # by day, then reviewer

    @property
    def days(self) -> list[date]:
        return sorted({r.day for r in self.rows})

    @property
    def reviewers(self) -> list[tuple[str, str, str]]:
        """(school, username, name), most reviews first."""
        totals: dict[tuple[str, str, str], int] = {}
        for r in self.rows:
            key = (r.school, r.reviewer, r.name)
            totals[key] = totals.get(key, 0) + r.count
        return sorted(totals, key=lambda k: (-totals[k], k))

    def totals(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for r in self.rows:
            out[(r.school, r.reviewer)] = out.get((r.school, r.reviewer), 0) + r.count
        return out


def beijing_day():  # noqa: ANN201 - a peewee expression
    """The Beijing calendar day of AuditEvent.created_at as 'YYYY-MM-DD' text, on either database."""
    if is_sqlite():
        return fn.date(AuditEvent.created_at, "+8 hours").coerce(False)  # text, not the column's datetime
    return fn.to_char(NodeList((AuditEvent.created_at, SQL("+ INTERVAL '8 hours'"))), "YYYY-MM-DD").coerce(False)


def throughput(scope: Scope) -> Throughput:
    day = beijing_day()
    query = scope.records(AuditEvent.select(day, AuditEvent.school, AuditEvent.actor, AuditEvent.decision,
                                            fn.COUNT(AuditEvent.id))
                          .join(Record, on=(AuditEvent.record == Record.id))
                          .where(decision_events(scope))
                          .group_by(day, AuditEvent.school, AuditEvent.actor, AuditEvent.decision))
    merged: dict[tuple[date, str, str], list[int]] = {}
    for d, school, actor, decision, n in query.tuples():
        both = merged.setdefault((date.fromisoformat(d), school or "", actor), [0, 0])
        both[0] += n
        if decision == REJECT:
            both[1] += n
    counted = [(d, school, actor, n, rejected) for (d, school, actor), (n, rejected) in merged.items()]
    names: dict[tuple[str, str], str] = {}
    usernames = sorted({a for _, _, a, _, _ in counted})
    if usernames:
        for school, username, display in (User.select(User.school, User.username, User.display_name)
                                          .where(User.username.in_(usernames)).tuples()):
            names[(school or "", username)] = display or username
    rows = [ReviewerDay(d, s, a, names.get((s, a), a), n, r) for d, s, a, n, r in counted]
    rows.sort(key=lambda r: (r.day, r.school, r.reviewer))
    return Throughput(rows)
