"""Search the records in an actor's scope: keyword, statuses, origin region, college, major.

Status filters read record.review_status / record.report_status, copies of the instance's labels
kept by database triggers (migration m0003), so that filtering, counting and sorting never touch
process_instance (whose rows hold the engine state) and are answered from one covering index.
A page is fetched in two steps: the ids (index only), then those rows with their details.

Every filter is index-friendly on SQLite and PostgreSQL alike: prefixes (学号, 证件号码, 生源地
code) are ranges (col >= p AND col < p'), not LIKE, so both engines use their B-tree indexes;
only the name substring needs LIKE. Lists always carry masked 证件号码.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from peewee import JOIN, SQL, Expression, NodeList, Select, Value, fn

from service.codes import REGION, get_codes
from service.errors import InvalidInput
from service.models import AuditEvent, College, Major, ProcessInstance, Record, School
from service.services.actors import Actor
from service.services.review_scope import known_report_statuses, known_statuses
from service.validation.identity import mask_id_number

MAX_PER_PAGE = 200
# Trigger-maintained copies on record (see the module docstring); unqualified, so a query using them
# must not join process_instance, which has a report_status column too.
REVIEW_STATUS = SQL("review_status")
REPORT_STATUS = SQL("report_status")
_PREFIX = re.compile(r"[0-9A-Za-z]{1,32}")
_REGION_PREFIX = re.compile(r"\d{1,6}")
# What the masked lists show of a 证件号码: its last four (440106********123X), or the masked form itself.
_ID_TAIL = re.compile(r"[0-9]{3}[0-9Xx]")
_MASKED_ID = re.compile(r"([0-9A-Za-z]{0,6})\*{2,}([0-9A-Za-z]{1,4})")
SORT_KEYS: dict[str, Any] = {
    "id": Record.id,
    "student_no": Record.student_no,
    "name": Record.name,
    "origin_region": Record.origin_region,
    "updated_at": Record.updated_at,
    "created_at": Record.created_at,
    "review_status": REVIEW_STATUS,
    "report_status": REPORT_STATUS,
    "college": Record.college,
    "major": Record.major,
}


@dataclass
class RecordFilters:
    q: str = ""
    review_status: list[str] = field(default_factory=list)
    report_status: list[str] = field(default_factory=list)
    origin_region: str = ""
    college: list[int] = field(default_factory=list)
    major: list[int] = field(default_factory=list)


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


def _prefix_range(column: Any, prefix: str) -> Expression:
    """col starts with prefix, as a range the B-tree index answers (prefix is ASCII)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (column >= prefix) & (column < upper)


def _name_contains(text: str) -> Expression:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return NodeList((Record.name, SQL("LIKE"), Value(f"%{escaped}%"), SQL("ESCAPE '\\'")))  # type: ignore[return-value]


def _id_ends_with(tail: str) -> Expression:
    """证件号码 ending with the digits a masked list shows; checked inside the covering index."""
    return NodeList((Record.id_number, SQL("LIKE"), Value(f"%{tail}")))  # type: ignore[return-value]


def keyword_clause(q: str) -> Expression | None:
    """姓名 as a substring; 学号 and 证件号码 exactly or by prefix; 证件号码 by its last four digits
    (what the masked list shows) or by the masked form itself."""
    q = q.strip()
    if not q:
        return None
    clauses: list[Expression] = []
    masked = _MASKED_ID.fullmatch(q)
    if masked:
        head, tail = masked.group(1).upper(), masked.group(2).upper()
        clause = _id_ends_with(tail)
        return clause & _prefix_range(Record.id_number, head) if head else clause
    if _ID_TAIL.fullmatch(q):
        clauses.append(_id_ends_with(q.upper()))
    if _PREFIX.fullmatch(q):
        clauses.append(_prefix_range(Record.student_no, q))
        clauses.append(_prefix_range(Record.id_number, q.upper()))
    if not any(ch.isdigit() for ch in q):  # names have no digits; numbers then use their indexes
        clauses.append(_name_contains(q))
    if not clauses:  # digits mixed with other characters: neither a name nor a number
        return SQL("1 = 0")  # type: ignore[return-value]
    out = clauses[0]
    for c in clauses[1:]:
        out = out | c
    return out


