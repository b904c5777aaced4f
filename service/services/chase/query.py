"""One chase filter, three readers: grouped counts, a page of rows, and every row (export, reminders).

The rows are one UNION ALL of two index-friendly selects in the actor's school and grants:
- records whose status is a chase state (record.review_status, copied by trigger; for review
  states older than the cutoff on record.status_since, set by the same trigger — migration m0008),
  with the roster row they were bound from (class);
- eligible roster students of the graduation year without a record (未绑定, since = import time).
Counts are one grouped query over that union (state × college × major × class); a page is one
ordered LIMIT/OFFSET query, then one query each for the page's phones and unit names. iter_rows
walks the union in 学号 order by keyset, so an export or a reminder batch runs in constant memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from peewee import JOIN, SQL, Select, Value, fn

from service.db import database
from service.errors import InvalidInput, PermissionDenied
from service.models import College, Major, Record, RosterStudent, utcnow
from service.services.actors import Actor
from service.services.chase.states import KIND_PENDING, KIND_UNBOUND, UNBOUND, ChaseState, chase_states

MAX_PER_PAGE = 200
MAX_PENDING_DAYS = 3650
MAX_VALUES = 100  # values of one repeated filter
ITER_CHUNK = 2000
REVIEW_STATUS = SQL("review_status")  # trigger-maintained copies on record (m0003, m0008)
STATUS_SINCE = SQL("status_since")


@dataclass
class ChaseFilters:
    states: list[str] = field(default_factory=list)  # empty: every chase state
    college: list[int] = field(default_factory=list)
    major: list[int] = field(default_factory=list)
    class_name: list[str] = field(default_factory=list)
    pending_days: int | None = None  # review states only: in that status for more than N days


@dataclass
class ChaseRow:
    state: str
    since: datetime | None
    student_no: str
    name: str
    class_name: str
    college_id: int | None
    major_id: int | None
    record_id: int | None
    roster_id: int | None
    user_id: int | None  # the student's account (None: not bound, or a record added without one)
    college: str = ""
    major: str = ""
    phone: str = ""

    def days(self, now: datetime | None = None) -> int | None:
        """Whole days in the state (None when the time is unknown)."""
        if self.since is None:
            return None
        return max(0, ((now or utcnow()) - self.since).days)


@dataclass
class GroupCount:
    college_id: int | None
    major_id: int | None
    class_name: str
    college: str
    major: str
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


@dataclass
class Counts:
    states: list[ChaseState]
    by_state: dict[str, int]
    by_college: list[GroupCount]
    by_major: list[GroupCount]
    by_class: list[GroupCount]

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


@dataclass
class ChasePage:
    counts: Counts
    items: list[ChaseRow]
    total: int
    page: int
    per_page: int


def _require_school(actor: Actor) -> str:
    """Chase lists are a school's (or a counselor's part of it); accounts without a school have none."""
    if actor.is_admin or not actor.school_code or actor.record_id is not None:
        raise PermissionDenied("您的账号不能查看催办名单")
    return actor.school_code


def selected_states(f: ChaseFilters) -> list[ChaseState]:
    """The filter's states (all chase states when empty); unknown labels are a 422 naming the choices."""
    known = chase_states()
    if not f.states:
        return known
    labels = {s.label for s in known}
    bad = [s for s in f.states if s not in labels]
    if bad:
        raise InvalidInput(f"未知的催办状态：{'、'.join(bad)}",
                           details={"state": [f"未知的催办状态：{'、'.join(bad)}（可选：{'、'.join(labels_of(known))}）"]})
    return [s for s in known if s.label in f.states]


def labels_of(states: list[ChaseState]) -> list[str]:
    return [s.label for s in states]


def validate(f: ChaseFilters) -> list[ChaseState]:
    errors: dict[str, list[str]] = {}
    if f.pending_days is not None and not 0 <= f.pending_days <= MAX_PENDING_DAYS:
        errors["pending_days"] = [f"待审天数应为0至{MAX_PENDING_DAYS}之间的整数"]
    for key, values in (("college", f.college), ("major", f.major), ("class", f.class_name)):
        if len(values) > MAX_VALUES:
            errors[key] = [f"最多选择{MAX_VALUES}项"]
    if any(len(c) > 64 for c in f.class_name):
        errors["class"] = ["班级名称不能超过64个字符"]
    if any(not 1 <= i <= 2**31 - 1 for i in [*f.college, *f.major]):
        errors.setdefault("college", []).append("院系或专业编号无效")
    if errors:
        raise InvalidInput("筛选条件有误", details=errors)
    return selected_states(f)


