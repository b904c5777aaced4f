"""Move a record through its process: start it, complete a human task, or change it under lock.

Every state change follows one pattern: read the instance and its lock_version, do the work in
memory (engine steps, validation), then write instance, pending tasks and the audit event in ONE
short transaction whose UPDATE matches only the lock_version that was read. If someone else
committed first the UPDATE matches nothing and the whole change is refused as a conflict.

The read also brings the record's audit chain head (kept on the instance), so the event is
hashed in memory and written with the instance: on PostgreSQL a step is two round trips, the
read and one write statement (models/statements.py), and that statement is its own transaction
when nothing else has to be written with it (no extra write). A message to the student (a
rejection, the last approval) is read before and written by that same statement.
Another event appended to the record's chain meanwhile (a view of the full ID, an account
lock) moves the head but not lock_version: the write is then computed again on the new head,
not refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError

from service.db import database, is_sqlite, savepoint, write_transaction
from service.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    NotPendingAtLevel,
    PermissionDenied,
    StaleVersion,
    TaskNotReady,
)
from service.models import ProcessInstance, Record, notify_statements, statements, utcnow
from service.services import audit, processes
from service.services.actors import Actor
from service.services.notify import events as notify_events
from service.workflow import engine
from service.workflow.definitions import ProcessDefinition
from service.workflow.variables import DECISIONS

log = logging.getLogger(__name__)


class ProcessConditionFailed(Conflict):
    """The process could not decide where the record goes next (a gateway condition failed).

    Deployment refuses such gateways, so only a version stored before those checks can raise it;
    nothing is written, and the message tells people to ask the administrator.
    """

    code, default_message = "process_condition_failed", "流程条件无法判定，记录未作任何更改，请联系管理员检查流程版本"


def check_decision(decision: str | None, comment: str) -> str:
    """A review decision is approve or reject, and a rejection needs a comment; returns the comment."""
    comment = (comment or "").strip()
    if decision not in DECISIONS:
        raise InvalidInput("请选择审核结果：通过或不通过", details={"decision": ["必须是 approve 或 reject"]})
    if decision == "reject" and not comment:
        raise InvalidInput("审核不通过时必须填写审核意见", details={"comment": ["请输入审核意见"]})
    return comment


@dataclass
class TransitionResult:
    record_id: int
    status_before: str
    status_after: str
    report_status: str
    lock_version: int
    task_name: str
    decision: str


@dataclass
class _Loaded:
    instance_id: int
    version_id: int
    lock_version: int
    state: str
    status: str
    school: str
    college: int | None
    major: int | None
    completed: bool
    audit_seq: int | None  # the record chain's head; None: still in audit_head (see m0014)
    audit_hash: str | None
    # The student's message context (notify_statements), read with the instance for a review step
    # on PostgreSQL, so a rejection or the last approval needs no read of its own; None: not read.
    message_context: dict[str, Any] | None = None


HEAD_RETRIES = 3


def _in_scope(record_id: int, row: tuple | None, actor: Actor) -> _Loaded | None:
    """The instance row as _Loaded, or None when there is none or the actor may not see it."""
    if row is None:
        return None
    loaded = _Loaded(*row)
    loaded.completed = bool(loaded.completed)
    return loaded if actor.can_see(loaded.school, loaded.college, loaded.major, record_id) else None


def _load(record_id: int, actor: Actor, *, message_kind: str | None = None) -> _Loaded:
    """The instance; with message_kind (PostgreSQL review steps) also the student's message context."""
    if message_kind is None:
        loaded = _in_scope(record_id, statements.load_instance_row(record_id), actor)
    else:
        both = notify_statements.load_instance_with_context(record_id, message_kind)
        loaded = _in_scope(record_id, both[0] if both else None, actor)
        if loaded is not None and both is not None:
            loaded.message_context = both[1]
    if loaded is None:
        raise NotFound()
    return loaded


def pending_rows(instance_id: int, record_id: int, loaded_school: str, college: int | None,
                  major: int | None, steps: list[engine.PendingStep]) -> list[dict[str, Any]]:
    return [
        {"instance": instance_id, "record": record_id, "task_id": s.task_id, "task_name": s.task_name,
         "title": s.title, "role": s.role, "status": s.status, "level": s.level,
         "school": loaded_school, "college": college, "major": major}
        for s in steps
    ]


