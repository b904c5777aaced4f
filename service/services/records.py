"""A reviewer's view of one record: read it, edit it, or add it for a roster student.

Edits are validated like the student's submit and applied under the record's lock
(transitions.locked_change), so a record that is 完成 or was changed meanwhile is refused with 409;
every changed field is audited with its old and new value (证件号码 masked in the audit).
Edits belong to the level the record is waiting at (see edit_refusal); levels, lanes and statuses
come from the BPMN.
"""

from __future__ import annotations

import copy
from typing import Any

from peewee import JOIN, IntegrityError

from service.codes import REGION, get_codes
from service.config import Settings, get_settings
from service.db import write_transaction
from service.errors import (
    Conflict,
    GradflowError,
    InvalidInput,
    NotFound,
    NotPendingAtLevel,
    PermissionDenied,
    StaleVersion,
)
from service.models import College, Major, PendingTask, ProcessInstance, Record, RosterStudent, utcnow
from service.services import audit, majors, processes
from service.services.actors import Actor
from service.services.notify import events as notify_events
from service.services.on_behalf import policy as on_behalf_policy
from service.services.review_scope import needs_full_id
from service.services.student_report import editing_decision
from service.services.transitions import complete_task, locked_change, start_instance
from service.validation.identity import mask_id_number
from service.validation.report import validate_report
from service.validation.sections import SECTION_FIELDS

ID_PATH = ("personal", "id_number")
# Fields that tie the record to its roster row and org unit: not changed by an edit. The major may
# be changed, as one pair (专业代码, 专业) of the record's college's majors in the reviewer's scope.
READ_ONLY = {("school", "school_code"), ("school", "student_no"), ("school", "college")}


def chosen_major(actor: Actor, school_code: str, college_id: int | None, school: dict[str, Any]) -> Major | None:
    """The major the cleaned school section names, checked as one pair (422 major_mismatch otherwise);
    None when the section names none. A major outside the actor's scope is refused like a mismatch."""
    code, name = school.get("major_code"), school.get("major")
    problem = majors.pair_problem(school_code, code, name, college_id)
    found = None if problem else majors.find(school_code, code, name, college_id)
    if found is None and not problem and code and name:
        problem = f"“{code} {name}”不是本学院的专业，请从专业列表中选择"
    if found is not None and not actor.can_see(school_code, found.college_id, found.id):
        problem = f"“{found.code} {found.name}”不在您负责的专业范围内，请从专业列表中选择"
    if problem:
        raise InvalidInput(problem, code="major_mismatch",
                           details={majors.PAIR_FIELD: [problem], "school.major": [problem]})
    return found


def _editor_label(actor: Actor) -> str:
    """How a student's message names the reviewer who edited: the level's label and the username."""
    definition = processes.active_definition(actor.school_code)[1]
    return f"{definition.role_label(actor.role)}（{actor.username}）"


def _load(actor: Actor, record_id: int) -> tuple[Record, ProcessInstance]:
    """Record, instance, college and major in one statement (a record without an instance is not
    shown either); someone out of scope gets the same 404 as for a record that does not exist."""
    inst = (ProcessInstance.select(ProcessInstance, Record, College, Major)
            .join(Record, on=(ProcessInstance.record == Record.id))
            .join(College, JOIN.LEFT_OUTER, on=(Record.college == College.id))
            .join_from(Record, Major, JOIN.LEFT_OUTER, on=(Record.major == Major.id))
            .where(Record.id == record_id).first())
    if inst is None:
        raise NotFound()
    rec = inst.record
    if not actor.can_see(rec.school_id, rec.college_id, rec.major_id, rec.id):
        raise NotFound()
    return rec, inst


def _pending(record_id: int) -> list[dict[str, str]]:
    return [{"role": p.role, "status": p.status, "level": p.level, "task": p.task_name, "title": p.title}
            for p in PendingTask.select().where(PendingTask.record == record_id)]


def load_visible(actor: Actor, record_id: int) -> tuple[Record, ProcessInstance]:
    """The record and its instance when the actor may see it; otherwise NotFound (404)."""
    return _load(actor, record_id)


def pending_tasks(record_id: int) -> list[dict[str, str]]:
    """The record's pending human tasks as the detail view lists them (role, status, level, task, title)."""
    return _pending(record_id)


