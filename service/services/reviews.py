"""Reviews: one record, or a batch (a selection of records, or whole majors) at the caller's level.

A batch loads its candidates with ONE query on PendingTask (role = the caller's role, in scope),
then works in chunks of COMMIT_EVERY records: read the chunk's instances with one query, run the
engine for each in memory (no lock held), then write them together behind the optimistic
lock_version check (transitions.write_steps: on PostgreSQL one multi-row statement per chunk, on
SQLite one transaction with a savepoint per record). One record failing (someone else acted after
the read) is not written and is reported as skipped, never the others; the commit (every step
dirties index pages, and records of one batch share many) is paid once per chunk. Records that are not candidates are reported with the reason they were skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from service.errors import Conflict, InvalidInput, PermissionDenied
from service.models import Major, PendingTask, ProcessInstance, Record
from service.services import processes
from service.services.actors import Actor
from service.services.review_scope import pending_scope, reviewer_roles
from service.services.transitions import (
    PreparedStep,
    ProcessConditionFailed,
    TransitionResult,
    check_decision,
    complete_task,
    load_for_batch,
    prepare_step,
    write_steps,
)

MAX_BATCH = 20_000
# Records per transaction in a batch: enough to share pages between commits, short enough that
# other writers wait at most a few hundred milliseconds for the lock.
COMMIT_EVERY = 100
ALREADY_REVIEWED = "already_reviewed"
NOT_AT_YOUR_LEVEL = "not_at_your_level"
NOT_FOUND = "not_found"
PROCESS_ERROR = "process_condition_failed"
# A record (or major) the caller may not see is reported exactly like one that does not exist:
# one answer for both, so ids of other colleges or schools reveal nothing.
REASON_TEXT = {
    ALREADY_REVIEWED: "已审核（已通过您的审核环节或已完成）",
    NOT_AT_YOUR_LEVEL: "当前不在您的审核环节",
    NOT_FOUND: "记录不存在",
    PROCESS_ERROR: "流程条件无法判定，记录未作任何更改，请联系管理员",
}


def review_one(actor: Actor, record_id: int, decision: str, comment: str = "", *,
               expected_version: int | None = None) -> TransitionResult:
    return complete_task(record_id, actor, decision=decision, comment=comment, expected_version=expected_version)


@dataclass
class BatchResult:
    decision: str
    requested: int
    candidates: int
    succeeded: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    status_after: dict[str, int] = field(default_factory=dict)

    def skip(self, record_id: int | None, reason: str, *, major: int | None = None) -> None:
        item: dict[str, Any] = {"record_id": record_id, "reason": reason, "message": REASON_TEXT[reason]}
        if major is not None:
            item["major_id"] = major
        self.skipped.append(item)


def review_batch(actor: Actor, decision: str, comment: str = "", *, record_ids: Iterable[int] | None = None,
                 majors: Iterable[int] | None = None) -> BatchResult:
    """Approve or reject every record pending at the caller's level among the selection."""
    comment = check_decision(decision, comment)  # fail fast, before any record is touched
    ids = list(dict.fromkeys(record_ids or []))
    major_ids = list(dict.fromkeys(majors or []))
    if bool(ids) == bool(major_ids):
        raise InvalidInput("请选择记录或专业（二者选其一）", details={"record_ids": ["与 majors 二选一"]})
    if len(ids) > MAX_BATCH or len(major_ids) > MAX_BATCH:
        raise InvalidInput(f"一次最多审核{MAX_BATCH}条", details={"record_ids": [f"最多{MAX_BATCH}条"]})
    if actor.role not in reviewer_roles(actor):
        raise PermissionDenied("您的角色不参与审核", code="wrong_lane")

    query = (PendingTask.select(PendingTask.record, PendingTask.major)
             .where((PendingTask.role == actor.role) & pending_scope(actor)))
    result = BatchResult(decision, len(ids) if ids else 0, 0)
    if ids:
        query = query.where(PendingTask.record.in_(ids))
    else:
        query = query.where(PendingTask.major.in_(major_ids))
        _skip_majors(actor, major_ids, result)
    # Major by major: records of one major share index pages (pending tasks, the status search
    # index), so each chunk's commit writes fewer pages than in id order (measured ~8 % faster).
    candidates = [rid for rid, _ in sorted({(rid, major or 0) for rid, major in query.tuples()},
                                            key=lambda pair: (pair[1], pair[0]))]
    result.candidates = len(candidates)
    if ids:
        result.requested = len(ids)
        chosen = set(candidates)
        _explain(actor, [i for i in ids if i not in chosen], result)
    else:
        result.requested = len(candidates)

    for start in range(0, len(candidates), COMMIT_EVERY):
        chunk = candidates[start:start + COMMIT_EVERY]
        loaded = load_for_batch(chunk, actor)
        prepared: list[PreparedStep] = []
        for record_id in chunk:
            item = loaded.get(record_id)
            if item is None:
                result.skip(record_id, NOT_FOUND)
                continue
            try:
                prepared.append(prepare_step(record_id, item, actor, decision=decision, comment=comment))
            except ProcessConditionFailed:  # the engine could not go on: nothing written for it
                result.skip(record_id, PROCESS_ERROR)
            except Conflict:  # someone else acted between the candidate query and the read
                result.skip(record_id, ALREADY_REVIEWED)
        _write_chunk(actor, prepared, result)
    return result


