"""The burn-down of completion against the deadline, with a projection.

- total (应报人数): the records in scope plus the eligible roster students of the graduation year
  who have not bound yet (the progress dashboard's rule);
- completed at the end of each day: records in an end status (完成 in the default BPMN, read from
  the end events) at 24:00 Beijing time, from the backlog reconstruction; remaining = total − that;
- pace: completions in the last PACE_DAYS days (today included) divided by PACE_DAYS;
- projection: completed now + pace × days left to the deadline (fractional), at most the total,
  as a share of the total. No deadline, or no total: no projection. After the deadline the
  figure is what was completed, not a projection.

The date filter does not apply: the chart always runs from the first event to today.
The deadline is the school's (else the deployment default; the province without a school filter
sees the default); extensions for colleges or students are not part of the projection.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from peewee import JOIN, fn

from service import clock
from service.config import Settings
from service.models import ProcessInstance, Record, RosterStudent
from service.services.analytics import timeline
from service.services.analytics.backlog import Backlog, BacklogSeries
from service.services.analytics.filters import Scope, process_labels
from service.services.deadlines import store as deadline_store

PACE_DAYS = 7
PACE_RULE = f"进度按最近 {PACE_DAYS} 天（含今天）平均每天完成的人数计算，按此速度推算到截止时间"


@dataclass
class Burndown:
    total: int
    deadline: datetime | None  # aware UTC
    days: list[date] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)  # cumulative, at the end of each day
    completed_now: int = 0
    pace: float = 0.0  # completions per day over the last PACE_DAYS days
    projected: int | None = None  # records complete at the deadline at this pace
    projected_percent: float | None = None
    deadline_passed: bool = False
    rule: str = PACE_RULE

    @property
    def daily(self) -> list[int]:
        return [n - (self.completed[i - 1] if i else 0) for i, n in enumerate(self.completed)]

    @property
    def remaining(self) -> list[int]:
        return [self.total - n for n in self.completed]

    def percent(self, n: int) -> float:
        return round(100.0 * n / self.total, 1) if self.total else 0.0

    @property
    def sentence(self) -> str:
        if self.deadline is None:
            return "未设置截止时间，无法推算"
        if not self.total:
            return "暂无应报学生，无法推算"
        if self.deadline_passed:
            return f"截止时间已过，目前完成 {self.percent(self.completed_now):.0f}%"
        return f"按当前进度，截止日预计完成 {self.projected_percent:.0f}%"


def expected_total(scope: Scope, graduation_year: int) -> int:
    """Records in scope plus eligible, unbound roster students (same filters on the roster)."""
    records = scope.records(Record.select(fn.COUNT(Record.id))
                            .join(ProcessInstance, on=(ProcessInstance.record == Record.id))).scalar() or 0
    unbound = (RosterStudent.select(fn.COUNT(RosterStudent.id))
               .join(Record, JOIN.LEFT_OUTER, on=(Record.student == RosterStudent.id))
               .where(RosterStudent.eligible & (RosterStudent.year == graduation_year) & Record.student.is_null()))
    f, actor = scope.filters, scope.actor
    if scope.school_code:
        unbound = unbound.where(RosterStudent.school == scope.school_code)
    if f.college:
        unbound = unbound.where(RosterStudent.college.in_(sorted(set(f.college))))
    if f.major:
        unbound = unbound.where(RosterStudent.major.in_(sorted(set(f.major))))
    grants = actor.grants_clause(RosterStudent.college, RosterStudent.major)
    if grants is not None:
        unbound = unbound.where(grants)
    return int(records) + int(unbound.scalar() or 0)


def deadline_of(scope: Scope, settings: Settings) -> datetime | None:
    if scope.school_code:
        return deadline_store.school_overview(scope.school_code, settings).deadline
    return deadline_store.default_deadline(settings)


def burndown(scope: Scope, settings: Settings) -> Burndown:
    undated = dataclasses.replace(scope, filters=dataclasses.replace(scope.filters, since=None, until=None))
    acc = Backlog(undated)
    timeline.run(undated, [acc])
    labels = process_labels(scope.school_code)
    return project(acc.result(labels), labels.end_statuses, expected_total(scope, settings.graduation_year),
                   deadline_of(scope, settings))


def project(series: BacklogSeries, end_statuses: list[str], total: int, deadline: datetime | None,
            now: datetime | None = None) -> Burndown:
    """The burn-down from a backlog series and the projection at `now` (naive UTC; default: the clock).
    The projected count is rounded down to whole records."""
    now_utc = (now or clock.now()).replace(tzinfo=UTC)
    completed = [sum(series.counts.get(s, [0] * len(series.days))[i] for s in end_statuses)
                 for i in range(len(series.days))]
    out = Burndown(total=total, deadline=deadline, days=list(series.days), completed=completed)
    out.completed_now = completed[-1] if completed else 0
    day = clock.beijing_date(now_utc)
    cutoff = day - timedelta(days=PACE_DAYS)  # the end of this day is where the window starts
    before = 0
    for d, n in zip(series.days, completed, strict=True):
        if d <= cutoff:
            before = n
    out.pace = round((out.completed_now - before) / PACE_DAYS, 2)
    if deadline is None or not total:
        return out
    left_days = (deadline - now_utc).total_seconds() / 86400
    if left_days <= 0:
        out.deadline_passed = True
        out.projected = out.completed_now
    else:
        out.projected = min(total, int(out.completed_now + (out.completed_now - before) / PACE_DAYS * left_days))
    out.projected_percent = out.percent(out.projected)
    return out