def start_instance(record: Record, actor: Actor, *, action: str = "create",
                   data_changed: dict[str, Any] | None = None) -> int:
    """Create the record's instance on the active version and run it to its first human task.

    Call inside the transaction that creates the record, so record, instance and audit land together.
    Returns the instance id.
    """
    version, definition = processes.active_definition(record.school_id)
    workflow = engine.start(definition)
    snap = engine.snapshot(definition, workflow)
    instance_id = statements.insert_instance(
        record.id, version.id, state=engine.dump(definition, workflow), status=snap.status,
        report_status=snap.report_status, role=snap.role, completed=snap.completed, updated_at=utcnow(),
        audit_hash=audit.GENESIS,
    )
    rows = pending_rows(instance_id, record.id, record.school_id, record.college_id, record.major_id, snap.pending)
    statements.replace_pending(instance_id, rows, had=0)
    audit.append(audit.record_chain(record.id), record=record.id, instance=instance_id, school=record.school_id,
                 actor=actor.username, actor_role=actor.role, action=action, status_after=snap.status,
                 process_version=definition.sha256, data_changed=data_changed)
    return instance_id


@dataclass
class PreparedStep:
    """One record's completed step, computed in memory and not yet written."""

    record_id: int
    loaded: _Loaded
    definition_sha: str
    step: engine.PendingStep
    had_pending: int
    snapshot: engine.Snapshot
    state: str
    decision: str
    comment: str


def prepare_step(record_id: int, loaded: _Loaded, actor: Actor, *, decision: str | None = None,
                 comment: str = "", task_id: str | None = None, on_behalf: bool = False) -> PreparedStep:
    """Run the engine for the actor's pending task on a loaded instance (no database writes)."""
    definition = processes.definition(loaded.version_id)
    workflow = engine.load(definition, loaded.state)
    steps = engine.pending(definition, workflow)
    step = _choose_step(definition, steps, actor, task_id, on_behalf)

    data: dict[str, Any] = {}
    comment = (comment or "").strip()
    if step.action == "review":
        comment = check_decision(decision, comment)
        data = {"decision": decision, "comment": comment}
    try:
        after = engine.complete(definition, workflow, step.task_id, data)
    except engine.NotReady:
        raise TaskNotReady() from None
    except engine.EvaluationFailed as exc:
        log.error("process %s: engine stopped at %r after task %s of record %s: %s", definition.sha256[:12],
                  exc.element, step.task_name, record_id, exc)
        where = f"（{exc.element}）" if exc.element else ""
        raise ProcessConditionFailed(details={"element": exc.element} if exc.element else None,
                                     message=f"流程条件无法判定{where}，记录未作任何更改，请联系管理员检查流程版本") from None
    snap = engine.snapshot(definition, workflow, after)
    return PreparedStep(record_id, loaded, definition.sha256, step, len(steps), snap,
                        engine.dump(definition, workflow), decision or "", comment)


def _step_rows(prepared: PreparedStep, actor: Actor, head: tuple[int, str], *, on_behalf: bool,
               data_changed: dict[str, Any] | None, action: str | None) -> statements.StepWrite:
    """The step as rows to write, its audit event linked to and hashed on `head` (seq, hash)."""
    loaded, snap, step = prepared.loaded, prepared.snapshot, prepared.step
    record_id = prepared.record_id
    now = utcnow()
    event = audit.event_row(audit.record_chain(record_id), head[0] + 1, head[1], now, {
        "record": record_id, "instance": loaded.instance_id, "school": loaded.school, "actor": actor.username,
        "actor_role": actor.role, "action": action or ("add" if on_behalf else step.action),
        "task": step.task_name, "level": step.level, "decision": prepared.decision, "comment": prepared.comment,
        "status_before": loaded.status, "status_after": snap.status, "process_version": prepared.definition_sha,
        "data_changed": data_changed})
    instance = {"state": prepared.state, "status": snap.status, "report_status": snap.report_status,
                "role": snap.role, "completed": snap.completed, "lock_version": loaded.lock_version + 1,
                "updated_at": now, "audit_seq": event["seq"], "audit_hash": event["hash"]}
    return statements.StepWrite(loaded.instance_id, loaded.lock_version, head[0], instance,
                                pending_rows(loaded.instance_id, record_id, loaded.school, loaded.college,
                                             loaded.major, snap.pending),
                                prepared.had_pending, event)


