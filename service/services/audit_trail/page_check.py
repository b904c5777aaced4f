"""The chain's verdict on the events one page shows: each one's hash against its predecessor's.

For every event shown, the previous event of the same chain (seq - 1) is read in one query and
the event is checked the way `audit.verify` checks a chain (services/audit.py: the same keyed
`event_hash` over the same fields): its seq follows an existing predecessor, its prev_hash is the
predecessor's hash (GENESIS for the first), and its own hash is the MAC of its content. This says
whether what is on screen was bent; whether events were deleted elsewhere in a chain, or a
chain's tail, is `gradflow audit verify`'s (the whole database).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from service.models import AuditEvent
from service.services import audit


@dataclass(frozen=True)
class Broken:
    event_id: int
    chain_key: str
    seq: int
    message: str


@dataclass
class PageCheck:
    checked: int = 0
    broken: list[Broken] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken

    @property
    def summary(self) -> str:
        if not self.checked:
            return "本页没有事件"
        if self.ok:
            return f"本页 {self.checked} 条事件校验通过"
        return f"本页 {self.checked} 条事件中 {len(self.broken)} 条校验未通过"

    def broken_ids(self) -> set[int]:
        return {b.event_id for b in self.broken}


def _previous_hashes(events: list[AuditEvent]) -> dict[tuple[str, int], str]:
    """(chain_key, seq) -> hash of every predecessor the page needs, in one query."""
    wanted = {(ev.chain_key, ev.seq - 1) for ev in events if ev.seq > 1}
    wanted -= {(ev.chain_key, ev.seq) for ev in events}  # on the page already
    known = {(ev.chain_key, ev.seq): ev.hash for ev in events}
    if not wanted:
        return known
    clause = reduce(or_, ((AuditEvent.chain_key == c) & (AuditEvent.seq == s) for c, s in sorted(wanted)))
    for chain_key, seq, hash_ in (AuditEvent.select(AuditEvent.chain_key, AuditEvent.seq, AuditEvent.hash)
                                  .where(clause).tuples()):
        known[(chain_key, seq)] = hash_
    return known


def check_page(events: list[AuditEvent]) -> PageCheck:
    result = PageCheck(checked=len(events))
    if not events:
        return result
    key = audit._current_key()
    previous = _previous_hashes(events)
    for ev in events:
        where = f"审计链 {ev.chain_key} 第 {ev.seq} 条（事件 {ev.id}）"
        if ev.seq > 1 and (ev.chain_key, ev.seq - 1) not in previous:
            message = f"{where}：前一条事件（第 {ev.seq - 1} 条）缺失（被删除）"
        elif ev.prev_hash != (previous.get((ev.chain_key, ev.seq - 1)) if ev.seq > 1 else audit.GENESIS):
            message = f"{where}：与前一条事件的链接断开"
        elif audit.event_hash(ev.prev_hash, audit._values(ev), key=key) != ev.hash:
            message = f"{where}：内容与其签名不符（被改动）"
        else:
            continue
        result.broken.append(Broken(ev.id, ev.chain_key, ev.seq, message))
    return result
