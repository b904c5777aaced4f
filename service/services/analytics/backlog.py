"""The backlog over time: how many records were in each status at the end of each day (24:00
Beijing time), reconstructed from the stays.

A record is in status S at the end of day d when it entered S on or before d and left it after d
(or has not left). Each stay adds +1 on its entry day and −1 on its leaving day (a difference
array per status), and one sweep over the days gives the counts: memory grows with the number of
days and statuses, not of records. Days run from `since` (default: the first event's day, at most
MAX_DAYS back) to `until` (default and at most: today).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from service import clock
from service.services.analytics import timeline
from service.services.analytics.filters import MAX_DAYS, ProcessLabels, Scope, process_labels, today
from service.services.analytics.timeline import Stay


@dataclass
class BacklogSeries:
    days: list[date] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    counts: dict[str, list[int]] = field(default_factory=dict)  # status → count at the end of each day

    def at(self, day: date, status: str) -> int:
        if day not in self.days:
            return 0
        return self.counts.get(status, [0] * len(self.days))[self.days.index(day)]


class Backlog:
    """A timeline accumulator: per-status difference arrays keyed by Beijing day."""

    def __init__(self, scope: Scope) -> None:
        self.last = min(scope.filters.until or today(), today())  # no counts for days still to come
        self.first = scope.filters.since
        self.delta: dict[str, dict[date, int]] = {}
        self.earliest: date | None = None

    def add(self, stay: Stay) -> None:
        entered = clock.beijing_date(stay.entered)
        if entered > self.last:
            return
        if self.earliest is None or entered < self.earliest:
            self.earliest = entered
        delta = self.delta.setdefault(stay.status, {})
        delta[entered] = delta.get(entered, 0) + 1
        if stay.left is not None:
            left = clock.beijing_date(stay.left)
            if left <= self.last:
                delta[left] = delta.get(left, 0) - 1

    def result(self, labels: ProcessLabels) -> BacklogSeries:
        first = self.first or self.earliest or self.last
        first = max(first, self.last - timedelta(days=MAX_DAYS - 1))
        days = [first + timedelta(days=i) for i in range((self.last - first).days + 1)] if first <= self.last else []
        statuses = [*labels.statuses, *sorted(set(self.delta) - set(labels.statuses))]
        series = BacklogSeries(days, statuses)
        for status in statuses:
            delta = self.delta.get(status, {})
            running = sum(n for d, n in delta.items() if d < first)
            counts = []
            for day in days:
                running += delta.get(day, 0)
                counts.append(running)
            series.counts[status] = counts
        return series


def backlog(scope: Scope) -> BacklogSeries:
    acc = Backlog(scope)
    timeline.run(scope, [acc], until=scope.end)
    return acc.result(process_labels(scope.school_code))