def _write_chunk(actor: Actor, prepared: list[PreparedStep], result: BatchResult) -> None:
    done_in_chunk, stale = write_steps(prepared, actor)
    for record_id in stale:  # someone else acted after the read: this record only
        result.skip(record_id, ALREADY_REVIEWED)
    for done in done_in_chunk:  # counted once the chunk is committed
        result.succeeded += 1
        result.status_after[done.status_after] = result.status_after.get(done.status_after, 0) + 1


def _skip_majors(actor: Actor, major_ids: list[int], result: BatchResult) -> None:
    rows = {mid: (school, college) for mid, school, college in
            Major.select(Major.id, Major.school, Major.college).where(Major.id.in_(major_ids)).tuples()}
    for mid in major_ids:
        found = rows.get(mid)
        if found is None or found[0] != actor.school_code or not actor.can_see(found[0], found[1], mid):
            result.skip(None, NOT_FOUND, major=mid)


def _explain(actor: Actor, missing: list[int], result: BatchResult) -> None:
    """Why each selected record is not a candidate, with one query for all of them."""
    if not missing:
        return
    _, definition = processes.active_definition(actor.school_code)
    order = [lv["role"] for lv in definition.meta["levels"]]
    mine = order.index(actor.role)
    info: dict[int, tuple[Any, ...]] = {}
    for chunk_start in range(0, len(missing), 900):
        chunk = missing[chunk_start:chunk_start + 900]
        for row in (Record.select(Record.id, Record.school, Record.college, Record.major,
                                  ProcessInstance.completed, ProcessInstance.role)
                    .join(ProcessInstance, on=(ProcessInstance.record == Record.id))
                    .where(Record.id.in_(chunk)).tuples()):
            info[row[0]] = row[1:]
    for rid in missing:
        row = info.get(rid)
        if row is None or row[0] != actor.school_code or not actor.can_see(row[0], row[1], row[2], rid):
            result.skip(rid, NOT_FOUND)
            continue
        school, college, major, completed, role = row
        if completed or (role in order and order.index(role) > mine):
            result.skip(rid, ALREADY_REVIEWED)
        else:
            result.skip(rid, NOT_AT_YOUR_LEVEL)


def majors_with_pending(actor: Actor) -> list[dict[str, Any]]:
    """The majors in scope with how many records wait at the caller's level, grouped by college."""
    from peewee import fn

    from service.models import College

    counts = dict(PendingTask.select(PendingTask.major, fn.COUNT(PendingTask.id))
                  .where((PendingTask.role == actor.role) & pending_scope(actor))
                  .group_by(PendingTask.major).tuples())
    majors = (Major.select(Major.id, Major.code, Major.name, College.id, College.name)
              .join(College).where(Major.school == actor.school_code))
    grants = actor.grants_clause(Major.college, Major.id)
    if grants is not None:
        majors = majors.where(grants)
    colleges: dict[int, dict[str, Any]] = {}
    for mid, code, name, cid, cname in majors.order_by(College.name, Major.code, Major.name).tuples():
        col = colleges.setdefault(cid, {"id": cid, "name": cname, "pending": 0, "majors": []})
        n = int(counts.get(mid, 0))
        col["majors"].append({"id": mid, "code": code, "name": name, "pending": n})
        col["pending"] += n
    return list(colleges.values())
