"""Search the records in an actor's scope: keyword, statuses, origin region, college, major.

Status filters read record.review_status / record.report_status, copies of the instance's labels
kept by database triggers (migration m0003), so that filtering, counting and sorting never touch
process_instance (whose rows hold the engine state) and are answered from one covering index.
A page is fetched in two steps: the ids (index only), then those rows with their details.

Every filter is index-friendly on SQLite and PostgreSQL alike: prefixes (学号, 证件号码, 生源地
code) are ranges (col >= p AND col < p'), not LIKE, so both engines use their B-tree indexes;
only the name substring needs LIKE. Lists always carry masked 证件号码.

At province size (hundreds of thousands of rows in one query's scope) three more things matter:
- the name fragment is looked up in a GIN index of each name's one- and two-character grams on
  PostgreSQL (migration m0015), then confirmed with LIKE; SQLite keeps LIKE in its covering index;
- the total is exact up to `list_exact_count_limit` rows (a count that stops there) and the
  planner's estimate beyond it on PostgreSQL, flagged `total_is_estimate`, so a page never counts
  a whole school or province; SQLite counts exactly (an index-only count of one school is cheap);
- deep pages use a keyset cursor (`after`): the last row's sort values, so the page is a range
  read of the index instead of an OFFSET that reads and throws away every row before it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from peewee import JOIN, SQL, Expression, NodeList, Select, Value, fn

from service.codes import REGION, get_codes
from service.config import get_settings
from service.db import database, is_sqlite
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
    page: int | None  # None when the page was asked for by cursor (after=)
    per_page: int
    total_is_estimate: bool = False
    next_after: str | None = None  # the cursor of the next page; None on the last page


def _prefix_range(column: Any, prefix: str) -> Expression:
    """col starts with prefix, as a range the B-tree index answers (prefix is ASCII)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (column >= prefix) & (column < upper)


def name_grams(text: str) -> list[str]:
    """The grams a name containing `text` must have (its two-character substrings, or itself)."""
    if len(text) <= 2:
        return [text]
    return sorted({text[i:i + 2] for i in range(len(text) - 1)})


def _name_contains(text: str) -> Expression:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = NodeList((Record.name, SQL("LIKE"), Value(f"%{escaped}%"), SQL("ESCAPE '\\'")))
    if is_sqlite():
        return like  # type: ignore[return-value]
    # The grams live in record_name_search (m0017), so that steps, which rewrite the record row,
    # do not rewrite a GIN index too.
    grams = NodeList((SQL("record_name_search.grams @>"),
                      NodeList((Value(name_grams(text), unpack=False), SQL("::text[]")), glue="")))
    in_search = NodeList((Record.id, SQL("IN (SELECT record_name_search.record_id FROM record_name_search WHERE"),
                          grams, SQL(")")))
    return NodeList((in_search, SQL("AND"), like), parens=True)  # type: ignore[return-value]


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


NULLABLE_SORT_KEYS = frozenset({"college", "major"})
DATETIME_SORT_KEYS = frozenset({"updated_at", "created_at"})


def _sort_expr(key: str, filtered: bool) -> Any:
    """The ORDER BY term; with filters, wrapped so that no single-column index can serve it.

    Why: given ORDER BY name (or 学号) and LIMIT, SQLite's planner walks that column's narrow index
    and reads the table row of every entry to test the filters — 100,000 row reads for a filter
    that matches late. Wrapped (col || '' / col + 0), the order can only come from a sort, so the
    planner picks the covering search index for the filters and sorts just the matches.
    """
    column = SORT_KEYS[key]
    if key in NULLABLE_SORT_KEYS:  # one order on both engines (NULLs first), and comparable in a cursor
        return fn.COALESCE(column, 0)
    if not filtered:
        return column
    return (column + 0) if key in NUMERIC_SORT_KEYS else column.concat("")


def sort_keys(sort: str) -> list[tuple[str, bool]]:
    """'student_no' or '-updated_at' (comma-separated) as (key, descending); 学号 when empty."""
    keys: list[tuple[str, bool]] = []
    for part in [p.strip() for p in (sort or "").split(",") if p.strip()]:
        key = part.lstrip("-+")
        if key not in SORT_KEYS:
            raise InvalidInput(details={"sort": [f"不支持的排序字段：{key}（可选：{'、'.join(SORT_KEYS)}）"]})
        keys.append((key, part.startswith("-")))
    return keys or [("student_no", False)]


def parse_sort(sort: str, *, filtered: bool = False) -> list[Any]:
    """The ORDER BY terms of `sort`; always ends with the id as a tie-breaker."""
    order: list[Any] = []
    for key, desc in sort_keys(sort):
        expr = _sort_expr(key, filtered)
        order.append(expr.desc() if desc else expr.asc())
    order.append(Record.id.asc())
    return order


# --- keyset cursors --------------------------------------------------------------------------

_BAD_CURSOR = {"after": ["翻页游标无效或已过期，请回到第一页重新查询"]}