def _record_part(actor: Actor, f: ChaseFilters, states: list[ChaseState], school: str, year: int) -> Select | None:
    waiting = [s.label for s in states if s.kind not in (KIND_UNBOUND, KIND_PENDING)]
    review = [s.label for s in states if s.kind == KIND_PENDING]
    if not waiting and not review:
        return None
    condition = REVIEW_STATUS.in_(waiting) if waiting else None
    if review:
        at_level = REVIEW_STATUS.in_(review)
        if f.pending_days:
            cutoff = utcnow() - timedelta(days=f.pending_days)
            at_level &= Value(cutoff, converter=Record.created_at.db_value) > STATUS_SINCE
        condition = at_level if condition is None else (condition | at_level)
    class_name = fn.COALESCE(RosterStudent.class_name, "")
    query = (Record.select(REVIEW_STATUS.alias("state"), STATUS_SINCE.alias("since"),
                           Record.college.alias("college_id"), Record.major.alias("major_id"),
                           class_name.alias("class_name"), Record.student_no.alias("student_no"),
                           Record.name.alias("name"), Record.id.alias("record_id"),
                           Record.student.alias("roster_id"), Record.user.alias("user_id"), Value(1).alias("src"))
             .join(RosterStudent, JOIN.LEFT_OUTER, on=(Record.student == RosterStudent.id))
             .where((Record.school == school) & condition))
    grants = actor.grants_clause(Record.college, Record.major)
    if grants is not None:
        query = query.where(grants)
    if f.college:
        query = query.where(Record.college.in_(f.college))
    if f.major:
        query = query.where(Record.major.in_(f.major))
    if f.class_name:
        query = query.where(class_name.in_(f.class_name))
    return query


def _unbound_part(actor: Actor, f: ChaseFilters, states: list[ChaseState], school: str, year: int) -> Select | None:
    if not any(s.kind == KIND_UNBOUND for s in states):
        return None
    rs = RosterStudent
    query = (rs.select(Value(UNBOUND).alias("state"),
                       rs.imported_at.alias("since"), rs.college.alias("college_id"), rs.major.alias("major_id"),
                       rs.class_name.alias("class_name"), rs.student_no.alias("student_no"), rs.name.alias("name"),
                       SQL("NULL").alias("record_id"), rs.id.alias("roster_id"), SQL("NULL").alias("user_id"),
                       Value(0).alias("src"))
             .join(Record, JOIN.LEFT_OUTER, on=(Record.student == rs.id))
             .where((rs.school == school) & rs.eligible & (rs.year == year) & Record.student.is_null()))
    grants = actor.grants_clause(rs.college, rs.major)
    if grants is not None:
        query = query.where(grants)
    if f.college:
        query = query.where(rs.college.in_(f.college))
    if f.major:
        query = query.where(rs.major.in_(f.major))
    if f.class_name:
        query = query.where(rs.class_name.in_(f.class_name))
    return query


def _union(actor: Actor, f: ChaseFilters, states: list[ChaseState], year: int) -> Any | None:
    """The union of both parts as a subquery `u`, or None when the filter selects nothing."""
    school = _require_school(actor)
    parts = [p for p in (_record_part(actor, f, states, school, year), _unbound_part(actor, f, states, school, year))
             if p is not None]
    if not parts:
        return None
    union = parts[0] if len(parts) == 1 else parts[0] + parts[1]  # UNION ALL
    return union.alias("u")


def _select(u: Any, *columns: Any) -> Select:
    return Select(from_list=[u], columns=list(columns)).bind(database)


def counts(actor: Actor, f: ChaseFilters, year: int) -> Counts:
    """Counts per state, and per college / major / class in the same one grouped query."""
    states = validate(f)
    rows: list[tuple[Any, ...]] = []
    u = _union(actor, f, states, year)
    if u is not None:
        keys = (u.c.state, u.c.college_id, u.c.major_id, u.c.class_name)
        rows = list(_select(u, *keys, fn.COUNT(SQL("*"))).group_by(*keys).tuples())
    colleges, majors = _unit_names({r[1] for r in rows if r[1]}, {r[2] for r in rows if r[2]})
    by_state = {s.label: 0 for s in states}
    levels: dict[str, dict[Any, GroupCount]] = {"college": {}, "major": {}, "class": {}}
    for state, college_id, major_id, class_name, n in rows:
        by_state[state] = by_state.get(state, 0) + n
        college, major = colleges.get(college_id, ""), majors.get(major_id, "")
        for level, key, group in (
            ("college", college_id, GroupCount(college_id, None, "", college, "")),
            ("major", (college_id, major_id), GroupCount(college_id, major_id, "", college, major)),
            ("class", (college_id, major_id, class_name), GroupCount(college_id, major_id, class_name or "",
                                                                      college, major)),
        ):
            g = levels[level].setdefault(key, group)
            g.by_state[state] = g.by_state.get(state, 0) + n

    def ordered(groups: dict[Any, GroupCount]) -> list[GroupCount]:
        return sorted(groups.values(), key=lambda g: (g.college, g.major, g.class_name))

    return Counts(states, by_state, ordered(levels["college"]), ordered(levels["major"]), ordered(levels["class"]))


