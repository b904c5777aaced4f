"""Time spent in each status: the median and 90th percentile of finished stays, in hours.

A stay counts when it ended inside the date range (by the `reviewer`, if one is given: the time
records waited before that reviewer acted). Stays still open are counted apart ("仍在该状态"),
not in the figures: their length is not known yet. Percentiles interpolate linearly between the
closest ranks (p = (n − 1)·q, as numpy's default and Excel's PERCENTILE.INC).
"""

from __future__ import annotations

from dataclasses import dataclass

from service.services.analytics import timeline
from service.services.analytics.filters import ProcessLabels, Scope, process_labels
from service.services.analytics.timeline import Stay


def quantile(ordered: list[float], q: float) -> float:
    """The q-quantile (0 ≤ q ≤ 1) of sorted values, interpolated linearly between ranks."""
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class StatusDuration:
    status: str
    count: int  # finished stays counted
    median_hours: float | None
    p90_hours: float | None
    open: int  # records still in the status


class Durations:
    """Accumulates the hours of each finished stay per status (a timeline accumulator)."""

    def __init__(self, scope: Scope) -> None:
        self.start, self.end = scope.start, scope.end
        self.reviewer = scope.filters.reviewer
        self.hours: dict[str, list[float]] = {}
        self.open: dict[str, int] = {}

    def add(self, stay: Stay) -> None:
        if stay.left is None:
            self.open[stay.status] = self.open.get(stay.status, 0) + 1
            return
        if (self.start is not None and stay.left < self.start) or (self.end is not None and stay.left >= self.end):
            return
        if self.reviewer and stay.left_by != self.reviewer:
            return
        self.hours.setdefault(stay.status, []).append((stay.left - stay.entered).total_seconds() / 3600)

    def result(self, labels: ProcessLabels) -> list[StatusDuration]:
        order = [*labels.open_statuses, *sorted(set(self.hours) - set(labels.open_statuses))]
        rows = []
        for status in order:
            values = sorted(self.hours.get(status, []))
            rows.append(StatusDuration(
                status, len(values),
                round(quantile(values, 0.5), 2) if values else None,
                round(quantile(values, 0.9), 2) if values else None,
                0 if self.reviewer else self.open.get(status, 0)))
        return rows


def status_durations(scope: Scope) -> list[StatusDuration]:
    acc = Durations(scope)
    timeline.run(scope, [acc], until=scope.end)
    return acc.result(process_labels(scope.school_code))
