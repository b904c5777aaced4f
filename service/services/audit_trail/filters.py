"""Who reads the audit trail, with which filters, and how one event reads (before → after).

Readers: the school-wide role of the caller's school (the centre) for its own school, the admin
for every school, the province (省级) for every school's events (an optional school filter).
Everyone else gets 404, as for a record out of scope: the trail's existence leaks nothing.

Filters (all optional, combined with AND): record / student (a record id, a 学号 or a 姓名, within
the reader's scope), actor (username), action, level, a time range, a school (admin and
province), and a changed field: events whose data_changed carries that field as an edit
(`"section.field": [before, after]`, the shape every writer uses: student_report.save_section,
records.edit_record).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from peewee import OP, SQL, Expression, ModelSelect, NodeList, Value

from service.codes import get_codes
from service.documents.fields import CODE_TABLES, text
from service.errors import InvalidInput, NotFound
from service.models import AuditEvent, ProcessVersion, Record
from service.services import audit_query, review_scope
from service.services.actors import ADMIN_ROLE, PROVINCE_ROLE, SYSTEM, Actor
from service.services.audit_trail.labels import (
    DECISION_LABELS,
    FIELD_KEYS,
    action_label,
    detail_text,
    field_key_label,
)

MAX_PER_PAGE = audit_query.MAX_PER_PAGE
MAX_PAGE = 1_000_000
MAX_TEXT = 64  # record / actor / action / level filters: longer than any stored value
SCHOOL_CODE_LENGTH = 10
# Counting stops here: a province holds millions of events, and a page needs to know "more than
# this many" rather than the exact figure (a count of every event would cost each page a scan).
COUNT_CAP = 10_000


@dataclass
class TrailFilters:
    record: str = ""  # a record id, a 学号 or a 姓名
    record_id: int | None = None  # exactly this record (the API's `record`)
    actor: str = ""
    action: str = ""
    level: str = ""
    field: str = ""  # section.field, e.g. personal.origin_region
    since: datetime | None = None
    until: datetime | None = None
    school: str = ""  # admin and province only; the centre always reads its own school

    def active(self) -> dict[str, Any]:
        """The filters that are set, for the export's audit event and the download name."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat(timespec="seconds")
            elif value:
                out[key] = value
        return out


@dataclass
class TrailPage:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    events: list[AuditEvent] = field(default_factory=list)  # the rows shown, for the chain check
    total_capped: bool = False  # total is COUNT_CAP: there are more

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def can_read(actor: Actor) -> bool:
    return actor.is_admin or actor.is_province or (
        actor.school_code is not None and actor.role == review_scope.centre_role(actor))


def require_reader(actor: Actor) -> None:
    """404 for anyone who may not read the trail (counselors, students, other levels)."""
    if not can_read(actor):
        raise NotFound("页面不存在", code="not_found")


def validate(f: TrailFilters, *, page: int = 1, per_page: int = 50) -> None:
    """Every filter's bounds, 422 with the field named in Chinese (callers parse types first)."""
    errors: dict[str, list[str]] = {}
    for name, label in (("record", "记录/学生"), ("actor", "操作人"), ("action", "操作"), ("level", "层级")):
        if len(getattr(f, name)) > MAX_TEXT:
            errors[name] = [f"{label}不能超过{MAX_TEXT}个字符"]
    if f.field and f.field not in FIELD_KEYS:
        errors["field"] = ["没有这个字段"]
    if f.school and (len(f.school) > SCHOOL_CODE_LENGTH or not f.school.isalnum()):
        errors["school"] = ["学校代码格式不正确"]
    if f.since and f.until and _naive(f.since) > _naive(f.until):
        errors["since"] = ["开始时间晚于结束时间"]
    for name in ("since", "until"):
        value = getattr(f, name)
        if value is not None and not 2000 <= value.year <= 2999:
            errors[name] = ["时间超出范围（2000 至 2999 年）"]
    if not 1 <= page <= MAX_PAGE:
        errors["page"] = [f"页码应在1至{MAX_PAGE}之间"]
    if not 1 <= per_page <= MAX_PER_PAGE:
        errors["per_page"] = [f"每页1至{MAX_PER_PAGE}条"]
    if errors:
        raise InvalidInput("筛选条件有误", details=errors)


