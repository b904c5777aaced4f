"""What changed since the rejection: the fields edited after a record's latest 不通过.

Computed from the audit trail alone. Every write of report data records `section.field:
[before, after]`: the student's drafts (student_report.save_section) and a reviewer's edits
(records.edit_record); a submit stores the drafts it validated and records no data of its own.
So after the latest event with decision "reject", the first `before` of a field is its value at
the rejection and its last `after` the value now; a field changed and changed back is left out.
证件号码 comes masked, as everywhere in the audit's output (audit_query._masked_changes).
"""

from __future__ import annotations

from typing import Any

from service.services import audit_query
from service.services.actors import Actor
from service.services.audit_trail.labels import field_choices, field_key_label

_ORDER = {key: i for i, (key, _) in enumerate(field_choices())}


def _same(a: Any, b: Any) -> bool:
    if a in (None, "") and b in (None, ""):
        return True
    return a == b or (not isinstance(a, bool) and not isinstance(b, bool) and str(a).strip() == str(b).strip())


def from_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """[{field, label, before, after}] from a record's 审核记录 (oldest first, as record_history gives)."""
    last_reject = next((i for i in range(len(history) - 1, -1, -1) if history[i]["decision"] == "reject"), None)
    if last_reject is None:
        return []
    first_before: dict[str, Any] = {}
    last_after: dict[str, Any] = {}
    for ev in history[last_reject + 1:]:
        changes = ev.get("changes")
        if not isinstance(changes, dict):
            continue
        for key, value in changes.items():
            if key not in _ORDER or not (isinstance(value, list) and len(value) == 2):
                continue
            first_before.setdefault(key, value[0])
            last_after[key] = value[1]
    out = [{"field": key, "label": field_key_label(key), "before": first_before[key], "after": last_after[key]}
           for key in last_after if not _same(first_before[key], last_after[key])]
    return sorted(out, key=lambda c: _ORDER[c["field"]])


def latest_rejection(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((ev for ev in reversed(history) if ev["decision"] == "reject"), None)


def for_record(actor: Actor, record_id: int) -> dict[str, Any]:
    """The record's changes since its latest rejection (404 out of scope, as record_history)."""
    history = audit_query.record_history(actor, record_id)
    rejection = latest_rejection(history)
    return {"rejection": None if rejection is None else {
                "time": rejection["time"], "actor": rejection["actor"], "role_label": rejection["role_label"],
                "level": rejection["level"], "comment": rejection["comment"]},
            "changes": from_history(history)}
