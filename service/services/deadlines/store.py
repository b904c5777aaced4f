"""The centre's deadline settings: read, set, and add / list / remove extensions, each audited.

Every change is written with its audit event in one write transaction, on the school's chain
(school:<code>); a student's extension carries the 学号 in data_changed. Only the centre (the
role of the school-wide last review level, read from the BPMN) of the same school may change
anything; ids of another school answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peewee import IntegrityError

from service.config import Settings
from service.db import write_transaction
from service.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from service.models import College, DeadlineExtension, Record, RosterStudent, School, SchoolDeadline, utcnow
from service.services import audit, review_scope, schools
from service.services.actors import Actor
from service.services.deadlines import policy

KIND_COLLEGE, KIND_STUDENT = "college", "student"
MAX_REASON = 200


def _iso(value: datetime | None) -> str | None:
    """Aware or naive-UTC instant → ISO 8601 with offset (+00:00), for the API and the audit."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds")


def _instant(value: str | datetime | None, field: str) -> datetime | None:
    """Text (ISO 8601; no offset = Beijing time) or an aware datetime → aware UTC; 422 if refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise policy.BadInstant("时间应带时区（例如 +08:00）")
            return policy.check_instant(value)
        return policy.parse_instant(value)
    except policy.BadInstant as exc:
        raise InvalidInput(f"{_LABELS.get(field, field)}：{exc}", code="invalid_time",
                           details={field: [str(exc)]}) from None


_LABELS = {"deadline": "截止时间", "resubmit_until": "重新提交期限", "until": "延期至"}


def _school_of(actor: Actor) -> str:
    if actor.is_admin or not actor.school_code:
        raise PermissionDenied("只有本校账号可以查看截止时间设置")
    return actor.school_code


def _require_centre(actor: Actor) -> str:
    code = _school_of(actor)
    if actor.role != review_scope.centre_role(actor):
        raise PermissionDenied("只有就业指导中心可以设置截止时间")
    return code


# --- reading -----------------------------------------------------------------------------------

def window_for(school_code: str, college_id: int | None, student_no: str, settings: Settings) -> policy.Window:
    """The inputs of one student's deadline: school (or default), college and own extensions."""
    row = SchoolDeadline.get_or_none(SchoolDeadline.school == school_code)
    school_deadline = policy.from_utc_naive(row.deadline) if row is not None else None
    source = policy.SOURCE_SCHOOL
    if school_deadline is None:
        school_deadline, source = policy.default_deadline(settings.deadline), policy.SOURCE_DEFAULT
    targets = [(KIND_STUDENT, student_no)] if student_no else []
    if college_id is not None:
        targets.append((KIND_COLLEGE, str(college_id)))
    college_until = student_until = None
    if targets:
        clause = None
        for kind, target in targets:
            one = (DeadlineExtension.kind == kind) & (DeadlineExtension.target == target)
            clause = one if clause is None else (clause | one)
        for ext in DeadlineExtension.select().where((DeadlineExtension.school == school_code) & clause):
            if ext.kind == KIND_COLLEGE:
                college_until = policy.from_utc_naive(ext.until)
            else:
                student_until = policy.from_utc_naive(ext.until)
    return policy.Window(school_deadline=school_deadline, school_source=source, college_until=college_until,
                         student_until=student_until,
                         resubmit_until=policy.from_utc_naive(row.resubmit_until) if row is not None else None)


def default_deadline(settings: Settings) -> datetime | None:
    """GRADFLOW_DEADLINE (the deadline of schools whose centre set none), aware UTC."""
    return policy.default_deadline(settings.deadline)


def require_binding_open(school_code: str, college_id: int | None, student_no: str, settings: Settings,
                         now: datetime | None = None) -> None:
    """Refuse (403 binding_closed) a binding after the student's applicable deadline."""
    decision = policy.binding(window_for(school_code, college_id, student_no, settings), now or datetime.now(UTC))
    if not decision.open:
        raise PermissionDenied(decision.message, code="binding_closed")


@dataclass(frozen=True)
class ExtensionRow:
    id: int
    kind: str
    college_id: int | None
    college_name: str
    student_no: str
    until: datetime  # aware UTC
    reason: str
    created_by: str
    created_at: datetime  # aware UTC

    @property
    def target_label(self) -> str:
        return self.college_name if self.kind == KIND_COLLEGE else f"学号 {self.student_no}"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "college_id": self.college_id, "college_name": self.college_name,
                "student_no": self.student_no, "until": _iso(self.until), "reason": self.reason,
                "created_by": self.created_by, "created_at": _iso(self.created_at)}


