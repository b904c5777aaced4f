"""Reading the audit trail: one record's 审核记录, and scope-limited audit queries for the centre.

Role names and levels come from the audit rows and the process meta; 证件号码 in recorded changes
is masked on the way out, whatever the writer stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.errors import InvalidInput, NotFound
from service.models import AuditEvent, ProcessVersion, Record
from service.services.actors import Actor
from service.validation.identity import mask_id_number

MAX_PER_PAGE = 200


def _role_labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for (meta,) in ProcessVersion.select(ProcessVersion.meta).order_by(ProcessVersion.id).tuples():
        for lane in meta.get("lanes", []):
            labels[lane["role"]] = lane["name"]
    return labels


def _masked_changes(changes: Any) -> Any:
    if not isinstance(changes, dict):
        return changes
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key.endswith("id_number"):
            if isinstance(value, list):
                value = [mask_id_number(v) if isinstance(v, str) and v and "*" not in v else v for v in value]
            elif isinstance(value, str) and value and "*" not in value:
                value = mask_id_number(value)
        out[key] = value
    return out


def _event(ev: AuditEvent, labels: dict[str, str]) -> dict[str, Any]:
    changes = _masked_changes(ev.data_changed)
    edited = sorted(k for k, v in changes.items() if isinstance(v, list)) if isinstance(changes, dict) else []
    return {
        "id": ev.id, "time": ev.created_at, "actor": ev.actor, "role": ev.actor_role,
        "role_label": labels.get(ev.actor_role, ev.actor_role), "action": ev.action, "level": ev.level,
        "task": ev.task, "decision": ev.decision, "comment": ev.comment, "status_before": ev.status_before,
        "status_after": ev.status_after, "edited_fields": edited, "changes": changes, "record_id": ev.record,
        "school_code": ev.school, "seq": ev.seq, "chain": ev.chain_key,
    }


def record_history(actor: Actor, record_id: int) -> list[dict[str, Any]]:
    """审核记录 of a record in scope, oldest first."""
    rec = Record.select(Record.id, Record.school, Record.college, Record.major).where(Record.id == record_id).first()
    if rec is None or not actor.can_see(rec.school_id, rec.college_id, rec.major_id, rec.id):
        raise NotFound()
    labels = _role_labels()
    events = AuditEvent.select().where(AuditEvent.record == record_id).order_by(AuditEvent.created_at, AuditEvent.id)
    return [_event(ev, labels) for ev in events]


@dataclass
class AuditFilters:
    record: int | None = None
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


def search_audit(actor: Actor, f: AuditFilters, *, page: int = 1, per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    """Events newest first, limited to the actor's school (and grants); admins see every school."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(details={"page": ["页码从1开始"], "per_page": [f"每页1至{MAX_PER_PAGE}条"]})
    if f.since and f.until and f.since > f.until:
        raise InvalidInput(details={"since": ["开始时间晚于结束时间"]})
    query = AuditEvent.select()
    if not actor.is_admin:
        query = query.where(AuditEvent.school == actor.school_code)
        scope = actor.record_filter()
        if actor.restricted and scope is not None:
            query = query.where(AuditEvent.record.in_(Record.select(Record.id).where(scope)))
    if f.record is not None:
        query = query.where(AuditEvent.record == f.record)
    if f.actor:
        query = query.where(AuditEvent.actor == f.actor)
    if f.action:
        query = query.where(AuditEvent.action == f.action)
    if f.since:
        query = query.where(AuditEvent.created_at >= _naive(f.since))
    if f.until:
        query = query.where(AuditEvent.created_at <= _naive(f.until))
    total = query.count()
    labels = _role_labels()
    rows = query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).paginate(page, per_page)
    return [_event(ev, labels) for ev in rows], total


def _naive(value: datetime) -> datetime:
    """Audit times are stored as naive UTC."""
    if value.tzinfo is not None:
        from datetime import UTC

        return value.astimezone(UTC).replace(tzinfo=None)
    return value