def _unit_names(college_ids: set[int], major_ids: set[int]) -> tuple[dict[int, str], dict[int, str]]:
    colleges = dict(College.select(College.id, College.name).where(College.id.in_(list(college_ids))).tuples()) \
        if college_ids else {}
    majors = dict(Major.select(Major.id, Major.name).where(Major.id.in_(list(major_ids))).tuples()) \
        if major_ids else {}
    return colleges, majors  # type: ignore[return-value]


_ROW_COLUMNS = ("state", "since", "student_no", "name", "class_name", "college_id", "major_id", "record_id",
                "roster_id", "user_id")


def _row(values: tuple[Any, ...]) -> ChaseRow:
    """A union row (in _ROW_COLUMNS order) as a ChaseRow."""
    state, since, *rest = values
    return ChaseRow(state, _since(since), *rest)


def _rows(query: Select) -> list[ChaseRow]:
    found = [_row(t) for t in query.tuples()]
    _add_details(found)
    return found


def _since(value: Any) -> datetime | None:
    """SQLite hands a raw union column back as text; PostgreSQL as a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _phone(data: Any, key: str = "personal") -> str:
    part = data.get(key) if isinstance(data, dict) and key else data
    value = part.get("phone") if isinstance(part, dict) else None
    return str(value) if value else ""


def _add_details(rows: list[ChaseRow]) -> None:
    """Phone (the record's 手机号码, else the roster's) and the unit names, one query each."""
    record_ids = [r.record_id for r in rows if r.record_id]
    roster_ids = [r.roster_id for r in rows if r.roster_id]
    from_records = {i: _phone(d) for i, d in Record.select(Record.id, Record.data)
                    .where(Record.id.in_(record_ids)).tuples()} if record_ids else {}
    from_roster = {i: _phone(d, "") for i, d in RosterStudent.select(RosterStudent.id, RosterStudent.fields)
                   .where(RosterStudent.id.in_(roster_ids)).tuples()} if roster_ids else {}
    colleges, majors = _unit_names({r.college_id for r in rows if r.college_id},
                                   {r.major_id for r in rows if r.major_id})
    for r in rows:
        r.phone = (from_records.get(r.record_id, "") if r.record_id else "") or from_roster.get(r.roster_id or 0, "")
        r.college = colleges.get(r.college_id or 0, "")
        r.major = majors.get(r.major_id or 0, "")


def chase_page(actor: Actor, f: ChaseFilters, year: int, *, page: int = 1, per_page: int = 20) -> ChasePage:
    """Counts plus one page of rows, longest waiting first (then 学号)."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput("分页参数有误", details={"page": ["页码从1开始"], "per_page": [f"每页1至{MAX_PER_PAGE}条"]})
    summary = counts(actor, f, year)
    u = _union(actor, f, summary.states, year)
    items: list[ChaseRow] = []
    if u is not None and summary.total:
        query = (_select(u, *(getattr(u.c, c) for c in _ROW_COLUMNS))
                 .order_by(u.c.since.asc(), u.c.student_no.asc(), u.c.src.asc()).paginate(page, per_page))
        items = _rows(query)
    return ChasePage(summary, items, summary.total, page, per_page)


def iter_rows(actor: Actor, f: ChaseFilters, year: int, *, chunk: int = ITER_CHUNK) -> Iterator[ChaseRow]:
    """Every row of the filter in 学号 order, fetched by keyset in chunks (exports, reminder senders)."""
    states = validate(f)
    u = _union(actor, f, states, year)
    if u is None:
        return
    last: tuple[str, int] | None = None
    while True:
        query = (_select(u, *(getattr(u.c, c) for c in _ROW_COLUMNS), u.c.src)
                 .order_by(u.c.student_no.asc(), u.c.src.asc()).limit(chunk))
        if last is not None:
            query = query.where((u.c.student_no > last[0]) | ((u.c.student_no == last[0]) & (u.c.src > last[1])))
        raw = list(query.tuples())
        rows = [_row(t[:-1]) for t in raw]
        _add_details(rows)
        yield from rows
        if len(raw) < chunk:
            return
        last = (raw[-1][2], raw[-1][-1])


def student_targets(actor: Actor, f: ChaseFilters, year: int) -> list[tuple[int | None, int | None, str]]:
    """(user_id, record_id, 学号) of every listed student: what a reminder sender needs."""
    return [(r.user_id, r.record_id, r.student_no) for r in iter_rows(actor, f, year)]