def encode_cursor(sort: str, values: list[Any], record_id: int) -> str:
    """The last row's sort values and id, opaque to clients (base64url of JSON)."""
    plain = [str(v) if isinstance(v, datetime) else v for v in values]
    raw = json.dumps({"s": sort, "v": plain, "id": record_id}, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[list[Any], int]:
    """The values encode_cursor packed; a cursor from another sort or a forged one is a 422."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput(details=_BAD_CURSOR) from None
    keys = sort_keys(sort)
    if (not isinstance(data, dict) or data.get("s") != sort or not isinstance(data.get("v"), list)
            or len(data["v"]) != len(keys) or not isinstance(data.get("id"), int)
            or isinstance(data["id"], bool) or not 0 < data["id"] < 2**31):
        raise InvalidInput(details=_BAD_CURSOR)
    values: list[Any] = []
    for (key, _), value in zip(keys, data["v"], strict=True):
        if key in NUMERIC_SORT_KEYS:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
                raise InvalidInput(details=_BAD_CURSOR)
        elif not isinstance(value, str) or len(value) > 64 or "\x00" in value:
            raise InvalidInput(details=_BAD_CURSOR)
        elif key in DATETIME_SORT_KEYS:  # compared with a timestamp column: must be one
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise InvalidInput(details=_BAD_CURSOR) from None
        values.append(value)
    return values, data["id"]


def after_clause(sort: str, filtered: bool, values: list[Any], record_id: int) -> Expression:
    """Rows strictly after the cursor in the (sort, id) order, expanded for mixed directions.

    The first key also gets a plain bound (>= or <=), which the planner turns into an index range.
    """
    keys = sort_keys(sort)
    exprs = [_sort_expr(k, filtered) for k, _ in keys]
    terms: list[tuple[Any, bool, Any]] = [(e, d, v) for e, (_, d), v in zip(exprs, keys, values, strict=True)]
    terms.append((Record.id, False, record_id))
    out: Expression | None = None
    for i, (expr, desc, value) in enumerate(terms):
        clause = (expr < value) if desc else (expr > value)
        for prev_expr, _, prev_value in terms[:i]:
            clause = (prev_expr == prev_value) & clause
        out = clause if out is None else (out | clause)
    first_expr, first_desc, first_value = terms[0]
    bound = (first_expr <= first_value) if first_desc else (first_expr >= first_value)
    return bound & out  # type: ignore[operator, return-value]


# --- counts ----------------------------------------------------------------------------------

def count_matches(actor: Actor, f: RecordFilters, limit: int) -> tuple[int, bool]:
    """(total, is_estimate). Exact up to `limit` rows; beyond it, PostgreSQL's planner estimate.

    Why: an exact count reads every matching index entry, which is what made province-sized
    lists slow; nobody needs to know that a list holds 18,412 and not 18,000 rows to page through it.
    """
    if is_sqlite():
        return apply_filters(Record.select(fn.COUNT(Record.id)), actor, f).scalar() or 0, False
    sql, params = apply_filters(Record.select(SQL("1")), actor, f).limit(limit + 1).sql()
    capped = database.execute_sql(f"SELECT count(*) FROM ({sql}) AS capped", params).fetchone()[0]
    if capped <= limit:
        return capped, False
    sql, params = apply_filters(Record.select(SQL("1")), actor, f).sql()
    plan = database.execute_sql(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    return max(estimate, limit + 1), True


def _is_filtered(f: RecordFilters) -> bool:
    return bool(f.q.strip() or f.review_status or f.report_status or f.origin_region or f.college or f.major)


def search(actor: Actor, f: RecordFilters, *, page: int = 1, per_page: int = 20, sort: str = "",
           after: str | None = None, exact_count_limit: int | None = None) -> Page:
    """One page of the actor's records: by page number (small offsets) or after a cursor (any depth)."""
    validate_filters(f)
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(details={"page": ["页码从1开始"], "per_page": [f"每页1至{MAX_PER_PAGE}条"]})
    parse_sort(sort)  # refuse a bad sort before any query
    cursor = decode_cursor(after, sort) if after else None
    limit = get_settings().list_exact_count_limit if exact_count_limit is None else exact_count_limit
    total, estimated = count_matches(actor, f, limit)
    sparse = False
    if _is_filtered(f) and is_sqlite():
        # Few matches: sort just them (see _sort_expr). Many: reading in index order finds a page
        # after a few rows, so let the planner walk the sort column's index. PostgreSQL's planner
        # has statistics to choose by itself.
        in_scope = apply_filters(Record.select(fn.COUNT(Record.id)), actor, RecordFilters()).scalar() or 0
        sparse = total * SPARSE_RATIO < in_scope
    order = parse_sort(sort, filtered=sparse)
    key_exprs = [_sort_expr(k, sparse) for k, _ in sort_keys(sort)]
    query = apply_filters(Record.select(Record.id, *key_exprs), actor, f).order_by(*order)
    if cursor is not None:
        query = query.where(after_clause(sort, sparse, *cursor)).limit(per_page + 1)
    else:
        query = query.limit(per_page + 1).offset((page - 1) * per_page)
    found = list(query.tuples()) if total else []
    more, found = len(found) > per_page, found[:per_page]
    ids = [row[0] for row in found]
    next_after = encode_cursor(sort, list(found[-1][1:]), found[-1][0]) if more and found else None
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
    return Page(items, total, None if cursor else page, per_page, estimated, next_after)


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
