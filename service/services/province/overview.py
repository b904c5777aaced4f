"""全省进度: one row per school, in a fixed number of grouped queries whatever the number of schools.

Queries (six, none per school): the schools; the current activations (which version each school's
new records start on, for its review levels); the versions' metadata (what each status label
means); records grouped by (school, review_status), answered from the record_search_status index
(school_id, review_status, …) without reading table rows; eligible roster students without a
record, grouped by school; the schools' own deadlines. Sorting is done on the rows (a province
has a few hundred schools, not millions).

The two grouped counts read every record of the province (an index-only scan, but of 700,000
entries), so they are kept for `province_counts_seconds` per worker process and the response says
when they were counted (counted_at, cached). One request counts while the others of that process
wait for its result instead of counting too.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from peewee import JOIN, SQL, fn

from service.db import database
from service.errors import InvalidInput
from service.models import ProcessActivation, Record, RosterStudent, School, SchoolDeadline
from service.services.processes.status_kinds import DONE, DRAFT, PENDING, REJECTED, StatusKinds, status_kinds
from service.services.records_query import REVIEW_STATUS


@dataclass
class LevelCount:
    level: str  # the level's label in the BPMN (二级 / 一级 / 中心)
    role: str
    status: str
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "role": self.role, "status": self.status, "count": self.count}


@dataclass
class SchoolRow:
    code: str
    name: str
    version_id: int | None
    levels: list[LevelCount] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)
    records: int = 0  # 已绑定学籍: every record (bound by the student or added by a reviewer)
    unbound: int = 0  # eligible roster students of the graduation year without a record
    unsubmitted: int = 0
    pending: int = 0
    other_pending: int = 0  # waiting at a level of an earlier version (not in the active one)
    rejected: int = 0
    completed: int = 0
    deadline: datetime | None = None
    deadline_source: str | None = None  # "school" (set by its centre), "default", None (no deadline)

    @property
    def expected(self) -> int:
        return self.records + self.unbound

    @property
    def submitted(self) -> int:
        return self.records - self.unsubmitted

    @property
    def percent(self) -> float:
        return 100.0 * self.completed / self.expected if self.expected else 0.0

    def deadline_passed(self, now: datetime | None = None) -> bool:
        return self.deadline is not None and (now or datetime.now(UTC)) > self.deadline

    def level_count(self, label: str) -> int | None:
        """The count at the level with this label, None when the school's process has no such level."""
        return next((lv.count for lv in self.levels if lv.level == label), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "name": self.name, "version_id": self.version_id,
            "expected": self.expected, "records": self.records, "unbound": self.unbound,
            "unsubmitted": self.unsubmitted, "submitted": self.submitted, "pending": self.pending,
            "other_pending": self.other_pending, "rejected": self.rejected, "completed": self.completed,
            "percent": round(self.percent, 1), "levels": [lv.as_dict() for lv in self.levels],
            "by_status": dict(self.by_status),
            "deadline": self.deadline.isoformat(timespec="seconds") if self.deadline else None,
            "deadline_source": self.deadline_source, "deadline_passed": self.deadline_passed(),
        }


@dataclass
class Overview:
    levels: list[str]  # every level label some school's active version has, in flow order
    schools: list[SchoolRow]
    total: SchoolRow
    sort: str
    counted_at: datetime  # when the grouped counts were taken (aware UTC)
    cached: bool  # the counts were kept from an earlier request (at most max_age seconds old)


def _sort_value(row: SchoolRow, key: str) -> Any:
    if key == "deadline":  # schools without a deadline sort last
        return (row.deadline is None, row.deadline or datetime.min.replace(tzinfo=UTC))
    if key == "percent":
        return row.percent
    return getattr(row, key)


SORT_KEYS = ("code", "name", "expected", "records", "unbound", "submitted", "pending", "rejected", "completed",
             "percent", "deadline")


def parse_sort(sort: str) -> tuple[str, bool]:
    key = (sort or "code").strip()
    desc = key.startswith("-")
    key = key.lstrip("-+")
    if key not in SORT_KEYS:
        message = f"不支持的排序字段：{key}（可选：{'、'.join(SORT_KEYS)}）"
        raise InvalidInput(message, code="invalid_sort", details={"sort": [message]})
    return key, desc


@dataclass(frozen=True)
class _Counts:
    year: int
    by_status: list[tuple[str, str, int]]  # (school, status, records)
    unbound: dict[str, int]
    counted_at: datetime
    taken: float  # time.monotonic() when counted


_CACHE_ATTR = "_gradflow_province_counts"  # kept on the database object: never crosses databases
_count_lock = threading.Lock()


def _fresh(found: _Counts | None, year: int, max_age: float) -> bool:
    return (found is not None and max_age > 0 and found.year == year
            and time.monotonic() - found.taken < max_age)