def validate_filters(f: RecordFilters) -> None:
    """Refuse values no deployed process knows, so a typo is a 422 and not an empty list."""
    errors: dict[str, list[str]] = {}
    if f.review_status:
        known = known_statuses()
        bad = [s for s in f.review_status if s not in known]
        if bad:
            errors["review_status"] = [f"未知的审核状态：{'、'.join(bad)}（可选：{'、'.join(known)}）"]
    if f.report_status:
        known = known_report_statuses()
        bad = [s for s in f.report_status if s not in known]
        if bad:
            errors["report_status"] = [f"未知的上报状态：{'、'.join(bad)}（可选：{'、'.join(known)}）"]
    if f.origin_region and not _REGION_PREFIX.fullmatch(f.origin_region):
        errors["origin_region"] = ["生源地应为1至6位行政区划代码（前缀），如44或4401"]
    if len(f.q) > 64:
        errors["q"] = ["关键字不能超过64个字符"]
    if errors:
        raise InvalidInput(details=errors)


def apply_filters(query: Select, actor: Actor, f: RecordFilters) -> Select:
    """Scope plus filters on a query over Record (not joined to ProcessInstance)."""
    scope = actor.record_filter()
    if scope is not None:
        query = query.where(scope)
    keyword = keyword_clause(f.q)
    if keyword is not None:
        query = query.where(keyword)
    if f.review_status:
        query = query.where(REVIEW_STATUS.in_(f.review_status))
    if f.report_status:
        query = query.where(REPORT_STATUS.in_(f.report_status))
    if f.origin_region:  # a prefix match the covering index checks (44 matches most rows: no range scan)
        query = query.where(fn.SUBSTR(Record.origin_region, 1, len(f.origin_region)) == f.origin_region)
    if f.college:
        query = query.where(Record.college.in_(f.college))
    if f.major:
        query = query.where(Record.major.in_(f.major))
    return query


NUMERIC_SORT_KEYS = frozenset({"id", "college", "major"})
SPARSE_RATIO = 5  # filters matching under 1/5 of the records in scope count as sparse


def _sort_expr(key: str, filtered: bool) -> Any:
    """The ORDER BY term; with filters, wrapped so that no single-column index can serve it.

    Why: given ORDER BY name (or 学号) and LIMIT, SQLite's planner walks that column's narrow index
    and reads the table row of every entry to test the filters — 100,000 row reads for a filter
    that matches late. Wrapped (col || '' / col + 0), the order can only come from a sort, so the
    planner picks the covering search index for the filters and sorts just the matches.
    """
    column = SORT_KEYS[key]
    if not filtered:
        return column
    return (column + 0) if key in NUMERIC_SORT_KEYS else column.concat("")


def parse_sort(sort: str, *, filtered: bool = False) -> list[Any]:
    """'student_no' or '-updated_at' (comma-separated); always ends with the id as a tie-breaker."""
    order: list[Any] = []
    for part in [p.strip() for p in (sort or "").split(",") if p.strip()]:
        desc = part.startswith("-")
        key = part.lstrip("-+")
        if key not in SORT_KEYS:
            raise InvalidInput(details={"sort": [f"不支持的排序字段：{key}（可选：{'、'.join(SORT_KEYS)}）"]})
        expr = _sort_expr(key, filtered)
        order.append(expr.desc() if desc else expr.asc())
    if not order:
        order.append(_sort_expr("student_no", filtered).asc())
    order.append(Record.id.asc())
    return order


def _is_filtered(f: RecordFilters) -> bool:
    return bool(f.q.strip() or f.review_status or f.report_status or f.origin_region or f.college or f.major)


