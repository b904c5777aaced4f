"""The student's own report: read it, save a section as a draft, submit it for review.

Whether the student may edit is the workflow's answer, not a status name: only while the pending
task belongs to the process's submitter role (first fill, or after a rejection). Roster values are
read-only: a request that tries to CHANGE one is refused (422, read_only_field) and sending the
unchanged value back is accepted, so a form can post a whole section.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from service.codes import REGION, CodeRegistry, get_codes, region_path
from service.config import Settings, get_settings
from service.errors import Conflict, InvalidInput, NotFound, PermissionDenied, StaleVersion
from service.models import AuditEvent, ProcessInstance, Record, RosterStudent, School, utcnow
from service.services import majors, processes
from service.services.actors import Actor
from service.services.binding import prefill
from service.services.deadlines import policy
from service.services.deadlines import store as deadline_store
from service.services.transitions import TransitionResult, complete_task, locked_change
from service.validation.report import validate_report, validate_section
from service.validation.sections import FIELD_CODE_TABLE, SECTION_FIELDS, SECTION_LABELS

READ_ONLY_MESSAGE = "该项来自学籍信息，不能修改；如有错误请联系学院"
CHINA_TZ = policy.BEIJING
# Audit actions that hand the report in: the student's own, and a reviewer's on the student's behalf.
SUBMIT_ACTIONS = ("submit", "submit_on_behalf")
# Always fixed once bound, whatever the roster held.
ALWAYS_LOCKED = {"school": ("school_code", "student_no")}


def _own_record(actor: Actor) -> tuple[Record, ProcessInstance]:
    if actor.record_id is None:
        raise NotFound("尚未绑定学籍", code="not_bound")
    record = Record.get_or_none(Record.id == actor.record_id)
    instance = ProcessInstance.get_or_none(ProcessInstance.record == actor.record_id)
    if record is None or instance is None or not actor.can_see(record.school_id, record.college_id,
                                                                record.major_id, record.id):
        raise NotFound()
    return record, instance


def read_only_fields(record: Record) -> dict[str, list[str]]:
    """Per section, the fields the roster supplied (plus 院校代码/学号): the student cannot change them."""
    locked = {section: list(ALWAYS_LOCKED.get(section, ())) for section in SECTION_FIELDS}
    student = RosterStudent.get_or_none(RosterStudent.id == record.student_id) if record.student_id else None
    if student is not None:
        for section, values in prefill(student, School.get_by_id(record.school_id)).items():
            locked[section].extend(k for k in values if k not in locked[section])
    return locked


def _editable(instance: ProcessInstance) -> bool:
    if instance.completed:
        return False
    return instance.role == processes.definition(instance.version_id).submitter_role


def _require_editable(instance: ProcessInstance) -> None:
    if instance.completed:
        raise Conflict("审核已完成，信息不能再修改", code="record_completed")
    if not _editable(instance):
        raise Conflict(f"记录正在审核中（{instance.status}），暂时不能修改", code="pending_review")


def deadline(settings: Settings) -> datetime | None:
    """GRADFLOW_DEADLINE as an aware datetime (the default for schools whose centre set none)."""
    return policy.default_deadline(settings.deadline)


def awaiting_resubmit(instance: ProcessInstance) -> bool:
    """Sent back and waiting for the student's resubmission: the pending task is the submitter's,
    but not the first fill (its status is not the process's initial status). Read from the BPMN."""
    if not _editable(instance):
        return False
    return instance.status != processes.definition(instance.version_id).meta["initial_status"]


def editing_decision(record: Record, instance: ProcessInstance, settings: Settings,
                     now: datetime | None = None) -> tuple[policy.Window, policy.Decision]:
    """The student's deadline (school / college / own extension) and whether editing is open now;
    see service.services.deadlines.policy for the rule, including the resubmission window."""
    window = deadline_store.window_for(record.school_id, record.college_id, record.student_no, settings)
    return window, policy.editing(window, now or datetime.now(UTC), awaiting_resubmit=awaiting_resubmit(instance))


def _require_open(record: Record, instance: ProcessInstance, settings: Settings, now: datetime | None) -> None:
    _, decision = editing_decision(record, instance, settings, now)
    if not decision.open:
        raise PermissionDenied(decision.message, code="deadline_passed")


def _labels(data: dict[str, dict[str, Any]], codes: CodeRegistry) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    for section, values in data.items():
        for key, code in (values or {}).items():
            table = FIELD_CODE_TABLE.get(key)
            if not table or code in (None, ""):
                continue
            if table == REGION:
                label = " ".join(r.label for r in region_path(str(code), codes))
            else:
                label = codes.label(table, str(code)) or ""
            labels.setdefault(section, {})[key] = label
    return labels


def _history(record_id: int, role_label: Any) -> list[dict[str, Any]]:
    events = (AuditEvent.select().where((AuditEvent.record == record_id)
                                        & ((AuditEvent.decision != "") | AuditEvent.action.in_(SUBMIT_ACTIONS)))
              .order_by(AuditEvent.seq))
    return [{"at": e.created_at.isoformat(timespec="seconds") + "Z", "action": e.action, "role": e.actor_role,
             "role_label": role_label(e.actor_role), "level": e.level, "decision": e.decision,
             "comment": e.comment, "status_before": e.status_before, "status_after": e.status_after}
            for e in events]


def get_report(actor: Actor, settings: Settings, codes: CodeRegistry | None = None) -> dict[str, Any]:
    record, instance = _own_record(actor)
    codes = codes or get_codes()
    definition = processes.definition(instance.version_id)
    stored: dict[str, Any] = record.data or {}
    data = {section: dict(stored.get(section) or {}) for section in SECTION_FIELDS}
    history = _history(record.id, definition.role_label)
    rejection = next((h for h in reversed(history) if h["decision"] == "reject"), None)
    window, decision = editing_decision(record, instance, settings)
    limit = window.deadline
    return {
        "record_id": record.id, "school_code": record.school_id, "student_no": record.student_no,
        "category": record.category, "sections": SECTION_LABELS, "data": data, "labels": _labels(data, codes),
        "review_status": instance.status, "report_status": instance.report_status,
        "editable": _editable(instance) and decision.open, "completed": instance.completed, "lock_version": instance.lock_version,
        "read_only_fields": read_only_fields(record),
        "latest_rejection": ({"comment": rejection["comment"], "at": rejection["at"], "level": rejection["level"],
                              "role_label": rejection["role_label"]} if rejection else None),
        "review_history": history,
        "submitted_at": record.submitted_at.isoformat(timespec="seconds") + "Z" if record.submitted_at else None,
        "deadline": limit.isoformat() if limit else None,
        "deadline_source": window.source,
        "resubmit_until": window.resubmit_until.isoformat() if window.resubmit_until else None,
        # The deadline's answer alone (the workflow may still hold the record at a review level):
        # open / resubmit_window (open after the deadline for a rejected record) / deadline_passed.
        "editing_open": decision.open, "editing_state": decision.code,
        "closed_reason": None if decision.open else {"code": decision.code, "message": decision.message},
        "deadline_notice": decision.message,
    }


def _same(a: Any, b: Any) -> bool:
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return "".join(str(a).split()).upper() == "".join(str(b).split()).upper()


def save_section(actor: Actor, section: str, payload: Any, *, expected_version: int | None = None,
                 codes: CodeRegistry | None = None, settings: Settings | None = None,
                 now: datetime | None = None) -> dict[str, Any]:
    """Save one section as a draft: format errors refuse (422), rule violations come back as warnings.

    After the student's deadline (school / college / own extension) drafts are refused (403
    deadline_passed), except for a rejected record inside the resubmission window."""
    if section not in SECTION_FIELDS:
        raise NotFound(f"没有“{section}”这一部分", code="unknown_section")
    if not isinstance(payload, dict):
        raise InvalidInput(f"{SECTION_LABELS[section]}部分的数据应为对象", details={section: ["应为对象"]})
    record, instance = _own_record(actor)
    _require_editable(instance)
    _require_open(record, instance, settings or get_settings(), now)
    if expected_version is not None and expected_version != instance.lock_version:
        raise StaleVersion()
    stored: dict[str, Any] = record.data or {}
    current = dict(stored.get(section) or {})
    locked = read_only_fields(record)[section]
    refused = {f"{section}.{k}": [READ_ONLY_MESSAGE] for k in locked if k in payload and not _same(payload[k], current.get(k))}
    if refused:
        raise InvalidInput("学籍信息中的项目不能修改", code="read_only_field", details=refused)
    merged = {**payload, **{k: current[k] for k in locked if k in current}}
    outcome = validate_section(section, merged, record.category, draft=True, codes=codes)
    if outcome.errors:
        raise InvalidInput("部分内容格式不正确", details=outcome.errors)
    new = {k: v for k, v in outcome.cleaned.items() if v is not None}
    major = _checked_major(record, new) if section == "school" else None
    changed = {f"{section}.{k}": [current.get(k), new.get(k)] for k in sorted(set(current) | set(new))
               if not _same(current.get(k), new.get(k))}

    def change() -> dict[str, Any]:
        data = dict(record.data or {})
        data[section] = new
        Record.update(data=data, updated_at=utcnow()).where(Record.id == record.id).execute()
        majors.reassign(record.id, record.major_id, major.id if major is not None else None)
        return changed

    lock = locked_change(record.id, actor, change, action="save_draft", expected_version=instance.lock_version)
    return {"section": section, "data": new, "warnings": outcome.warnings, "lock_version": lock}


def _checked_major(record: Record, school: dict[str, Any]) -> Any:
    """The major the school section names, as one pair of the record's college's majors (else 422)."""
    problem = majors.pair_problem(record.school_id, school.get("major_code"), school.get("major"), record.college_id)
    if problem:
        raise InvalidInput(problem, code="major_mismatch",
                           details={majors.PAIR_FIELD: [problem], "school.major": [problem]})
    return majors.find(record.school_id, school.get("major_code"), school.get("major"), record.college_id)


def checked_submission(record: Record, instance: ProcessInstance, settings: Settings, *,
                       codes: CodeRegistry | None = None, now: datetime | None = None) -> Callable[[], None]:
    """The checks of a submit (editable, deadline, the whole report valid) and the write that stores
    the cleaned report; raises when the report may not be submitted. Shared by the student's own
    submit and a reviewer's 代为提交, so both refuse exactly the same reports."""
    _require_editable(instance)
    _require_open(record, instance, settings, now)
    outcome = validate_report(record.data or {}, record.category, draft=False, codes=codes)
    if outcome.errors:
        raise InvalidInput("还有未填或填写有误的项目", code="report_invalid", details=outcome.errors)
    cleaned = {s: {k: v for k, v in values.items() if v is not None} for s, values in outcome.cleaned.items()}
    personal = cleaned.get("personal", {})
    _checked_major(record, cleaned.get("school", {}))

    def write() -> None:
        Record.update(data=cleaned, submitted_at=utcnow(), updated_at=utcnow(),
                      origin_region=personal.get("origin_region", ""), name=personal.get("name", record.name),
                      id_number=personal.get("id_number", record.id_number)).where(Record.id == record.id).execute()

    return write


def submit(actor: Actor, settings: Settings, *, expected_version: int | None = None,
           codes: CodeRegistry | None = None, now: datetime | None = None) -> TransitionResult:
    """Validate the whole report and complete the student's task (→ the first review level).

    Refused (403 deadline_passed) after the student's deadline, except for a rejected record
    inside the resubmission window (see service.services.deadlines.policy)."""
    record, instance = _own_record(actor)
    write = checked_submission(record, instance, settings, codes=codes, now=now)
    return complete_task(record.id, actor, expected_version=expected_version or instance.lock_version,
                         extra_write=write, action="submit")
