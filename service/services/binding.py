"""Binding (学籍绑定): a student proves who they are against the roster and gets an account.

Mainland students bring the token of a passed identity check; 港澳台 students bind without one
(the notice). The match is 学号 → 姓名 → 证件 in that order and each failure says which part did not
match, never what the roster holds. Failures count per (学号, client address) and per address and lock
them for a while, like logins (services.throttle): a stranger cannot lock a student's 学号 for everyone.
Account, record (prefilled from the roster) and workflow instance are created in one transaction.
A student whose record a reviewer added (添加) binds the same way (same checks); the account is then
attached to that record, which keeps its data, instance and status (issue 10, dead end 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError

from service.config import Settings
from service.db import write_transaction
from service.errors import Conflict, InvalidInput, NotFound, StaleVersion
from service.models import College, Major, ProcessInstance, Record, RosterStudent, School, User, utcnow
from service.services import accounts, audit, identity, processes, throttle
from service.services.actors import Actor
from service.services.deadlines import store as deadlines
from service.services.roster_rows import REPORT_FIELDS
from service.services.transitions import start_instance
from service.validation.identity import normalise_id_number
from service.validation.sections import CATEGORIES, CATEGORY_MAINLAND
from service.validation.text import normalise_code

# Roster values copied into the record; they are read-only for the student (see student_report).
ROSTER_SCHOOL_FIELDS = ("school_code", "student_no", "college", "major", "class_name", "exam_no", *REPORT_FIELDS)
ROSTER_PERSONAL_FIELDS = ("name", "gender", "id_type", "id_number")


@dataclass(frozen=True)
class BindRequest:
    category: str
    school_code: str
    student_no: str
    name: str
    id_type: str
    id_number: str
    password: str
    verification_token: str = ""
    client: str | None = None  # the caller's address, for throttling (None: not over the network)


class BindMismatch(InvalidInput):
    code = "bind_mismatch"


def _same_name(a: str, b: str) -> bool:
    """Names compare after the shared normalisation (zero-width characters gone), ignoring spaces and dots."""
    def norm(s: str) -> str:
        return normalise_code(s).replace("·", "").replace(".", "").replace("•", "").upper()

    return norm(a) == norm(b)


def prefill(student: RosterStudent, school: School) -> dict[str, dict[str, Any]]:
    """The report as the roster knows it (empty values left out)."""
    fields: dict[str, Any] = student.fields or {}
    college = College.get_or_none(College.id == student.college_id) if student.college_id else None
    major = Major.get_or_none(Major.id == student.major_id) if student.major_id else None
    school_part: dict[str, Any] = {
        "school_code": school.code, "student_no": student.student_no,
        "college": college.name if college else fields.get("college_name", ""),
        "major": major.name if major else fields.get("major_name", ""),
        "major_code": major.code if major else fields.get("major_code", ""),
        "class_name": student.class_name, "exam_no": student.exam_no,
        **{k: fields.get(k) for k in REPORT_FIELDS if k != "major_code"},
    }
    personal = {"name": student.name, "gender": student.gender, "id_type": student.id_type,
                "id_number": student.id_number}
    return {
        "school": {k: v for k, v in school_part.items() if v not in (None, "")},
        "personal": {k: v for k, v in personal.items() if v not in (None, "")},
        "other": {},
    }


def _fail(ticket: throttle.Ticket, field: str, message: str) -> None:
    left = ticket.attempts_left()
    suffix = f"（还可尝试 {left} 次）" if left else "（已达到上限，该学号暂时锁定）"
    raise BindMismatch(message + suffix, details={field: [message], "attempts_left": left})


def check_request(req: BindRequest) -> None:
    """Every field present and a strong password (binding and 忘记密码 ask for the same)."""
    problems = {}
    if req.category not in CATEGORIES:
        problems["category"] = ["学生类别应为 mainland（中国内地学生）或 hmt（港澳台学生）"]
    for key in ("school_code", "student_no", "name", "id_type", "id_number"):
        if not str(getattr(req, key) or "").strip():
            problems[key] = ["必填"]
    if problems:
        raise InvalidInput("绑定信息不完整", details=problems)
    accounts.check_password_strength(req.password or "", normalise_code(req.student_no))


RECOVER_PATH = "/student/forgot"


def _already_bound() -> Conflict:
    """Re-binding a bound 学号: log in, or get back in through 忘记密码 (the page and the API say where)."""
    return Conflict("该学号已绑定，请直接登录；忘记密码请通过“忘记密码”重新设置",
                    code="already_bound", details={"recover_url": RECOVER_PATH})


def bind_limits(school_code: str, student_no: str, client: str | None, settings: Settings) -> list[throttle.Limit]:
    addr = throttle.client_key(client)
    return [
        throttle.Limit(throttle.make_key("bind-addr", addr), settings.login_address_max_failures,
                       settings.login_lock_seconds, "该网络地址绑定失败次数过多，请 {minutes} 分钟后再试"),
        throttle.Limit(throttle.make_key("bind", school_code, student_no, addr), settings.login_max_failures,
                       settings.login_lock_seconds, clear_on_success=True),
    ]


def bind(req: BindRequest, settings: Settings) -> User:
    """Match the roster and create account + record + instance; returns the new account."""
    check_request(req)
    school_code, student_no = normalise_code(req.school_code), normalise_code(req.student_no)
    school = School.get_or_none(School.code == school_code)
    if school is None:
        raise NotFound("学校代码不存在", code="school_not_found", details={"school_code": ["学校代码不存在"]})
    number = normalise_id_number(req.id_number)
    if req.category == CATEGORY_MAINLAND:
        identity.check_token(req.verification_token, number, settings)
    ticket = throttle.reserve(bind_limits(school_code, student_no, req.client, settings))
    try:
        user = _match_and_create(req, school, school_code, student_no, number, ticket, settings)
    except BindMismatch:
        raise  # a wrong guess keeps its slot
    except Exception:
        throttle.succeeded(ticket)  # not a guess (already bound, a database error): give the slot back
        raise
    throttle.succeeded(ticket)
    return user


def match_roster(req: BindRequest, school_code: str, student_no: str, number: str,
                 ticket: throttle.Ticket) -> RosterStudent:
    """学号 → 姓名 → 证件 → 类别 against the roster; a mismatch raises BindMismatch (the guess keeps its slot)."""
    student = RosterStudent.get_or_none((RosterStudent.school == school_code)
                                        & (RosterStudent.student_no == student_no))
    if student is None:
        _fail(ticket, "student_no", "学号不存在")
    assert student is not None
    if not _same_name(student.name, req.name):
        _fail(ticket, "name", "姓名不符")
    if student.id_type != req.id_type.strip() or student.id_number != number:
        _fail(ticket, "id_number", "证件类型或证件号码不符")
    if student.category != req.category:
        _fail(ticket, "category", "学生类别不符")
    return student


def _match_and_create(req: BindRequest, school: School, school_code: str, student_no: str, number: str,
                      ticket: throttle.Ticket, settings: Settings) -> User:
    student = match_roster(req, school_code, student_no, number, ticket)
    if not student.eligible:
        _fail(ticket, "student_no", "不在上报范围，如有疑问请联系学院")
    deadlines.require_binding_open(school_code, student.college_id, student_no, settings)  # 403 binding_closed

    _, definition = processes.active_definition(school_code)
    try:
        with write_transaction():
            if User.select().where((User.school == school_code) & (User.username == student_no)).exists():
                raise _already_bound()
            existing = Record.get_or_none((Record.student == student) | ((Record.school == school_code)
                                                                         & (Record.student_no == student_no)))
            if existing is not None:
                return _attach_to_added_record(existing, student, req, definition.submitter_role)
            user = User.create(school=school_code, username=student_no, role=definition.submitter_role,
                               password_hash=accounts.hash_password(req.password), display_name=student.name)
            data = prefill(student, school)
            record = Record.create(
                school=school_code, student=student, user=user, college=student.college_id,
                major=student.major_id, category=student.category, student_no=student_no, name=student.name,
                id_number=student.id_number, data=data, created_by=student_no,
            )
            actor = Actor(username=student_no, role=definition.submitter_role, school_code=school_code,
                          user_id=user.id, record_id=record.id)
            start_instance(record, actor, action="bind", data_changed={"category": [None, student.category]})
    except IntegrityError:
        raise _already_bound() from None
    return user


def _attach_to_added_record(record: Record, student: RosterStudent, req: BindRequest, role: str) -> User:
    """Bind onto a record a reviewer added (添加) for this student: it has no account yet.

    The record keeps everything the reviewer entered, its instance and its status; only the account
    is created and attached. Call inside the write transaction: the instance's lock_version is
    bumped (a reviewer's 代为提交 read before this commit then fails with 409 instead of acting for
    a student who now acts for themselves) and the bind is audited on the record's chain.
    """
    if record.user_id is not None:
        raise _already_bound()
    user = User.create(school=record.school_id, username=record.student_no, role=role,
                       password_hash=accounts.hash_password(req.password), display_name=student.name)
    attached = Record.update(user=user, student=student).where(
        (Record.id == record.id) & Record.user.is_null()).execute()
    instance = ProcessInstance.get_or_none(ProcessInstance.record == record.id)
    if attached != 1 or instance is None:
        raise _already_bound()
    bumped = ProcessInstance.update(lock_version=ProcessInstance.lock_version + 1, updated_at=utcnow()).where(
        ProcessInstance.id == instance.id).execute()
    if bumped != 1:
        raise StaleVersion()
    audit.append(audit.record_chain(record.id), record=record.id, instance=instance.id, school=record.school_id,
                 actor=record.student_no, actor_role=role, action="bind", status_before=instance.status,
                 status_after=instance.status, process_version=processes.definition(instance.version_id).sha256,
                 data_changed={"account": record.student_no, "added_by": record.created_by})
    return user