def _write_rows(write: statements.StepWrite, message: Any = None) -> bool:
    if is_sqlite():
        return statements.write_step_each(write)
    written, in_place = statements.write_steps_pg([write], {write.instance_id: message} if message else None)
    if written and write.in_place and in_place == 0:  # pending rows out of step with the engine: rewrite them
        log.warning("instance %s: no pending row to update in place; rewriting them", write.instance_id)
        statements.replace_pending(write.instance_id, write.pending)
    return bool(written)


def _moved_head(loaded: _Loaded, expected_seq: int) -> tuple[int, str] | None:
    """The chain's new head when only the head moved since the read (lock_version did not): another
    event was appended to the record's chain, and the step is still valid on top of it."""
    now = statements.instance_head(loaded.instance_id)
    if now is None or now[0] != loaded.lock_version or now[1] is None or now[1] == expected_seq:
        return None
    return int(now[1]), str(now[2])


def _write_on_instance_head(prepared: PreparedStep, actor: Actor, message: Any = None, **options: Any) -> None:
    loaded = prepared.loaded
    assert loaded.audit_seq is not None and loaded.audit_hash is not None
    head: tuple[int, str] | None = (loaded.audit_seq, loaded.audit_hash)
    for _ in range(HEAD_RETRIES):
        assert head is not None
        write = _step_rows(prepared, actor, head, **options)
        if _write_rows(write, message):
            return
        head = _moved_head(loaded, write.expected_seq)
        if head is None:
            break
    raise StaleVersion()


def _write_legacy(prepared: PreparedStep, actor: Actor, *, on_behalf: bool, data_changed: dict[str, Any] | None,
                  action: str | None) -> None:
    """A step on an instance whose chain head is still in audit_head (bulk-written rows): the
    separate statements of before m0014; its next steps stay on this path until the head moves."""
    loaded, snap, step = prepared.loaded, prepared.snapshot, prepared.step
    where = (ProcessInstance.id == loaded.instance_id) & (ProcessInstance.lock_version == loaded.lock_version)
    updated = ProcessInstance.update(
        state=prepared.state, status=snap.status, report_status=snap.report_status, role=snap.role,
        completed=snap.completed, lock_version=loaded.lock_version + 1, updated_at=utcnow()).where(where).execute()
    if updated != 1:
        raise StaleVersion()
    statements.replace_pending(loaded.instance_id, pending_rows(
        loaded.instance_id, prepared.record_id, loaded.school, loaded.college, loaded.major, snap.pending),
        had=prepared.had_pending)
    audit.append(
        audit.record_chain(prepared.record_id), record=prepared.record_id, instance=loaded.instance_id,
        school=loaded.school, actor=actor.username, actor_role=actor.role,
        action=action or ("add" if on_behalf else step.action), task=step.task_name, level=step.level,
        decision=prepared.decision, comment=prepared.comment, status_before=loaded.status,
        status_after=snap.status, process_version=prepared.definition_sha, data_changed=data_changed)


def _notifies(prepared: PreparedStep) -> bool:
    """Whether notify_events.after_review writes a message for this step (a rejection or the last
    approval): then the step needs a transaction around its write and the message."""
    return prepared.step.action == "review" and (prepared.decision == "reject" or prepared.snapshot.completed)


def _outcome(prepared: PreparedStep, actor: Actor) -> notify_events.ReviewOutcome:
    step, snap = prepared.step, prepared.snapshot
    return notify_events.ReviewOutcome(prepared.record_id, prepared.decision, prepared.comment,
                                       step.title or step.task_name, snap.status, snap.completed, actor.username)


def _after_write(prepared: PreparedStep, actor: Actor, *, notified: bool = False) -> TransitionResult:
    """The step's result; writes the student's message unless the step's own write did (notified)."""
    snap, step = prepared.snapshot, prepared.step
    if step.action == "review" and not notified:  # the student hears of a rejection or the last approval
        notify_events.after_review(prepared.record_id, decision=prepared.decision, comment=prepared.comment,
                                   task_title=step.title or step.task_name, status_after=snap.status,
                                   completed=snap.completed, actor_username=actor.username)
    return TransitionResult(prepared.record_id, prepared.loaded.status, snap.status, snap.report_status,
                            prepared.loaded.lock_version + 1, step.task_name, prepared.decision)