@dataclass(frozen=True)
class Overview:
    school_code: str
    deadline: datetime | None  # the school's effective deadline (its own, else the default)
    source: str | None  # SOURCE_SCHOOL, SOURCE_DEFAULT or None (no deadline)
    school_deadline: datetime | None  # what the centre set (None: the default applies)
    default_deadline: datetime | None
    resubmit_until: datetime | None
    updated_by: str
    updated_at: datetime | None
    extensions: list[ExtensionRow]

    def passed(self, now: datetime | None = None) -> bool:
        return self.deadline is not None and (now or datetime.now(UTC)) > self.deadline

    def in_force(self, now: datetime | None = None) -> list[ExtensionRow]:
        """Extensions that still give someone time past the school deadline at `now`."""
        now = now or datetime.now(UTC)
        return [e for e in self.extensions if e.until >= now and (self.deadline is None or e.until > self.deadline)]

    def as_dict(self) -> dict[str, Any]:
        return {"school_code": self.school_code, "deadline": _iso(self.deadline), "source": self.source,
                "school_deadline": _iso(self.school_deadline), "default_deadline": _iso(self.default_deadline),
                "resubmit_until": _iso(self.resubmit_until), "updated_by": self.updated_by,
                "updated_at": _iso(self.updated_at), "deadline_passed": self.passed(),
                "extensions": [e.as_dict() for e in self.extensions]}


def _extensions(school_code: str) -> list[ExtensionRow]:
    exts = list(DeadlineExtension.select().where(DeadlineExtension.school == school_code)
                .order_by(DeadlineExtension.kind, DeadlineExtension.until, DeadlineExtension.id))
    ids = sorted({e.college_id for e in exts if e.college_id})
    names: dict[int, str] = ({c.id: c.name for c in College.select(College.id, College.name).where(College.id.in_(ids))}
                             if ids else {})
    return [ExtensionRow(e.id, e.kind, e.college_id, names.get(e.college_id or 0, ""), e.student_no,
                         e.until.replace(tzinfo=UTC), e.reason, e.created_by, e.created_at.replace(tzinfo=UTC))
            for e in exts]


def school_overview(school_code: str, settings: Settings) -> Overview:
    row = SchoolDeadline.get_or_none(SchoolDeadline.school == school_code)
    own = policy.from_utc_naive(row.deadline) if row is not None else None
    default = policy.default_deadline(settings.deadline)
    effective, source = (own, policy.SOURCE_SCHOOL) if own is not None else (default, policy.SOURCE_DEFAULT)
    return Overview(school_code=school_code, deadline=effective, source=source if effective else None,
                    school_deadline=own, default_deadline=default,
                    resubmit_until=policy.from_utc_naive(row.resubmit_until) if row is not None else None,
                    updated_by=row.updated_by if row is not None else "",
                    updated_at=policy.from_utc_naive(row.updated_at) if row is not None else None,
                    extensions=_extensions(school_code))


def overview(actor: Actor, settings: Settings) -> Overview:
    """The actor's school's deadline settings (any account of the school but students may read)."""
    return school_overview(_school_of(actor), settings)


# --- changing ------------------------------------------------------------------------------------

class _Unchanged:
    """Marks a setting set_deadline leaves as it is."""


UNCHANGED = _Unchanged()
Setting = str | datetime | None | _Unchanged


def set_deadline(actor: Actor, settings: Settings, *, deadline: Setting = UNCHANGED,
                 resubmit_until: Setting = UNCHANGED) -> Overview:
    """Set the school deadline and/or the resubmission window; None clears one (a cleared deadline
    falls back to GRADFLOW_DEADLINE), UNCHANGED keeps it. One audit event names what changed."""
    code = _require_centre(actor)
    new_deadline = deadline if isinstance(deadline, _Unchanged) else _instant(deadline, "deadline")
    new_until = resubmit_until if isinstance(resubmit_until, _Unchanged) else _instant(resubmit_until,
                                                                                     "resubmit_until")
    chain = schools.school_chain(code)
    with write_transaction():
        audit.lock_chain(chain)  # concurrent changes of one school's deadline queue here
        if School.get_or_none(School.code == code) is None:
            raise NotFound("学校不存在", code="school_not_found")
        row = SchoolDeadline.get_or_none(SchoolDeadline.school == code)
        old_deadline = row.deadline if row is not None else None
        old_until = row.resubmit_until if row is not None else None
        def stored_value(new: datetime | None | _Unchanged, old: datetime | None) -> datetime | None:
            if isinstance(new, _Unchanged):
                return old
            return policy.to_utc_naive(new) if new is not None else None

        stored = {"deadline": stored_value(new_deadline, old_deadline),
                  "resubmit_until": stored_value(new_until, old_until)}
        values: dict[str, Any] = {**stored, "updated_by": actor.username, "updated_at": utcnow()}
        if row is None:
            SchoolDeadline.create(school=code, **values)
        else:
            SchoolDeadline.update(**values).where(SchoolDeadline.school == code).execute()
        changed = {key: [_iso(old), _iso(stored[key])]
                   for key, old in (("deadline", old_deadline), ("resubmit_until", old_until))
                   if _iso(old) != _iso(stored[key])}
        audit.append(chain, school=code, actor=actor.username, actor_role=actor.role, action="deadline_set",
                     data_changed=changed or None)
    return school_overview(code, settings)


