"""Time spent in each status: the median and 90th percentile of finished stays, in hours.

A stay counts when it ended inside the date range (by the `reviewer`, if one is given: the time
records waited before that reviewer acted). Stays still open are counted apart ("仍在该状态"),
not in the figures: their length is not known yet. Percentiles interpolate linearly between the
closest ranks (p = (n − 1)·q, as numpy's default and Excel's PERCENTILE.INC).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from service.models import College, Major, School, User
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

    def counted(self, stay: Stay) -> bool:
        """A finished stay that ended in the date range (by the reviewer, if one is given)."""
        if stay.left is None:
            return False
        if (self.start is not None and stay.left < self.start) or (self.end is not None and stay.left >= self.end):
            return False
        return not self.reviewer or stay.left_by == self.reviewer

    def add(self, stay: Stay) -> None:
        if self.end is not None and stay.entered >= self.end:
            return  # after the range: as if the pass had stopped at its end
        if stay.left is None or (self.end is not None and stay.left >= self.end):
            self.open[stay.status] = self.open.get(stay.status, 0) + 1  # still there at the range's end
        elif self.counted(stay):
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


BY = ("school", "college", "major", "reviewer")  # what durations can be broken down by


@dataclass(frozen=True)
class GroupDuration:
    group: str  # the school, college, major or reviewer, as people read it
    status: str
    count: int
    median_hours: float | None
    p90_hours: float | None


class GroupedDurations(Durations):
    """The same finished stays per (group, status): by the record's school / college / major, or by
    the reviewer whose event ended the stay."""

    def __init__(self, scope: Scope, by: str) -> None:
        if by not in BY:
            raise ValueError(by)
        super().__init__(scope)
        self.by = by
        self.grouped: dict[tuple[Hashable, str], list[float]] = {}

    def key(self, stay: Stay) -> Hashable:
        if self.by == "reviewer":
            return (stay.school, stay.left_by)
        return {"school": stay.school, "college": stay.college, "major": stay.major}[self.by]

    def add(self, stay: Stay) -> None:
        if self.counted(stay) and stay.left is not None:
            self.grouped.setdefault((self.key(stay), stay.status), []).append(
                (stay.left - stay.entered).total_seconds() / 3600)

    def names(self) -> dict[Hashable, str]:
        keys = {k for k, _ in self.grouped}
        ids = sorted(k for k in keys if isinstance(k, int))
        out: dict[Hashable, str] = {None: "（未分院系）" if self.by == "college" else "（未分专业）"}
        if self.by == "college" and ids:
            out.update({i: n for i, n in College.select(College.id, College.name).where(College.id.in_(ids)).tuples()})
        elif self.by == "major" and ids:
            out.update({i: f"{n}（{c}）" for i, n, c in
                        Major.select(Major.id, Major.name, Major.code).where(Major.id.in_(ids)).tuples()})
        elif self.by == "school" and keys:
            out.update({c: f"{c} {n}" for c, n in School.select(School.code, School.name)
                        .where(School.code.in_(sorted(str(k) for k in keys))).tuples()})
        elif self.by == "reviewer" and keys:
            users = sorted({str(k[1]) for k in keys if isinstance(k, tuple)})
            for school, username, display in (User.select(User.school, User.username, User.display_name)
                                              .where(User.username.in_(users)).tuples()):
                out[(school or "", username)] = f"{display}（{username}）" if display and display != username else username
            for k in keys:
                if isinstance(k, tuple) and k not in out:
                    out[k] = str(k[1])
        return out

    def grouped_result(self, labels: ProcessLabels) -> list[GroupDuration]:
        names = self.names()
        order = {s: i for i, s in enumerate(labels.statuses)}
        rows = []
        for (key, status), values in self.grouped.items():
            values.sort()
            rows.append(GroupDuration(names.get(key, str(key)), status, len(values),
                                      round(quantile(values, 0.5), 2), round(quantile(values, 0.9), 2)))
        rows.sort(key=lambda r: (r.group, order.get(r.status, len(order)), r.status))
        return rows


def durations_by(scope: Scope, by: str) -> list[GroupDuration]:
    acc = GroupedDurations(scope, by)
    timeline.run(scope, [acc], until=scope.end)
    return acc.grouped_result(process_labels(scope.school_code))
