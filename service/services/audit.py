"""The audit trail: append-only events, chained with a keyed hash, each chain's head kept apart.

Chains are per record ("record:<id>"), plus one per school and one for the system for events that
concern no single record (imports, deployments). Why not one global chain: appending needs the
previous hash, so a global chain would make every reviewer's transaction wait on one row lock;
per-record chains are already serialized by the record's optimistic lock and never contend with
unrelated reviewers.

What makes tampering show:
- each event's hash is HMAC-SHA256 over the previous hash and the event, with a key the database
  does not hold (GRADFLOW_AUDIT_KEY, or derived from the secret key), so an edited event cannot be
  re-hashed by someone who can only write the database;
- each chain's newest (seq, hash), its head, is written in the same transaction as the event:
  deleting the newest events, or a whole chain, leaves a head that points past them, and a record
  without a chain shows too. A record chain's head lives on the record's instance
  (process_instance.audit_seq/audit_hash, m0014), so a step loads it with the instance and writes
  it in the UPDATE that checks lock_version; every other chain's head (and a record chain's whose
  instance column is NULL: no instance, or rows bulk-written without it) is a row of `audit_head`;
- a head rolled back together with its events (a database restored or rewritten to an older
  state) can only be caught from outside: `checkpoint()` exports every head with a MAC, to be
  kept off the database server, and `verify(checkpoint=…)` checks nothing before it went missing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.config import Settings, get_settings
from service.db import is_sqlite
from service.models import AuditEvent, AuditHead, ProcessInstance, Record, statements, utcnow

GENESIS = "0" * 64
HASHED_FIELDS = (
    "chain_key", "seq", "record", "instance", "school", "actor", "actor_role", "action", "task", "level",
    "decision", "comment", "status_before", "status_after", "process_version", "data_changed", "created_at",
)
_KEY_CONTEXT = b"gradflow audit chain v1"
_key: bytes | None = None


class AuditKeyMissing(RuntimeError):
    """No key to sign the audit chain with: the operator has set neither key."""


def derive_key(settings: Settings) -> bytes:
    """The chain key: GRADFLOW_AUDIT_KEY when set (so the session secret can rotate), else the secret key."""
    raw = settings.audit_key or settings.secret_key
    if not raw:
        raise AuditKeyMissing("no audit key: set GRADFLOW_AUDIT_KEY (or GRADFLOW_SECRET_KEY); "
                           "the audit chain is never keyed with an empty key")
    return hmac.new(raw.encode("utf-8"), _KEY_CONTEXT, hashlib.sha256).digest()


def use_key(settings: Settings) -> None:
    """Set the key for this process (the app factory, the CLI and the test fixtures call it)."""
    global _key
    _key = derive_key(settings) if (settings.audit_key or settings.secret_key) else None


def _current_key() -> bytes:
    global _key
    if _key is None:
        _key = derive_key(get_settings())
    return _key


def _canonical(values: dict[str, Any]) -> str:
    def norm(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat(timespec="microseconds")
        return v

    return json.dumps({k: norm(values.get(k)) for k in HASHED_FIELDS}, ensure_ascii=False,
                      sort_keys=True, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, values: dict[str, Any], *, key: bytes | None = None) -> str:
    message = (prev_hash + _canonical(values)).encode("utf-8")
    return hmac.new(key or _current_key(), message, hashlib.sha256).hexdigest()


def legacy_hash(prev_hash: str, values: dict[str, Any]) -> str:
    """The unkeyed sha256 chain of databases written before keyed chains (see reseal)."""
    return hashlib.sha256((prev_hash + _canonical(values)).encode("utf-8")).hexdigest()


RECORD_CHAIN_PREFIX = "record:"


def record_chain(record_id: int) -> str:
    return f"{RECORD_CHAIN_PREFIX}{record_id}"


def _record_of(chain_key: str) -> int | None:
    if chain_key.startswith(RECORD_CHAIN_PREFIX):
        tail = chain_key[len(RECORD_CHAIN_PREFIX):]
        return int(tail) if tail.isdigit() else None
    return None


def lock_chain(chain_key: str) -> None:
    """Take the chain's head lock now, for work that must not interleave with another append
    to the same chain (a roster import of one school). Call inside the write transaction."""
    record_id = _record_of(chain_key)
    if record_id is not None and statements.lock_instance_head(record_id):
        return
    statements.lock_audit_head(chain_key, GENESIS, utcnow(), row_lock=not is_sqlite())


def event_row(chain_key: str, seq: int, prev: str, now: datetime, values: dict[str, Any]) -> dict[str, Any]:
    """The event as stored: `values` over the defaults, linked to `prev` and hashed."""
    row: dict[str, Any] = {
        "chain_key": chain_key, "seq": seq, "created_at": now,
        "record": None, "instance": None, "school": None, "actor_role": "", "task": "", "level": "",
        "decision": "", "comment": "", "status_before": "", "status_after": "", "process_version": "",
        "data_changed": None,
    }
    row.update(values)
    row["prev_hash"] = prev
    row["hash"] = event_hash(prev, row)
    return row


def append(chain_key: str, **values: Any) -> dict[str, Any]:
    """Append one event to its chain. Call inside the transaction that makes the change.

    The head is bumped first (on the record's instance for a record chain, else in audit_head):
    on PostgreSQL that row lock makes a second appender to the same chain wait for this
    transaction instead of colliding on (chain_key, seq). A step of the process does not come
    here: it writes event and head with the instance (services/transitions.py).
    """
    now = utcnow()
    record_id = _record_of(chain_key)
    on_instance = statements.bump_instance_head(record_id) if record_id is not None else None
    seq, prev = on_instance or statements.bump_audit_head(chain_key, GENESIS, now)
    row = event_row(chain_key, seq, prev, now, values)
    statements.insert_audit(row)
    if on_instance is not None and record_id is not None:
        statements.set_instance_head_hash(record_id, row["hash"])
    else:
        statements.set_audit_head_hash(chain_key, row["hash"])
    return row


def seed_chain(chain_key: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Fill in seq, prev_hash and hash of a new chain's events (bulk seeding); returns its head row."""
    prev = GENESIS
    for seq, event in enumerate(events, start=1):
        event.update(chain_key=chain_key, seq=seq, prev_hash=prev)
        event["hash"] = prev = event_hash(prev, event)
    return {"chain_key": chain_key, "seq": len(events), "hash": prev, "updated_at": events[-1]["created_at"]}


# --- verification ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One finding; kind is a stable English word, message says it in Chinese for the page/CLI."""

    chain_key: str
    kind: str  # edited | link_broken | gap | tail_deleted | chain_deleted | head_missing | head_mismatch | rolled_back
    message: str
    event_id: int | None = None
    seq: int | None = None


@dataclass
class VerifyResult:
    events: int = 0
    chains: int = 0
    problems: list[Problem] = field(default_factory=list)
    checkpoint_chains: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> int | None:
        return next((p.event_id for p in self.problems if p.event_id is not None), None)

    @property
    def reason(self) -> str:
        return self.problems[0].message if self.problems else ""


def _chains() -> Iterator[tuple[str, list[AuditEvent]]]:
    """Every chain's events in order, one chain at a time (memory: one chain)."""
    current: str | None = None
    events: list[AuditEvent] = []
    for ev in AuditEvent.select().order_by(AuditEvent.chain_key, AuditEvent.seq).iterator():
        if ev.chain_key != current:
            if current is not None:
                yield current, events
            current, events = ev.chain_key, []
        events.append(ev)
    if current is not None:
        yield current, events


def _values(ev: AuditEvent) -> dict[str, Any]:
    return {f: getattr(ev, f) for f in HASHED_FIELDS}


def _check_chain(chain_key: str, events: list[AuditEvent], key: bytes, out: list[Problem]) -> None:
    prev, expected_seq = GENESIS, 1
    for ev in events:
        if ev.seq != expected_seq:
            out.append(Problem(chain_key, "gap", f"审计链 {chain_key}：第 {expected_seq} 至 {ev.seq - 1} 条事件缺失（被删除）",
                               ev.id, ev.seq))
            return
        if ev.prev_hash != prev:
            out.append(Problem(chain_key, "link_broken", f"审计链 {chain_key}：第 {ev.seq} 条与前一条的链接断开",
                               ev.id, ev.seq))
            return
        if event_hash(prev, _values(ev), key=key) != ev.hash:
            out.append(Problem(chain_key, "edited",
                               f"审计链 {chain_key}：第 {ev.seq} 条事件的内容与其签名不符（被改动或被重新计算）",
                               ev.id, ev.seq))
            return
        prev = ev.hash
        expected_seq += 1


def _check_head(chain_key: str, events: list[AuditEvent], head: tuple[int, str] | None,
                out: list[Problem]) -> None:
    last = events[-1]
    if head is None:
        out.append(Problem(chain_key, "head_missing", f"审计链 {chain_key}：链头记录缺失（链头被删除）", last.id, last.seq))
    elif head[0] > last.seq:
        out.append(Problem(chain_key, "tail_deleted",
                           f"审计链 {chain_key}：链头为第 {head[0]} 条，但只剩 {last.seq} 条（末尾 {head[0] - last.seq} 条被删除）",
                           last.id, last.seq))
    elif head[0] < last.seq or head[1] != last.hash:
        out.append(Problem(chain_key, "head_mismatch", f"审计链 {chain_key}：链头与最后一条事件不一致", last.id, last.seq))


def verify(*, checkpoint: dict[str, Any] | None = None) -> VerifyResult:
    """Recompute every chain and compare it with its head; report every chain that does not hold.

    With a checkpoint (from `checkpoint()`), also report each chain that has lost events since.
    """
    key = _current_key()
    result = VerifyResult()
    heads = _heads()
    seen: dict[str, tuple[int, dict[int, str]]] = {}
    read: set[str] = set()
    wanted = _checkpoint_heads(checkpoint, key) if checkpoint is not None else {}
    for chain_key, events in _chains():
        result.chains += 1
        result.events += len(events)
        read.add(chain_key)
        before = len(result.problems)
        _check_chain(chain_key, events, key, result.problems)
        if len(result.problems) == before:
            _check_head(chain_key, events, heads.get(chain_key), result.problems)
        if chain_key in wanted:
            seen[chain_key] = (events[-1].seq, {ev.seq: ev.hash for ev in events if ev.seq == wanted[chain_key][0]})
    for chain_key, (seq, _) in heads.items():
        if seq > 0 and chain_key not in read:
            result.problems.append(Problem(chain_key, "chain_deleted",
                                           f"审计链 {chain_key}：链头为第 {seq} 条，但整条链的事件都已不在（整链被删除）"))
    for (record_id,) in (Record.select(Record.id)
                         .where(~Record.id.in_(_record_ids_with_chain())).tuples().iterator()):
        chain_key = record_chain(record_id)
        if chain_key not in heads:
            result.problems.append(Problem(chain_key, "chain_deleted",
                                           f"审计链 {chain_key}：记录 {record_id} 没有任何审计事件（整链被删除）"))
    result.checkpoint_chains = len(wanted)
    for chain_key, (seq, hash_) in wanted.items():
        now_last, at_seq = seen.get(chain_key, (0, {}))
        if now_last < seq or at_seq.get(seq) != hash_:
            result.problems.append(Problem(chain_key, "rolled_back",
                                           f"审计链 {chain_key}：检查点记录了第 {seq} 条事件，现已不在或被替换（自检查点以来被删改）"))
    return result


def _heads() -> dict[str, tuple[int, str]]:
    """Every chain's head: audit_head's rows, then the record chains' heads on their instances
    (which win: m0014 moved them there, and a NULL column leaves the audit_head row in force)."""
    heads = {h.chain_key: (h.seq, h.hash) for h in AuditHead.select().iterator()}
    on_instances = (ProcessInstance.select(ProcessInstance.record, ProcessInstance.audit_seq,
                                           ProcessInstance.audit_hash)
                    .where(ProcessInstance.audit_seq.is_null(False)).tuples().iterator())
    for record_id, seq, hash_ in on_instances:
        heads[record_chain(record_id)] = (int(seq), str(hash_))
    return heads


def _record_ids_with_chain() -> Any:
    return (AuditEvent.select(AuditEvent.record).where(AuditEvent.record.is_null(False)).distinct())


# --- checkpoints kept outside the database -----------------------------------------------------

def _mac(payload: dict[str, Any], key: bytes) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hmac.new(key, b"checkpoint\n" + body, hashlib.sha256).hexdigest()


def checkpoint() -> dict[str, Any]:
    """Every chain's head now, with a MAC; store it away from the database (cron + another host)."""
    heads = {chain_key: [seq, hash_] for chain_key, (seq, hash_) in _heads().items() if seq > 0}
    payload = {"format": "gradflow-audit-checkpoint-1", "created_at": utcnow().isoformat(timespec="seconds") + "Z",
               "heads": heads}
    return {**payload, "mac": _mac(payload, _current_key())}


class CheckpointInvalid(ValueError):
    pass


def _checkpoint_heads(data: dict[str, Any], key: bytes) -> dict[str, tuple[int, str]]:
    if not isinstance(data, dict) or data.get("format") != "gradflow-audit-checkpoint-1":
        raise CheckpointInvalid("不是 gradflow 审计检查点文件")
    payload = {k: v for k, v in data.items() if k != "mac"}
    if not hmac.compare_digest(str(data.get("mac", "")), _mac(payload, key)):
        raise CheckpointInvalid("检查点文件的签名不符（文件被改动，或审计密钥不同）")
    return {str(k): (int(v[0]), str(v[1])) for k, v in data["heads"].items()}


# --- upgrading unkeyed chains ------------------------------------------------------------------

@dataclass
class ResealReport:
    resealed: int = 0
    already_keyed: int = 0
    refused: list[str] = field(default_factory=list)


def reseal() -> ResealReport:
    """Re-hash chains written with the old unkeyed sha256 using the audit key, after checking them.

    A chain is resealed only if it verifies completely as an unkeyed chain; a broken one is left
    as it is (and verify keeps reporting it), so resealing never blesses tampering.
    """
    from service.db import write_transaction

    key = _current_key()
    report = ResealReport()
    for chain_key, events in list(_chains()):
        problems: list[Problem] = []
        _check_chain(chain_key, events, key, problems)
        if not problems:
            report.already_keyed += 1
            continue
        prev = GENESIS
        intact = True
        for expected, ev in enumerate(events, start=1):
            if ev.seq != expected or ev.prev_hash != prev or legacy_hash(prev, _values(ev)) != ev.hash:
                intact = False
                break
            prev = ev.hash
        if not intact:
            report.refused.append(chain_key)
            continue
        with write_transaction():
            prev = GENESIS
            for ev in events:
                new = event_hash(prev, _values(ev), key=key)
                AuditEvent.update(prev_hash=prev, hash=new).where(AuditEvent.id == ev.id).execute()
                prev = new
            record_id = _record_of(chain_key)
            moved = record_id is not None and (
                ProcessInstance.update(audit_seq=events[-1].seq, audit_hash=prev)
                .where((ProcessInstance.record == record_id) & ProcessInstance.audit_seq.is_null(False))
                .execute())
            if not moved:
                (AuditHead.insert(chain_key=chain_key, seq=events[-1].seq, hash=prev, updated_at=utcnow())
                 .on_conflict(conflict_target=[AuditHead.chain_key], update={AuditHead.seq: events[-1].seq,
                                                                             AuditHead.hash: prev})
                 .execute())
        report.resealed += 1
    return report