def _reason(text: Any) -> str:
    reason = str(text or "").strip()
    if not reason:
        raise InvalidInput("请填写延期原因", details={"reason": ["必填"]})
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"延期原因不能超过 {MAX_REASON} 个字符", details={"reason": [f"不超过 {MAX_REASON} 个字符"]})
    if any(ord(c) < 32 and c not in "\t" for c in reason):
        raise InvalidInput("延期原因含有不允许的控制字符", details={"reason": ["含有不允许的字符"]})
    return reason


def add_extension(actor: Actor, *, until: str | datetime | None, reason: Any, college_id: int | None = None,
                  student_no: str | None = None) -> ExtensionRow:
    """One college's or one student's later end time; one extension per college / student."""
    code = _require_centre(actor)
    student_no = "".join((student_no or "").split())
    if (college_id is None) == (not student_no):
        raise InvalidInput("请选择一个院系或填写一个学号（二者选一）", details={"college_id": ["院系与学号二选一"]})
    if student_no and (len(student_no) > 32 or any(ord(c) < 32 for c in student_no)):
        raise InvalidInput("学号格式有误", details={"student_no": ["学号格式有误"]})
    end = _instant(until, "until")
    if end is None:
        raise InvalidInput("请填写延期截止时间", details={"until": ["必填"]})
    text = _reason(reason)
    chain = schools.school_chain(code)
    try:
        with write_transaction():
            audit.lock_chain(chain)
            if college_id is not None:
                college = College.get_or_none((College.id == college_id) & (College.school == code))
                if college is None:
                    raise NotFound("院系不存在", code="college_not_found")
                kind, target, label = KIND_COLLEGE, str(college.id), college.name
            else:
                known = (RosterStudent.select().where((RosterStudent.school == code)
                                                      & (RosterStudent.student_no == student_no)).exists()
                         or Record.select().where((Record.school == code)
                                                  & (Record.student_no == student_no)).exists())
                if not known:
                    raise NotFound("本校没有该学号的学生", code="student_not_found",
                                   details={"student_no": ["本校没有该学号"]})
                kind, target, label = KIND_STUDENT, student_no, student_no
            if DeadlineExtension.select().where((DeadlineExtension.school == code) & (DeadlineExtension.kind == kind)
                                                & (DeadlineExtension.target == target)).exists():
                raise Conflict(f"{label} 已有延期，请先删除原延期再添加", code="extension_exists")
            ext = DeadlineExtension.create(school=code, kind=kind, college=college_id, student_no=student_no,
                                           target=target, until=policy.to_utc_naive(end), reason=text,
                                           created_by=actor.username, created_at=utcnow())
            data: dict[str, Any] = {"extension_id": ext.id, "kind": kind, "until": [None, _iso(end)],
                                    "reason": [None, text]}
            data.update({"college_id": college_id, "college": label} if kind == KIND_COLLEGE
                        else {"student_no": student_no})
            audit.append(chain, school=code, actor=actor.username, actor_role=actor.role,
                         action="deadline_extension_add", data_changed=data)
    except IntegrityError:
        raise Conflict("该院系或学号已有延期，请先删除原延期再添加", code="extension_exists") from None
    return next(e for e in _extensions(code) if e.id == ext.id)


def list_extensions(actor: Actor) -> list[ExtensionRow]:
    return _extensions(_school_of(actor))


def remove_extension(actor: Actor, extension_id: int) -> None:
    code = _require_centre(actor)
    chain = schools.school_chain(code)
    with write_transaction():
        audit.lock_chain(chain)
        ext = DeadlineExtension.get_or_none((DeadlineExtension.id == extension_id)
                                            & (DeadlineExtension.school == code))
        if ext is None:
            raise NotFound("延期记录不存在", code="extension_not_found")
        data: dict[str, Any] = {"extension_id": ext.id, "kind": ext.kind, "until": [_iso(ext.until), None],
                                "reason": [ext.reason, None]}
        data.update({"college_id": ext.college_id} if ext.kind == KIND_COLLEGE else {"student_no": ext.student_no})
        DeadlineExtension.delete().where(DeadlineExtension.id == ext.id).execute()
        audit.append(chain, school=code, actor=actor.username, actor_role=actor.role,
                     action="deadline_extension_remove", data_changed=data)