def edit_refusal(actor: Actor, inst: ProcessInstance, pending: list[dict[str, str]]) -> GradflowError | None:
    """Why this reviewer may not edit the record now, or None when they may.

    Edits belong to the level the record is waiting at: a reviewer edits a record (in scope) while
    it is pending at a review task in the reviewer's own lane, or while it is back with the student
    after a rejection (a submit task other than the initial one, 不同意 in the shipped files) — never
    before the student's first submit, never once 完成. Lanes and statuses come from the BPMN.

    The centre (the last level) gets no exception for records still at lower levels: the level the
    record waits at is the one answering for it, and an edit there would change data under the
    reviewer who is about to decide on it. The centre corrects a record once it reaches its own
    level, or sends it back (不通过) so that every level sees the corrected data again.
    """
    if inst.completed:
        return Conflict("审核已完成的记录不能再修改", code="record_completed")
    definition = processes.definition(inst.version_id)
    if actor.role not in definition.reviewer_roles:
        return PermissionDenied("您的角色不能修改生源信息", code="wrong_lane")
    initial = definition.meta["initial_status"]
    waiting_for_review = False
    for p in pending:
        task = definition.meta["tasks"].get(p["task"], {})
        if task.get("action") == "review":
            if task.get("role") == actor.role:
                return None
            waiting_for_review = True
        elif task.get("action") == "submit" and task.get("status") != initial:
            return None
    if waiting_for_review:
        return NotPendingAtLevel("该记录当前不在您的审核环节，不能编辑")
    return Conflict("学生尚未提交，暂不能编辑", code="not_editable")


def editable(actor: Actor, inst: ProcessInstance, pending: list[dict[str, str]]) -> bool:
    return edit_refusal(actor, inst, pending) is None


def _masked_data(data: dict[str, Any], full: bool) -> dict[str, Any]:
    out = copy.deepcopy(data) if isinstance(data, dict) else {}
    personal = out.get("personal")
    if not full and isinstance(personal, dict) and personal.get("id_number"):
        personal["id_number"] = mask_id_number(str(personal["id_number"]))
    return out


def _related(rec: Record, name: str, model: Any) -> Any:
    """rec's college or major: the row _load joined in, else read by id (None when unset or gone)."""
    value = rec.__data__.get(name)
    if value is None:
        return None
    joined = rec.__rel__.get(name)
    if joined is not None:
        return joined
    return model.get_or_none(model.id == value)


def detail(actor: Actor, rec: Record, inst: ProcessInstance, *, full_id: bool = False,
           settings: Settings | None = None) -> dict[str, Any]:
    pending = _pending(rec.id)
    refusal = edit_refusal(actor, inst, pending)
    on_behalf_refused = on_behalf_policy.refusal(actor, rec, inst, pending, refusal)
    if on_behalf_refused is None:  # 代为提交 is the student's submit: their deadline applies (no dead button)
        _, window = editing_decision(rec, inst, settings or get_settings())
        if not window.open:
            on_behalf_refused = PermissionDenied(window.message, code="deadline_passed")
    college = _related(rec, "college", College)
    major = _related(rec, "major", Major)
    return {
        "id": rec.id, "school_code": rec.school_id, "student_no": rec.student_no, "name": rec.name,
        "id_number": rec.id_number if full_id else (mask_id_number(rec.id_number) if rec.id_number else ""),
        "id_number_masked": not full_id, "category": rec.category, "origin_region": rec.origin_region,
        "origin_region_label": get_codes().table(REGION).label(rec.origin_region) or "",
        "college": {"id": college.id, "name": college.name} if college else None,
        "major": {"id": major.id, "name": major.name, "code": major.code} if major else None,
        "data": _masked_data(rec.data or {}, full_id),
        "review_status": inst.status, "report_status": inst.report_status, "completed": inst.completed,
        "lock_version": inst.lock_version, "pending": pending,
        "editable": refusal is None, "edit_refused": refusal.message if refusal else "", "reviewable": any(p["role"] == actor.role for p in pending),
        "submittable_on_behalf": on_behalf_refused is None, "has_account": rec.user_id is not None,
        "created_by": rec.created_by, "created_at": rec.created_at, "updated_at": rec.updated_at,
        "submitted_at": rec.submitted_at,
        "account_id": rec.user_id,  # the bound student account (for /api/v1/accounts/<id>/…), None before binding
    }


def get_record(actor: Actor, record_id: int, *, reveal_id: bool = False,
               settings: Settings | None = None) -> dict[str, Any]:
    """The record; with reveal_id the full 证件号码 (centre only), and that view is audited."""
    rec, inst = _load(actor, record_id)
    if reveal_id:
        if not needs_full_id(actor):
            raise PermissionDenied("您的角色不能查看完整证件号码", code="id_number_forbidden")
        _audit_view(actor, rec, inst)
    return detail(actor, rec, inst, full_id=reveal_id, settings=settings)


