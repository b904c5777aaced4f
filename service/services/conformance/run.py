"""Check every record (of a school, or of the whole deployment) against its diagram, in chunks.

Records are read in runs of consecutive ids: per run, one query for the records with their
instances, one for their events in chain order and one for their pending tasks, so memory holds
one run whatever the size of the province, and both engines do index range scans. Findings are
counted completely by kind; only the first `keep` are kept with their messages.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from service.db import database
from service.errors import NotFound
from service.models import AuditEvent, PendingTask, ProcessInstance, ProcessVersion, Record, School
from service.services import processes, schools
from service.services.actors import Actor
from service.services.audit_trail.filters import require_reader
from service.services.conformance.replay import Event, Finding, Stored, check_record
from service.services.conformance.rules import ProcessRules, rules_for

CHUNK = 2000
PAGE_FINDINGS = 500


@dataclass
class ConformResult:
    records: int = 0
    events: int = 0
    nonconforming: int = 0
    by_kind: Counter = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    incomplete_rules: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.nonconforming == 0

    def as_dict(self) -> dict:
        return {"ok": self.ok, "records": self.records, "events": self.events, "nonconforming": self.nonconforming,
                "by_kind": dict(self.by_kind), "findings": [f.as_dict() for f in self.findings],
                "seconds": round(self.seconds, 3), "incomplete_rules": self.incomplete_rules}


class _Versions:
    """sha256 → the rules of that deployed version, explored on first use."""

    def __init__(self) -> None:
        self.ids = {sha: vid for vid, sha in ProcessVersion.select(ProcessVersion.id, ProcessVersion.sha256).tuples()}
        self.rules: dict[str, ProcessRules | None] = {}

    def __call__(self, sha: str) -> ProcessRules | None:
        if sha not in self.rules:
            vid = self.ids.get(sha)
            self.rules[sha] = None if vid is None else rules_for(processes.definition(vid))
        return self.rules[sha]


def conform(*, school: str | None = None, keep: int = 1000,
            progress: Callable[[int, int], None] | None = None) -> ConformResult:
    """Replay every record's history (of `school`, or all) and compare its stored state."""
    started = time.perf_counter()
    result = ConformResult()
    versions = _Versions()
    ids_query = Record.select(Record.id).order_by(Record.id)
    if school is not None:
        ids_query = ids_query.where(Record.school == school)
    ids = [rid for (rid,) in database.execute_sql(*ids_query.sql()).fetchall()]
    for start in range(0, len(ids), CHUNK):
        run = ids[start:start + CHUNK]
        for stored, events in _chunk(run[0], run[-1], school):
            result.records += 1
            result.events += len(events)
            found = check_record(stored, events, versions)
            if found:
                result.nonconforming += 1
                result.by_kind.update(f.kind for f in found)
                room = keep - len(result.findings)
                if room > 0:
                    result.findings.extend(found[:room])
        if progress is not None:
            progress(min(start + CHUNK, len(ids)), len(ids))
    result.incomplete_rules = sorted(sha for sha, r in versions.rules.items() if r is not None and not r.complete)
    result.seconds = time.perf_counter() - started
    return result


@lru_cache(maxsize=4)
def _sql(q: str) -> dict[str, str]:
    """The three range reads, in plain SQL (ORM row conversion was a third of the check's time),
    built once per placeholder style (`q`: the database's parameter mark)."""
    r, i, v, e, p = (f'"{m._meta.table_name}"' for m in (Record, ProcessInstance, ProcessVersion, AuditEvent,
                                                          PendingTask))

    def c(model: Any, name: str) -> str:
        return '"' + model._meta.fields[name].column_name + '"'

    return {
        "stored": (f"SELECT r.{c(Record, 'id')}, r.{c(Record, 'school')}, r.review_status, i.{c(ProcessInstance, 'id')}, "
                   f"i.{c(ProcessInstance, 'status')}, i.{c(ProcessInstance, 'completed')}, "
                   f"v.{c(ProcessVersion, 'sha256')}, i.{c(ProcessInstance, 'state')} FROM {r} r "
                   f"LEFT JOIN {i} i ON i.{c(ProcessInstance, 'record')} = r.{c(Record, 'id')} "
                   f"LEFT JOIN {v} v ON v.{c(ProcessVersion, 'id')} = i.{c(ProcessInstance, 'version')} "
                   f"WHERE r.{c(Record, 'id')} BETWEEN {q} AND {q} ORDER BY r.{c(Record, 'id')}"),
        "events": (f"SELECT {', '.join(c(AuditEvent, n) for n in EVENT_COLUMNS)} FROM {e} "
                   f"WHERE {c(AuditEvent, 'record')} BETWEEN {q} AND {q} "
                   f"ORDER BY {c(AuditEvent, 'record')}, {c(AuditEvent, 'seq')}"),
        "pending": (f"SELECT {c(PendingTask, 'record')}, {c(PendingTask, 'task_name')}, {c(PendingTask, 'status')} "
                    f"FROM {p} WHERE {c(PendingTask, 'record')} BETWEEN {q} AND {q}"),
    }


EVENT_COLUMNS = ("record", "seq", "id", "action", "task", "decision", "actor_role", "status_before", "status_after",
                 "process_version")


def _chunk(low: int, high: int, school: str | None) -> Iterator[tuple[Stored, list[Event]]]:
    sql = _sql(database.param)
    events: dict[int, list[Event]] = {}
    for rid, *row in database.execute_sql(sql["events"], (low, high)).fetchall():
        events.setdefault(rid, []).append(Event(*row))
    pending: dict[int, list[tuple[str, str]]] = {}
    for rid, name, status in database.execute_sql(sql["pending"], (low, high)).fetchall():
        pending.setdefault(rid, []).append((name, status))
    for rid, code, review_status, inst, status, completed, sha, state in (
            database.execute_sql(sql["stored"], (low, high)).fetchall()):
        if school is not None and code != school:
            continue
        yield (Stored(rid, code, review_status, inst, status, bool(completed), sha, state, pending.get(rid, [])),
               events.get(rid, []))


def known_school(code: str) -> bool:
    """A deployed school's code; anything else (NUL, surrogates, any length) is not looked up."""
    return bool(schools.SCHOOL_CODE.fullmatch(code)) and School.get_or_none(School.code == code) is not None


def conform_for(actor: Actor, school: str | None) -> tuple[str, ConformResult]:
    """The check as a page runs it: one school, the centre's own, or the one an admin or the
    province chose (every school at once is the nightly command's, not a request's). Who may run
    it is who may read the audit trail; anyone else gets 404, as on the audit page."""
    require_reader(actor)
    if actor.is_admin or actor.is_province:
        code = (school or "").strip()
        if not known_school(code):
            raise NotFound(f"学校 {code[:16]} 不存在", code="school_not_found")
    elif actor.school_code:
        code = actor.school_code
    else:
        raise NotFound()
    return code, conform(school=code, keep=PAGE_FINDINGS)