def write_step(prepared: PreparedStep, actor: Actor, *, on_behalf: bool = False,
               extra_write: Callable[[], None] | None = None, data_changed: dict[str, Any] | None = None,
               action: str | None = None) -> TransitionResult:
    """Write a prepared step: call inside a transaction (on PostgreSQL a step with no extra write
    and no message may run outside one: its write is one statement). Raises StaleVersion (changing
    nothing itself) if the instance moved on since it was read; the caller rolls back on any error."""
    options: dict[str, Any] = {"on_behalf": on_behalf, "data_changed": data_changed, "action": action}
    notified = False
    if prepared.loaded.audit_seq is None:
        _write_legacy(prepared, actor, **options)
    else:
        message = None
        if not is_sqlite() and _notifies(prepared):  # read before, written by the step's own statement
            outcome, ctx = _outcome(prepared, actor), prepared.loaded.message_context
            message = (notify_events.review_message(outcome, ctx) if ctx is not None
                       else notify_events.review_messages([outcome]).get(prepared.record_id))
            notified = True
        _write_on_instance_head(prepared, actor, message, **options)
    if extra_write is not None:
        extra_write()
    return _after_write(prepared, actor, notified=notified)


def write_steps(prepared: list[PreparedStep], actor: Actor) -> tuple[list[TransitionResult], list[int]]:
    """Write a batch chunk's steps: (results, ids of records someone else changed after the read).

    PostgreSQL: one statement for the whole chunk, the students' messages included (read before
    with one query per kind); a record it did not match (stale, or its chain head moved) is tried
    again alone, and only a stale one is reported; if the database refuses the statement (a
    constraint on one record's rows) nothing of it is written and every record is tried alone, so
    that one record fails alone. In a transaction only when something else is written (an instance
    whose head is still in audit_head), else the statement is its own. SQLite: each record in its
    own savepoint, one transaction per chunk.
    """
    done: list[TransitionResult] = []
    stale: list[int] = []
    if not prepared:
        return done, stale
    if is_sqlite():
        with write_transaction():
            for step in prepared:
                try:
                    with savepoint():
                        done.append(write_step(step, actor))
                except (Conflict, IntegrityError):  # someone else acted after the read: this record only
                    stale.append(step.record_id)
        return done, stale
    fast = [p for p in prepared if p.loaded.audit_seq is not None]
    others = [p for p in prepared if p.loaded.audit_seq is None]
    rows = [_step_rows(p, actor, (p.loaded.audit_seq or 0, p.loaded.audit_hash or ""), on_behalf=False,
                       data_changed=None, action=None) for p in fast]
    told = notify_events.review_messages([_outcome(p, actor) for p in fast if _notifies(p)])
    messages = {p.loaded.instance_id: told[p.record_id] for p in fast if p.record_id in told}
    transaction = write_transaction() if others or database.in_transaction() else None
    with transaction or _no_transaction():
        written: set[int] = set()
        try:
            with savepoint() if transaction is not None else _no_transaction():
                written, _ = statements.write_steps_pg(rows, messages) if rows else (set(), 0)
        except IntegrityError:  # the database refused one record's rows: all of them are tried alone
            log.warning("batch chunk of %d refused by the database; writing its records one by one", len(rows))
        for p in fast:
            if p.loaded.instance_id in written:
                done.append(_after_write(p, actor, notified=True))
            else:  # not matched: stale, or only its chain head moved (tried again alone)
                others.append(p)
        for p in others:
            try:
                with savepoint() if transaction is not None else _no_transaction():
                    done.append(write_step(p, actor))
            except (Conflict, IntegrityError):
                stale.append(p.record_id)
    return done, stale