def _counts(year: int, max_age: float) -> tuple[_Counts, bool]:
    db = database.obj
    found = getattr(db, _CACHE_ATTR, None)
    if found is not None and _fresh(found, year, max_age):
        return found, True
    with _count_lock:
        found = getattr(db, _CACHE_ATTR, None)
        if found is not None and _fresh(found, year, max_age):  # counted while this one waited
            return found, True
        by_status = [(school, status, int(count)) for school, status, count in
                     Record.select(Record.school, REVIEW_STATUS, fn.COUNT(SQL("*")))  # index-only on PG too
                     .group_by(Record.school, REVIEW_STATUS).tuples()]
        unbound = {school: int(count) for school, count in
                   RosterStudent.select(RosterStudent.school, fn.COUNT(RosterStudent.id))
                   .join(Record, JOIN.LEFT_OUTER, on=(Record.student == RosterStudent.id))
                   .where(RosterStudent.eligible & (RosterStudent.year == year) & Record.student.is_null())
                   .group_by(RosterStudent.school).tuples()}
        counted = _Counts(year, by_status, unbound, datetime.now(UTC), time.monotonic())
        setattr(db, _CACHE_ATTR, counted)
    return counted, False


def overview(*, graduation_year: int, default_deadline: datetime | None, sort: str = "code",
             max_age: float = 0.0) -> Overview:
    """Every school's row; the grouped counts may be up to `max_age` seconds old (0: count now)."""
    key, desc = parse_sort(sort)
    kinds = status_kinds()
    versions = _school_versions()
    rows = {code: SchoolRow(code, name, versions.get(code, versions.get(""))) for code, name in
            School.select(School.code, School.name).order_by(School.code).tuples()}
    for row in rows.values():
        row.levels = [LevelCount(lv["level"], lv["role"], lv["status"], 0) for lv in kinds.levels(row.version_id)]
    counts, cached = _counts(graduation_year, max_age)
    for school, status, count in counts.by_status:
        if school in rows:
            _add(rows[school], kinds, status, count)
    for school, count in counts.unbound.items():
        if school in rows:
            rows[school].unbound = count
    own = dict(SchoolDeadline.select(SchoolDeadline.school, SchoolDeadline.deadline).tuples())
    for code, row in rows.items():
        mine = own.get(code)
        if mine is not None:
            row.deadline, row.deadline_source = mine.replace(tzinfo=UTC), "school"
        elif default_deadline is not None:
            row.deadline, row.deadline_source = default_deadline, "default"
    schools = sorted(rows.values(), key=lambda r: r.code)
    schools.sort(key=lambda r: _sort_value(r, key), reverse=desc)
    return Overview(_level_labels(schools), schools, _total(schools), ("-" if desc else "") + key,
                    counts.counted_at, cached)


def _school_versions() -> dict[str, int]:
    """school code ("" = the default) → the version its new records start on (one query)."""
    return {code: version for code, version in
            ProcessActivation.select(ProcessActivation.school_code, ProcessActivation.version)
            .where(ProcessActivation.current == True)  # noqa: E712
            .order_by(ProcessActivation.id).tuples()}


def _add(row: SchoolRow, kinds: StatusKinds, status: str, count: int) -> None:
    row.by_status[status] = row.by_status.get(status, 0) + count
    row.records += count
    kind = kinds.of(status)
    if kind == DRAFT:
        row.unsubmitted += count
    elif kind == REJECTED:
        row.rejected += count
    elif kind == DONE:
        row.completed += count
    elif kind == PENDING:
        row.pending += count
        level = next((lv for lv in row.levels if lv.status == status), None)
        if level is not None:
            level.count += count
        else:
            row.other_pending += count


def _level_labels(schools: list[SchoolRow]) -> list[str]:
    """The union of the schools' level labels, each version's flow order kept (二级 → 一级 → 中心)."""
    labels: list[str] = []
    for row in schools:
        mine = [lv.level for lv in row.levels]
        for i, label in enumerate(mine):
            if label in labels:
                continue
            later = next((labels.index(x) for x in mine[i + 1:] if x in labels), len(labels))
            labels.insert(later, label)
    return labels


def _total(schools: list[SchoolRow]) -> SchoolRow:
    total = SchoolRow("", "全省合计", None)
    by_level: dict[str, LevelCount] = {}
    for row in schools:
        for status, count in row.by_status.items():
            total.by_status[status] = total.by_status.get(status, 0) + count
        for name in ("records", "unbound", "unsubmitted", "pending", "other_pending", "rejected", "completed"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        for lv in row.levels:
            by_level.setdefault(lv.level, LevelCount(lv.level, lv.role, lv.status, 0)).count += lv.count
    total.levels = [by_level[label] for label in _level_labels(schools) if label in by_level]
    return total