def _naive(value: datetime) -> datetime:
    """Audit times are stored as naive UTC."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def scoped_query(actor: Actor, f: TrailFilters) -> ModelSelect:
    """The events the actor may read that match the filters (validated), unordered."""
    require_reader(actor)
    validate(f)
    query = AuditEvent.select()
    if actor.is_admin or actor.is_province:
        school = f.school or None
        if school:
            query = query.where(AuditEvent.school == school)
        elif actor.is_province:  # the deployment's own chain (deploys, schools) is the admin's,
            # except what the province itself did there (its exports across every school)
            query = query.where(AuditEvent.school.is_null(False) | (AuditEvent.actor_role == PROVINCE_ROLE))
    else:
        school = actor.school_code
        query = query.where(AuditEvent.school == school)
    if f.record_id is not None:
        query = query.where(AuditEvent.record == f.record_id)
    if f.record:
        query = query.where(AuditEvent.record.in_(_matching_records(f.record, school)))
    if f.actor:
        query = query.where(AuditEvent.actor == f.actor)
    if f.action:
        query = query.where(AuditEvent.action == f.action)
    if f.level:
        query = query.where(AuditEvent.level == f.level)
    if f.since:
        query = query.where(AuditEvent.created_at >= _naive(f.since))
    if f.until:
        query = query.where(AuditEvent.created_at <= _naive(f.until))
    if f.field:
        # data_changed is canonical JSON (sorted keys, no spaces): an edit of the field is the key
        # followed by its [before, after] list; a value quoting the key would carry \" instead.
        query = query.where(_edited(f.field))
    return query


def _edited(key: str) -> Expression:
    """data_changed LIKE '%"key":[%', the pattern passed as it is (not through the JSON field's
    db_value, which would encode it as a JSON string) and its wildcards escaped."""
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Expression(AuditEvent.data_changed, OP.ILIKE,  # LIKE on SQLite (its OP.LIKE is GLOB)
                      NodeList((Value(f'%"{escaped}":[%', converter=False), SQL("ESCAPE"),
                                Value("\\", converter=False))))


def _matching_records(value: str, school: str | None) -> ModelSelect:
    """The ids of the records a record / student filter names: an id, a 学号 or a 姓名."""
    value = value.strip()
    clause = (Record.student_no == value) | (Record.name == value)
    if value.isdigit() and len(value) <= 9:
        clause |= Record.id == int(value)
    query = Record.select(Record.id).where(clause)
    return query.where(Record.school == school) if school else query


def newest_first(query: ModelSelect) -> ModelSelect:
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def search(actor: Actor, f: TrailFilters, *, page: int = 1, per_page: int = 50) -> TrailPage:
    """One page of matching events, newest first, each as `event_view`."""
    validate(f, page=page, per_page=per_page)
    query = scoped_query(actor, f)
    total = query.select(AuditEvent.id).limit(COUNT_CAP + 1).count()
    if 0 < total <= COUNT_CAP and (page - 1) * per_page >= total:
        page = math.ceil(total / per_page)  # past the end (an old link, a typed number): the last page
    events = list(newest_first(query).paginate(page, per_page))
    views = Views()
    views.know_records({ev.record for ev in events if ev.record is not None})
    return TrailPage([views.event(ev) for ev in events], min(total, COUNT_CAP), page, per_page, events,
                     total_capped=total > COUNT_CAP)


class Views:
    """Event views with the role labels and code tables read once per page or export."""

    def __init__(self) -> None:
        # the BPMN's lanes, then the accounts that are no lane (the deployment's own, the importer)
        self.role_labels = {ADMIN_ROLE: "管理员", PROVINCE_ROLE: "省级", SYSTEM.role: "系统",
                            **audit_query._role_labels()}
        self._codes = get_codes()
        self._students: dict[int, str] = {}

    def know_records(self, record_ids: set[int]) -> None:
        """Who each shown record is (学号 姓名), read in one query, so a row names its student."""
        if record_ids:
            self._students.update(
                (rid, f"{no} {name}") for rid, no, name in Record.select(Record.id, Record.student_no, Record.name)
                .where(Record.id.in_(sorted(record_ids))).tuples())

    def value_text(self, key: str, value: Any) -> str:
        """A recorded value as text, a coded one with its label: 440103（荔湾区）."""
        if "." not in key:  # not a report field: a detail the writer recorded (学生类别 …)
            return detail_text(key, value) if value not in (None, "") else ""
        shown = text(value)
        table = CODE_TABLES.get(key.rsplit(".", 1)[-1])
        if table and shown:
            label = self._codes.label(table, shown)
            if label and label != shown:
                return f"{shown}（{label}）"
        return shown

    def event(self, ev: AuditEvent) -> dict[str, Any]:
        view = audit_query._event(ev, self.role_labels)
        changes, details = [], {}
        for key, value in (view["changes"] or {}).items() if isinstance(view["changes"], dict) else ():
            if isinstance(value, list) and len(value) == 2:
                before, after = value
                changes.append({"field": key, "label": field_key_label(key), "before": before, "after": after,
                                "before_text": self.value_text(key, before), "after_text": self.value_text(key, after)})
            else:
                details[key] = value
        view.update(action_label=action_label(ev.action), decision_label=DECISION_LABELS.get(ev.decision, ""),
                    changed=changes, details=details, student=self._students.get(ev.record or 0, ""),
                    detail_items=[(field_key_label(k), detail_text(k, v)) for k, v in details.items()])
        return view


def level_choices() -> list[str]:
    """The review levels of every deployed version, in order (their labels are what events record)."""
    seen: list[str] = []
    for (meta,) in ProcessVersion.select(ProcessVersion.meta).order_by(ProcessVersion.id).tuples():
        for level in meta.get("levels", []):
            if level.get("level") and level["level"] not in seen:
                seen.append(level["level"])
    return seen