def _audit_view(actor: Actor, rec: Record, inst: ProcessInstance) -> None:
    """Audit a full-ID view under the chain's lock, with the status read after taking it, so the
    event's place in the chain and the status it records agree even while someone reviews."""
    chain = audit.record_chain(rec.id)
    with write_transaction():
        audit.lock_chain(chain)
        status = (ProcessInstance.select(ProcessInstance.status)
                  .where(ProcessInstance.id == inst.id).scalar()) or inst.status
        audit.append(chain, record=rec.id, instance=inst.id, school=rec.school_id,
                     actor=actor.username, actor_role=actor.role, action="view_id_number",
                     status_before=status, status_after=status)


def _apply_patch(base: dict[str, Any], patch: dict[str, Any], current_id: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Merge the patch into a copy of the data; returns it and the (section, field) pairs sent."""
    if not isinstance(patch, dict):
        raise InvalidInput(details={"data": ["应为包含学校、个人、其他三部分的对象"]})
    merged = copy.deepcopy(base) if isinstance(base, dict) else {}
    touched: list[tuple[str, str]] = []
    errors: dict[str, list[str]] = {}
    for section, fields in patch.items():
        if section not in SECTION_FIELDS:
            errors[section] = ["未知的部分（应为 school、personal、other）"]
            continue
        if not isinstance(fields, dict):
            errors[section] = ["数据格式不正确，应为对象"]
            continue
        target = merged.setdefault(section, {})
        for name, value in fields.items():
            if name not in SECTION_FIELDS[section]:
                errors[f"{section}.{name}"] = ["未知字段"]
                continue
            if (section, name) == ID_PATH and isinstance(value, str) and "*" in value:
                if current_id and value == mask_id_number(current_id):
                    continue  # the masked number sent back unchanged
                errors[f"{section}.{name}"] = ["请填写完整的证件号码"]
                continue
            if (section, name) in READ_ONLY:
                if str(value).strip() != str(target.get(name) or "").strip():
                    errors[f"{section}.{name}"] = ["该字段不能修改"]
                continue
            target[name] = value
            touched.append((section, name))
    if errors:
        raise InvalidInput(details=errors)
    return merged, touched


def _audit_value(section: str, name: str, value: Any) -> Any:
    if (section, name) == ID_PATH and value:
        return mask_id_number(str(value))
    return value


def edit_record(actor: Actor, record_id: int, patch: dict[str, Any], *,
                expected_version: int | None = None) -> dict[str, Any]:
    """Apply a reviewer's changes; returns the record (masked) and the validation warnings."""
    rec, inst = _load(actor, record_id)
    refusal = edit_refusal(actor, inst, _pending(rec.id))
    if refusal is not None:
        raise refusal
    if expected_version is None:  # the rule above was checked on this version: write only on it
        expected_version = inst.lock_version
    before: dict[str, Any] = rec.data or {}
    merged, touched = _apply_patch(before, patch, rec.id_number)
    outcome = validate_report(merged, rec.category, draft=False)
    if outcome.errors:
        raise InvalidInput(details=outcome.errors)
    major = chosen_major(actor, rec.school_id, rec.college_id, outcome.cleaned["school"])
    new_major_id = major.id if major is not None else rec.major_id
    changes: dict[str, list[Any]] = {}
    new_data = copy.deepcopy(before)
    for section, name in touched:
        old = (before.get(section) or {}).get(name)
        new = outcome.cleaned[section].get(name)
        if old == new or (old in (None, "") and new in (None, "")):
            continue
        changes[f"{section}.{name}"] = [_audit_value(section, name, old), _audit_value(section, name, new)]
        part = new_data.setdefault(section, {})
        if new is None:
            part.pop(name, None)
        else:
            part[name] = new
    if not changes:
        if expected_version is not None and expected_version != inst.lock_version:
            raise StaleVersion()
        return {"record": detail(actor, rec, inst), "warnings": outcome.warnings, "changed": {}}

    personal = new_data.get("personal") or {}

    def change() -> dict[str, Any]:
        current = Record.select(Record.data).where(Record.id == rec.id).scalar()
        if current != before:
            raise StaleVersion()
        Record.update(data=new_data, name=personal.get("name") or rec.name,
                      id_number=personal.get("id_number") or "", origin_region=personal.get("origin_region") or "",
                      updated_at=utcnow()).where(Record.id == rec.id).execute()
        majors.reassign(rec.id, rec.major_id, new_major_id)
        notify_events.after_edit(rec.id, changes, editor=_editor_label(actor), status=inst.status)
        return changes

    locked_change(rec.id, actor, change, action="edit", expected_version=expected_version)
    rec, inst = _load(actor, record_id)
    return {"record": detail(actor, rec, inst), "warnings": outcome.warnings, "changed": changes}


def prefill(roster: RosterStudent) -> dict[str, Any]:
    """The report as far as the roster knows it (what binding starts a student with)."""
    extra: dict[str, Any] = roster.fields if isinstance(roster.fields, dict) else {}
    college = College.get_or_none(College.id == roster.college_id) if roster.college_id else None
    major = Major.get_or_none(Major.id == roster.major_id) if roster.major_id else None
    known = {
        "school_code": roster.school_id, "student_no": roster.student_no,
        "college": college.name if college else "", "major": major.name if major else "",
        "major_code": major.code if major else "", "class_name": roster.class_name, "exam_no": roster.exam_no,
        "name": roster.name, "gender": roster.gender, "id_type": roster.id_type, "id_number": roster.id_number,
    }
    data: dict[str, Any] = {}
    for section, names in SECTION_FIELDS.items():
        part = {}
        for name in names:
            value = known.get(name) or extra.get(name)
            if value not in (None, ""):
                part[name] = value
        data[section] = part
    return data


def add_form(actor: Actor, student_no: str) -> tuple[RosterStudent, dict[str, Any]]:
    """What the 添加 form starts from: the roster student in scope, with 证件号码 masked.

    The number comes from the roster and is not edited here, so no role needs it in full (the
    README's masking policy: lists and forms are masked). A student who already has a record is
    reported before anyone fills the form.
    """
    roster = RosterStudent.get_or_none((RosterStudent.school == actor.school_code)
                                       & (RosterStudent.student_no == student_no))
    if roster is None or not actor.can_see(roster.school_id, roster.college_id, roster.major_id):
        raise NotFound("学籍库中没有该学号的学生", code="roster_student_not_found")
    if not roster.eligible:
        raise Conflict(f"该学生不在生源信息报送范围内：{roster.exclusion_reason or '不符合条件'}", code="not_eligible")
    exists = Record.select(Record.id).where(
        (Record.student == roster.id) | ((Record.school == roster.school_id) & (Record.student_no == student_no))
    ).first()
    if exists is not None:
        raise Conflict("该学生已有生源信息记录，请在生源列表中查看或编辑", code="record_exists",
                       details={"record_id": exists.id})
    data = prefill(roster)
    if data["personal"].get("id_number"):
        data["personal"]["id_number"] = mask_id_number(str(data["personal"]["id_number"]))
    return roster, data


def add_record(actor: Actor, student_no: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """添加生源信息: a record for an eligible roster student without one, submitted on their behalf.

    Record, instance start and the on-behalf submit commit together, so the record appears at the
    first review status (or not at all), audited as added by the reviewer.
    """
    roster = RosterStudent.get_or_none((RosterStudent.school == actor.school_code)
                                       & (RosterStudent.student_no == student_no))
    if roster is None or not actor.can_see(roster.school_id, roster.college_id, roster.major_id):
        raise NotFound("学籍库中没有该学号的学生", code="roster_student_not_found")
    if not roster.eligible:
        raise Conflict(f"该学生不在生源信息报送范围内：{roster.exclusion_reason or '不符合条件'}", code="not_eligible")
    exists = Record.select(Record.id).where(
        (Record.student == roster.id) | ((Record.school == roster.school_id) & (Record.student_no == student_no))
    ).first()
    if exists is not None:
        raise Conflict("该学生已有生源信息记录", code="record_exists", details={"record_id": exists.id})
    base = prefill(roster)
    merged, _ = _apply_patch(base, data or {}, roster.id_number)
    outcome = validate_report(merged, roster.category, draft=False)
    if outcome.errors:
        raise InvalidInput(details=outcome.errors)
    major = chosen_major(actor, roster.school_id, roster.college_id, outcome.cleaned["school"])
    cleaned = {s: {k: v for k, v in part.items() if v is not None} for s, part in outcome.cleaned.items()}
    personal = cleaned["personal"]
    try:
        with write_transaction():
            rec = Record.create(
                school=roster.school_id, student=roster.id, college=roster.college_id,
                major=major.id if major is not None else roster.major_id,
                category=roster.category, student_no=roster.student_no, name=personal.get("name") or roster.name,
                id_number=personal.get("id_number") or "", origin_region=personal.get("origin_region") or "",
                data=cleaned, created_by=actor.username, submitted_at=utcnow(),
            )
            start_instance(rec, actor, action="create", data_changed={"added_by": actor.username})
            complete_task(rec.id, actor, on_behalf=True, action="add")
    except IntegrityError:
        raise Conflict("该学生已有生源信息记录", code="record_exists") from None
    rec, inst = _load(actor, rec.id)
    return {"record": detail(actor, rec, inst), "warnings": outcome.warnings}