def search(actor: Actor, f: RecordFilters, *, page: int = 1, per_page: int = 20, sort: str = "") -> Page:
    validate_filters(f)
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(details={"page": ["页码从1开始"], "per_page": [f"每页1至{MAX_PER_PAGE}条"]})
    parse_sort(sort)  # refuse a bad sort before any query
    total = apply_filters(Record.select(fn.COUNT(Record.id)), actor, f).scalar() or 0
    sparse = False
    if _is_filtered(f):
        # Few matches: sort just them (see _sort_expr). Many: reading in index order finds a page
        # after a few rows, so let the planner walk the sort column's index.
        in_scope = apply_filters(Record.select(fn.COUNT(Record.id)), actor, RecordFilters()).scalar() or 0
        sparse = total * SPARSE_RATIO < in_scope
    order = parse_sort(sort, filtered=sparse)
    ids = [rid for (rid,) in apply_filters(Record.select(Record.id), actor, f)
           .order_by(*order).paginate(page, per_page).tuples()] if total else []
    fetched = {r["id"]: r for r in (
        Record.select(Record.id, Record.school, Record.student_no, Record.name, Record.id_number, Record.category,
                      Record.origin_region, Record.college, Record.major, Record.updated_at, ProcessInstance.status,
                      ProcessInstance.report_status, ProcessInstance.role, ProcessInstance.lock_version,
                      ProcessInstance.completed, College.name.alias("college_name"), Major.name.alias("major_name"))
        .join(ProcessInstance, on=(ProcessInstance.record == Record.id))
        .switch(Record).join(College, JOIN.LEFT_OUTER, on=(Record.college == College.id))
        .switch(Record).join(Major, JOIN.LEFT_OUTER, on=(Record.major == Major.id))
        .where(Record.id.in_(ids)).dicts())} if ids else {}
    rows = [fetched[i] for i in ids if i in fetched]
    regions = get_codes().table(REGION)
    items = [{
        "id": r["id"], "school_code": r["school"], "student_no": r["student_no"], "name": r["name"],
        "id_number": mask_id_number(r["id_number"]) if r["id_number"] else "", "category": r["category"],
        "origin_region": r["origin_region"], "origin_region_label": regions.label(r["origin_region"]) or "",
        "college": {"id": r["college"], "name": r["college_name"]} if r["college"] else None,
        "major": {"id": r["major"], "name": r["major_name"]} if r["major"] else None,
        "review_status": r["status"], "report_status": r["report_status"], "pending_role": r["role"],
        "completed": r["completed"], "lock_version": r["lock_version"], "updated_at": r["updated_at"],
    } for r in rows]
    return Page(items, total, page, per_page)


EXPORT_CHUNK = 2000


def last_comment_subquery() -> Select:
    """The comment of the record's latest decision (审核意见), as a correlated scalar subquery."""
    ev = AuditEvent.alias("last_ev")
    return (ev.select(ev.comment)
            .where((ev.record == Record.id) & (ev.decision != ""))
            .order_by(ev.seq.desc()).limit(1))


def iter_flat_records(actor: Actor, f: RecordFilters, *, chunk: int = EXPORT_CHUNK,
                      leave_out_statuses: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every matching record as one flat dict (field id -> value) for the document layer.

    Keyset pagination over (school, 学号) in chunks, each iterated without caching: memory stays
    constant on both engines (a psycopg2 cursor would otherwise buffer the whole result).
    """
    validate_filters(f)
    school_names = {code: name for code, name in School.select(School.code, School.name).tuples()}
    last: tuple[str, str] | None = None
    while True:
        query = (apply_filters(Record.select(
                 Record.school, Record.student_no, Record.id, Record.name, Record.id_number, Record.origin_region,
                 Record.data, REVIEW_STATUS, REPORT_STATUS, last_comment_subquery().alias("last_comment"),
                 College.name, Major.name), actor, f)
                 .switch(Record).join(College, JOIN.LEFT_OUTER, on=(Record.college == College.id))
                 .switch(Record).join(Major, JOIN.LEFT_OUTER, on=(Record.major == Major.id))
                 .order_by(Record.school, Record.student_no).limit(chunk))
        if leave_out_statuses:  # sign-off sheets: a record never submitted has nothing to sign
            query = query.where(REVIEW_STATUS.not_in(leave_out_statuses))
        if last is not None:
            query = query.where((Record.school > last[0])
                                | ((Record.school == last[0]) & (Record.student_no > last[1])))
        n = 0
        for row in query.tuples().iterator():
            n += 1
            (school, student_no, _id, name, id_number, origin, data, status, report_status, comment,
             college, major) = row
            last = (school, student_no)
            yield flatten(data, school_name=school_names.get(school, ""), school_code=school, student_no=student_no,
                          name=name, id_number=id_number, origin_region=origin, college=college or "",
                          major=major or "", review_status=status, report_status=report_status,
                          last_comment=comment or "")
        if n < chunk:
            return


def flatten(data: Any, **columns: Any) -> dict[str, Any]:
    """{"school": {...}, "personal": {...}, "other": {...}} -> one dict; the copied columns win
    where the sections are silent (records not yet filled in still show who they are)."""
    flat: dict[str, Any] = {}
    if isinstance(data, dict):
        for section in ("school", "personal", "other"):
            part = data.get(section)
            if isinstance(part, dict):
                flat.update(part)
    for key, value in columns.items():
        if key in ("review_status", "report_status", "last_comment", "school_name") or not flat.get(key):
            flat[key] = value
    return flat
