"""The audit trail: append-only events, hash-chained so that an edited or deleted row is detected.

Chains are per record ("record:<id>"), plus one per school and one for the system for events that
concern no single record (imports, deployments). Why not one global chain: appending needs the
previous hash, so a global chain would make every reviewer's transaction wait on one row lock;
per-record chains are already serialized by the record's optimistic lock and never contend with
unrelated reviewers. (chain_key, seq) is unique, so a concurrent fork fails instead of branching.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.models import AuditEvent, statements, utcnow

GENESIS = "0" * 64
HASHED_FIELDS = (
    "chain_key", "seq", "record", "instance", "school", "actor", "actor_role", "action", "task", "level",
    "decision", "comment", "status_before", "status_after", "process_version", "data_changed", "created_at",
)


def _canonical(values: dict[str, Any]) -> str:
    def norm(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat(timespec="microseconds")
        return v

    return json.dumps({k: norm(values.get(k)) for k in HASHED_FIELDS}, ensure_ascii=False,
                      sort_keys=True, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, values: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _canonical(values)).encode("utf-8")).hexdigest()


def record_chain(record_id: int) -> str:
    return f"record:{record_id}"


def append(chain_key: str, **values: Any) -> dict[str, Any]:
    """Append one event to its chain. Call inside the transaction that makes the change."""
    last = statements.last_audit(chain_key)
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    row: dict[str, Any] = {
        "chain_key": chain_key, "seq": seq, "created_at": utcnow(),
        "record": None, "instance": None, "school": None, "actor_role": "", "task": "", "level": "",
        "decision": "", "comment": "", "status_before": "", "status_after": "", "process_version": "",
        "data_changed": None,
    }
    row.update(values)
    row["prev_hash"] = prev
    row["hash"] = event_hash(prev, row)
    statements.insert_audit(row)
    return row


@dataclass
class VerifyResult:
    ok: bool
    events: int
    chains: int
    first_broken: int | None = None  # AuditEvent.id
    reason: str = ""


def verify() -> VerifyResult:
    """Recompute every chain in order; report the first event whose hash or link does not hold."""
    events = chains = 0
    current_chain = None
    prev = GENESIS
    expected_seq = 1
    query = AuditEvent.select().order_by(AuditEvent.chain_key, AuditEvent.seq)
    for ev in query.iterator():
        events += 1
        if ev.chain_key != current_chain:
            current_chain, prev, expected_seq = ev.chain_key, GENESIS, 1
            chains += 1
        values = {f: getattr(ev, f) for f in HASHED_FIELDS}
        values["record"] = ev.record
        values["instance"] = ev.instance
        if ev.seq != expected_seq:
            return VerifyResult(False, events, chains, ev.id, f"chain {ev.chain_key}: seq {ev.seq}, expected {expected_seq} (an event is missing)")
        if ev.prev_hash != prev:
            return VerifyResult(False, events, chains, ev.id, f"chain {ev.chain_key}: link to the previous event is broken")
        if event_hash(prev, values) != ev.hash:
            return VerifyResult(False, events, chains, ev.id, f"chain {ev.chain_key}: content does not match its hash (edited)")
        prev = ev.hash
        expected_seq += 1
    return VerifyResult(True, events, chains)