def complete_task(
    record_id: int,
    actor: Actor,
    *,
    decision: str | None = None,
    comment: str = "",
    task_id: str | None = None,
    expected_version: int | None = None,
    on_behalf: bool = False,
    extra_write: Callable[[], None] | None = None,
    data_changed: dict[str, Any] | None = None,
    action: str | None = None,
) -> TransitionResult:
    """Complete the actor's pending task on a record.

    decision/comment are required for review tasks (a rejection needs a comment). on_behalf lets a
    reviewer complete the student's submit task when adding a record (audited as such).
    extra_write runs inside the same transaction (e.g. saving the report data that is submitted).
    """
    # A review on PostgreSQL reads the student's message context with the instance (the template of
    # the message this decision may send): a rejection or the last approval is then 2 round trips.
    kind = None if is_sqlite() or decision is None else ("rejected" if decision == "reject" else "approved")
    loaded = _load(record_id, actor, message_kind=kind)
    if expected_version is not None and expected_version != loaded.lock_version:
        raise StaleVersion()
    prepared = prepare_step(record_id, loaded, actor, decision=decision, comment=comment, task_id=task_id,
                            on_behalf=on_behalf)
    alone = not is_sqlite() and extra_write is None and loaded.audit_seq is not None and not database.in_transaction()
    try:
        with _no_transaction() if alone else write_transaction():  # alone: one statement, its own transaction
            return write_step(prepared, actor, on_behalf=on_behalf, extra_write=extra_write,
                              data_changed=data_changed, action=action)
    except IntegrityError:
        raise StaleVersion() from None


@contextmanager
def _no_transaction() -> Iterator[None]:
    yield


def load_for_batch(record_ids: list[int], actor: Actor) -> dict[int, _Loaded]:
    """The instances of many records with one query per chunk; records out of scope are left out."""
    found: dict[int, _Loaded] = {}
    for record_id, *row in statements.load_instance_rows(record_ids):
        loaded = _in_scope(record_id, tuple(row), actor)
        if loaded is not None:
            found[record_id] = loaded
    return found


def _choose_step(definition: ProcessDefinition, steps: list[engine.PendingStep], actor: Actor,
                 task_id: str | None, on_behalf: bool) -> engine.PendingStep:
    if task_id is not None:
        chosen = next((s for s in steps if s.task_id == task_id), None)
        if chosen is None:
            raise TaskNotReady()
        if not on_behalf and chosen.role != actor.role:
            raise PermissionDenied("您的角色不能办理该任务", code="wrong_lane")
        return chosen
    if on_behalf:
        chosen = next((s for s in steps if s.role == definition.submitter_role), None)
        if chosen is None:
            raise NotPendingAtLevel("该记录当前不是待填报状态")
        return chosen
    if actor.role not in definition.roles:
        raise PermissionDenied("您的角色不参与该流程", code="wrong_lane")
    chosen = next((s for s in steps if s.role == actor.role), None)
    if chosen is None:
        raise NotPendingAtLevel()
    return chosen


def locked_change(record_id: int, actor: Actor, change: Callable[[], dict[str, Any] | None], *,
                  action: str, expected_version: int | None = None, allow_completed: bool = False) -> int:
    """Apply a non-workflow change (an edit) under the record's lock, audited; returns the new lock_version.

    `change` runs inside the transaction and returns the audit's data_changed (field -> [old, new]).
    """
    loaded = _load(record_id, actor)
    if loaded.completed and not allow_completed:
        raise Conflict("审核已完成的记录不能再修改", code="record_completed")
    if expected_version is not None and expected_version != loaded.lock_version:
        raise StaleVersion()
    definition = processes.definition(loaded.version_id)
    new_lock = loaded.lock_version + 1
    try:
        with write_transaction():
            where = (ProcessInstance.id == loaded.instance_id) & (ProcessInstance.lock_version == loaded.lock_version)
            if not allow_completed:
                where &= ProcessInstance.completed == False  # noqa: E712
            updated = ProcessInstance.update(lock_version=new_lock, updated_at=utcnow()).where(where).execute()
            if updated != 1:
                raise StaleVersion()
            changed = change()
            audit.append(audit.record_chain(record_id), record=record_id, instance=loaded.instance_id,
                         school=loaded.school, actor=actor.username, actor_role=actor.role, action=action,
                         status_before=loaded.status, status_after=loaded.status,
                         process_version=definition.sha256, data_changed=changed)
    except IntegrityError:
        raise StaleVersion() from None
    return new_lock
