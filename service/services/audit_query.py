"""Reading the audit trail: one record's 审核记录, and scope-limited audit queries for the centre.

Role names and levels come from the audit rows and the process meta; 证件号码 in recorded changes
is masked on the way out, whatever the writer stored.
"""

from __future__ import annotations

from typing import Any

from service.errors import NotFound
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
