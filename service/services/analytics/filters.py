"""Who may see which analytics, the filter, and the status labels read from the deployed BPMN.

Scope: the province (省级) and admins see every school (the `school` filter picks one); every
other role sees what its record scope allows (the centre its school, a counselor its grants).
The college / major / reviewer / date filters narrow that further; they never widen it.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from peewee import Expression

from service import clock
from service.errors import InvalidInput, NotFound, PermissionDenied
from service.models import AuditEvent, ProcessVersion, Record, School
from service.services import processes
from service.services.actors import Actor

MAX_DAYS = 731  # the longest date range a filter may span (two years): backlog rows are per day
MAX_IDS = 100
MAX_ID = 2**31 - 1
SCHOOL_CODE = re.compile(r"[0-9A-Za-z]{1,10}")


@dataclass(frozen=True)
class AnalyticsFilters:
    school: str = ""  # province / admin only: one school ('' = every school)
    college: tuple[int, ...] = ()
    major: tuple[int, ...] = ()
    reviewer: str = ""  # username of the reviewer whose reviews are counted
    since: date | None = None  # Beijing days, both inclusive
    until: date | None = None

    def as_dict(self) -> dict[str, Any]:
        """What the filter was (for the export's audit event and the API's answer)."""
        out: dict[str, Any] = {}
        for key in ("school", "college", "major", "reviewer", "since", "until"):
            value = getattr(self, key)
            if value:
                out[key] = value.isoformat() if isinstance(value, date) else (list(value) if isinstance(value, tuple)
                                                                               else value)
        return out


def _bad(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(f"筛选条件有误：{message}", code="invalid_filter", details={field_name: [message]})


def validate(f: AnalyticsFilters) -> None:
    """422 with a Chinese message for a filter no page could have sent (the API's schema checks first)."""
    if f.school and not SCHOOL_CODE.fullmatch(f.school):
        raise _bad("school", "学校代码应为 1–10 位字母或数字")
    for key in ("college", "major"):
        ids = getattr(f, key)
        if len(ids) > MAX_IDS:
            raise _bad(key, f"最多选择 {MAX_IDS} 个")
        if any(not isinstance(i, int) or i < 1 or i > MAX_ID for i in ids):
            raise _bad(key, "应为院系或专业编号")
    if len(f.reviewer) > 64 or any(not ch.isprintable() for ch in f.reviewer):
        raise _bad("reviewer", "审核人账号不能超过 64 个字符，且不能含控制字符")
    if f.since and f.until and f.since > f.until:
        raise _bad("since", "开始日期不能晚于结束日期")
    if f.since and f.until and (f.until - f.since).days + 1 > MAX_DAYS:
        raise _bad("until", f"日期范围不能超过 {MAX_DAYS} 天")
    for key in ("since", "until"):
        day = getattr(f, key)
        if day is not None and not (date(2000, 1, 1) <= day <= date(2200, 12, 31)):
            raise _bad(key, "日期应在 2000-01-01 至 2200-12-31 之间")


@dataclass(frozen=True)
class Scope:
    """A validated filter with the records it covers (a WHERE clause on Record, None = all)."""

    filters: AnalyticsFilters
    clause: Expression | None
    school_code: str | None  # the one school in scope, or None for several (the province unfiltered)
    actor: Actor

    def records(self, query: Any) -> Any:
        return query if self.clause is None else query.where(self.clause)

    @property
    def start(self) -> datetime | None:
        """The first instant (naive UTC) of the `since` day, Beijing time."""
        return day_start(self.filters.since) if self.filters.since else None

    @property
    def end(self) -> datetime | None:
        """The instant (naive UTC) just after the `until` day."""
        return day_start(self.filters.until + timedelta(days=1)) if self.filters.until else None

    def event_range(self) -> Expression | None:
        clause = None
        if self.start is not None:
            clause = AuditEvent.created_at >= self.start
        if self.end is not None:
            upper = AuditEvent.created_at < self.end
            clause = upper if clause is None else clause & upper
        return clause


def day_start(day: date) -> datetime:
    """00:00 Beijing time of a day, as naive UTC."""
    return datetime.combine(day, time(0), tzinfo=clock.BEIJING).astimezone(UTC).replace(tzinfo=None)


def today() -> date:
    return clock.beijing_date(clock.now())


def is_wide(actor: Actor) -> bool:
    """The province and admins read every school; everyone else their own."""
    return actor.is_province or actor.is_admin


def scope_for(actor: Actor, f: AnalyticsFilters) -> Scope:
    validate(f)
    if actor.record_id is not None:
        raise PermissionDenied()
    if is_wide(actor):
        if f.school and School.get_or_none(School.code == f.school) is None:
            raise NotFound(f"学校 {f.school} 不存在", code="school_not_found")
        clause: Expression | None = (Record.school == f.school) if f.school else None
        school_code = f.school or None
    else:
        if f.school and f.school != actor.school_code:
            raise NotFound(f"学校 {f.school[:16]} 不存在", code="school_not_found")
        clause = actor.record_filter()
        school_code = actor.school_code
    for column, ids in ((Record.college, f.college), (Record.major, f.major)):
        if ids:
            narrowed = column.in_(sorted(set(ids)))
            clause = narrowed if clause is None else clause & narrowed
    return Scope(f, clause, school_code, actor)


@dataclass
class ProcessLabels:
    """Status labels and review levels in flow order, read from the process metadata.

    The school's active version comes first (its order is the page's order); the labels of every
    other deployed version follow, since records stay on the version they started on.
    """

    statuses: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)  # review level labels (二级 …) in flow order
    level_status: dict[str, str] = field(default_factory=dict)  # level label → its pending status
    end_statuses: list[str] = field(default_factory=list)

    def add(self, meta: dict[str, Any]) -> None:
        for status in meta.get("statuses", []):
            if status not in self.statuses:
                self.statuses.append(status)
        for lv in meta.get("levels", []):
            if lv["level"] not in self.levels:
                self.levels.append(lv["level"])
                self.level_status[lv["level"]] = lv["status"]
        for end in meta.get("ends", {}).values():
            if end["status"] not in self.end_statuses:
                self.end_statuses.append(end["status"])

    @property
    def open_statuses(self) -> list[str]:
        """Every status a record can wait in (all but the end events')."""
        return [s for s in self.statuses if s not in self.end_statuses]


def process_labels(school_code: str | None) -> ProcessLabels:
    labels = ProcessLabels()
    with contextlib.suppress(NotFound):  # no process deployed yet: only the versions' labels
        labels.add(processes.active_definition(school_code)[1].meta)
    for (meta,) in ProcessVersion.select(ProcessVersion.meta).order_by(ProcessVersion.id.desc()).tuples():
        labels.add(meta)
    return labels


def normalise_comment(text: str) -> str:
    """A rejection comment as grouped: full-width forms folded (NFKC), whitespace, punctuation and
    symbols dropped, Latin letters lower-cased: '请核对 生源地！' and '请核对生源地。' are one reason."""
    folded = unicodedata.normalize("NFKC", text or "")
    return "".join(ch for ch in folded
                   if not ch.isspace() and not unicodedata.category(ch).startswith(("P", "S", "C"))).lower()
