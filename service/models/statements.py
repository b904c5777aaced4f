"""Hand-written SQL for the transition hot path, built once per database dialect.

Peewee builds SQL anew for every query; on a transition that is 5–6 statements, query building
cost more than the database and the engine together (measured: ~45% of a transition). These
statements are generated once from the models' own table and column names, with the dialect's
placeholder, and values go through the fields' db_value so storage is identical to the ORM's.

A step is one read and one write. The read loads the instance with its record's scope and its
audit chain's head (process_instance.audit_seq/audit_hash); the write is, on PostgreSQL, ONE
statement for any number of steps (`write_steps_pg`: data-modifying CTEs over VALUES lists —
the instance UPDATE checks lock_version and the chain head, and the pending tasks and the audit
event are written only for the instances it matched), because there every statement is a round
trip and on a durable cluster the round trips, not the work, were most of a step. SQLite has no
data-modifying CTEs and no round trips; it runs the same writes as separate statements
(`write_step_each`).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from service.db import database
from service.models.notify import Delivery, Notification
from service.models.records import Record
from service.models.workflow import AuditEvent, AuditHead, PendingTask, ProcessInstance

PENDING_COLUMNS = ("instance", "record", "task_id", "task_name", "title", "role", "status", "level", "school",
                   "college", "major")
PENDING_STEP_COLUMNS = ("task_id", "task_name", "title", "role", "status", "level")
AUDIT_COLUMNS = ("chain_key", "seq", "record", "instance", "school", "actor", "actor_role", "action", "task",
                 "level", "decision", "comment", "status_before", "status_after", "process_version",
                 "data_changed", "created_at", "prev_hash", "hash")
INSTANCE_STATE_COLUMNS = ("state", "status", "report_status", "role", "completed", "lock_version", "updated_at")
INSTANCE_WRITE_COLUMNS = (*INSTANCE_STATE_COLUMNS, "audit_seq", "audit_hash")


@cache
def _col(model: Any, name: str) -> str:
    return '"' + model._meta.fields[name].column_name + '"'


def _table(model: Any) -> str:
    return '"' + model._meta.table_name + '"'


@lru_cache(maxsize=4)
def _statements(param: str) -> dict[str, str]:
    pi, rec, pt, ae, ah = ProcessInstance, Record, PendingTask, AuditEvent, AuditHead
    p = param
    head, head_key = _table(ah), _col(ah, "chain_key")
    load_columns = (
        f"i.{_col(pi, 'id')}, i.{_col(pi, 'version')}, i.{_col(pi, 'lock_version')}, i.{_col(pi, 'state')}, "
        f"i.{_col(pi, 'status')}, r.{_col(rec, 'school')}, r.{_col(rec, 'college')}, r.{_col(rec, 'major')}, "
        f"i.{_col(pi, 'completed')}, i.{_col(pi, 'audit_seq')}, i.{_col(pi, 'audit_hash')}"
    )
    load_from = f"FROM {_table(pi)} i JOIN {_table(rec)} r ON r.{_col(rec, 'id')} = i.{_col(pi, 'record')}"
    return {
        "load": f"SELECT {load_columns} {load_from} WHERE i.{_col(pi, 'record')} = {p}",
        "load_many": f"SELECT i.{_col(pi, 'record')}, {load_columns} {load_from} WHERE i.{_col(pi, 'record')} IN ",
        "update_state": (
            f"UPDATE {_table(pi)} SET " + ", ".join(f"{_col(pi, c)} = {p}" for c in INSTANCE_WRITE_COLUMNS)
            + f" WHERE {_col(pi, 'id')} = {p} AND {_col(pi, 'lock_version')} = {p} AND {_col(pi, 'audit_seq')} = {p}"
        ),
        "insert_instance": (
            f"INSERT INTO {_table(pi)} ({_col(pi, 'record')}, {_col(pi, 'version')}, "
            + ", ".join(_col(pi, c) for c in INSTANCE_WRITE_COLUMNS)
            + f") VALUES ({', '.join([p] * (2 + len(INSTANCE_WRITE_COLUMNS)))}) RETURNING {_col(pi, 'id')}"
        ),
        "head_of_instance": (
            f"SELECT {_col(pi, 'lock_version')}, {_col(pi, 'audit_seq')}, {_col(pi, 'audit_hash')} "
            f"FROM {_table(pi)} WHERE {_col(pi, 'id')} = {p}"
        ),
        # A record chain's head on its instance: the RETURNING hash is the previous one (not set here).
        "bump_instance_head": (
            f"UPDATE {_table(pi)} SET {_col(pi, 'audit_seq')} = {_col(pi, 'audit_seq')} + 1 "
            f"WHERE {_col(pi, 'record')} = {p} AND {_col(pi, 'audit_seq')} IS NOT NULL "
            f"RETURNING {_col(pi, 'audit_seq')}, {_col(pi, 'audit_hash')}"
        ),
        "set_instance_head_hash": (
            f"UPDATE {_table(pi)} SET {_col(pi, 'audit_hash')} = {p} WHERE {_col(pi, 'record')} = {p}"
        ),
        "lock_instance_head": (
            f"UPDATE {_table(pi)} SET {_col(pi, 'audit_seq')} = {_col(pi, 'audit_seq')} "
            f"WHERE {_col(pi, 'record')} = {p} AND {_col(pi, 'audit_seq')} IS NOT NULL"
        ),
        "delete_pending": f"DELETE FROM {_table(pt)} WHERE {_col(pt, 'instance')} = {p}",
        "update_pending": (
            f"UPDATE {_table(pt)} SET " + ", ".join(f"{_col(pt, c)} = {p}" for c in PENDING_STEP_COLUMNS)
            + f" WHERE {_col(pt, 'instance')} = {p}"
        ),
        "insert_pending": (
            f"INSERT INTO {_table(pt)} ({', '.join(_col(pt, c) for c in PENDING_COLUMNS)}) "
            f"VALUES ({', '.join([p] * len(PENDING_COLUMNS))})"
        ),
        # Takes the next seq and returns the previous head's hash; on PostgreSQL the row stays
        # locked until commit, which is what serializes appends to one chain.
        "bump_head": (
            f"INSERT INTO {head} ({head_key}, {_col(ah, 'seq')}, {_col(ah, 'hash')}, {_col(ah, 'updated_at')}) "
            f"VALUES ({p}, 1, {p}, {p}) ON CONFLICT ({head_key}) DO UPDATE SET "
            f"{_col(ah, 'seq')} = {head}.{_col(ah, 'seq')} + 1, {_col(ah, 'updated_at')} = excluded.{_col(ah, 'updated_at')} "
            f"RETURNING {_col(ah, 'seq')}, {_col(ah, 'hash')}"
        ),
        "set_head_hash": f"UPDATE {head} SET {_col(ah, 'hash')} = {p} WHERE {head_key} = {p}",
        "ensure_head": (
            f"INSERT INTO {head} ({head_key}, {_col(ah, 'seq')}, {_col(ah, 'hash')}, {_col(ah, 'updated_at')}) "
            f"VALUES ({p}, 0, {p}, {p}) ON CONFLICT ({head_key}) DO NOTHING"
        ),
        "lock_head": f"SELECT {_col(ah, 'seq')} FROM {head} WHERE {head_key} = {p} FOR UPDATE",
        "insert_audit": (
            f"INSERT INTO {_table(ae)} ({', '.join(_col(ae, c) for c in AUDIT_COLUMNS)}) "
            f"VALUES ({', '.join([p] * len(AUDIT_COLUMNS))})"
        ),
    }


def _sql(name: str) -> str:
    return _statements(database.param)[name]


def _dt(value: datetime) -> Any:
    return ProcessInstance.updated_at.db_value(value)


# Statements PREPAREd on each PostgreSQL connection (by name): a step's statements are planned
# once per connection instead of on every step (planning was ~0.3 ms of a step's write).
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%s")


def _numbered(sql: str) -> str:
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


def _execute_prepared(name: str, sql: str, params: Sequence[Any]) -> Any:
    """Run `sql` (%s placeholders, every parameter's type inferable) as a prepared statement."""
    conn = database.connection()
    names = _prepared.setdefault(conn, set())
    if name not in names:
        database.execute_sql(f"PREPARE {name} AS {_numbered(sql)}")
        names.add(name)
    if not params:
        return database.execute_sql(f"EXECUTE {name}")
    return database.execute_sql(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", tuple(params))


def load_instance_row(record_id: int) -> tuple | None:
    if database.param == "%s":
        return _execute_prepared("gradflow_load", _sql("load"), (record_id,)).fetchone()
    return database.execute_sql(_sql("load"), (record_id,)).fetchone()


def load_instance_rows(record_ids: list[int]) -> list[tuple]:
    """load_instance_row for many records: (record_id, *the same columns), in no particular order."""
    rows: list[tuple] = []
    for start in range(0, len(record_ids), 500):  # well under every driver's parameter limit
        chunk = record_ids[start:start + 500]
        sql = _sql("load_many") + "(" + ", ".join([database.param] * len(chunk)) + ")"
        rows.extend(database.execute_sql(sql, tuple(chunk)).fetchall())
    return rows


def insert_instance(record_id: int, version_id: int, *, state: str, status: str, report_status: str, role: str,
                    completed: bool, updated_at: datetime, audit_hash: str) -> int:
    """A new instance, its chain head at seq 0 (audit_hash: the chain's genesis value)."""
    cursor = database.execute_sql(
        _sql("insert_instance"),
        (record_id, version_id, state, status, report_status, role, completed, 1, _dt(updated_at), 0, audit_hash),
    )
    return cursor.fetchone()[0]


def instance_head(instance_id: int) -> tuple[int, int | None, str | None] | None:
    """(lock_version, audit_seq, audit_hash) now: why a step's write matched nothing."""
    row = database.execute_sql(_sql("head_of_instance"), (instance_id,)).fetchone()
    return None if row is None else (int(row[0]), row[1], row[2])


def bump_instance_head(record_id: int) -> tuple[int, str] | None:
    """(seq of the event to append, previous hash) from the record's instance, row-locked until
    commit; None when the record has no instance or its head is still in audit_head."""
    row = database.execute_sql(_sql("bump_instance_head"), (record_id,)).fetchone()
    return None if row is None else (int(row[0]), row[1])


def set_instance_head_hash(record_id: int, value: str) -> None:
    database.execute_sql(_sql("set_instance_head_hash"), (value, record_id))


def lock_instance_head(record_id: int) -> bool:
    """Hold the record chain's head on its instance until commit; False when it is not there."""
    return database.execute_sql(_sql("lock_instance_head"), (record_id,)).rowcount == 1


@dataclass
class StepWrite:
    """One prepared step as rows: the instance's new columns (INSTANCE_WRITE_COLUMNS), its pending
    tasks (PENDING_COLUMNS) and the audit event (AUDIT_COLUMNS, hash included)."""

    instance_id: int
    expected_lock: int
    expected_seq: int
    instance: dict[str, Any]
    pending: list[dict[str, Any]]
    had_pending: int
    audit: dict[str, Any]

    @property
    def in_place(self) -> bool:
        """One task before and one after (e.g. 二级待审 → 中心待审): the row is updated in place."""
        return self.had_pending == 1 and len(self.pending) == 1


def _instance_values(step: StepWrite) -> tuple[Any, ...]:
    values = dict(step.instance)
    values["updated_at"] = _dt(values["updated_at"])
    return tuple(values[c] for c in INSTANCE_WRITE_COLUMNS)


def _audit_values(row: dict[str, Any]) -> tuple[Any, ...]:
    values = dict(row)
    values["created_at"] = AuditEvent.created_at.db_value(values["created_at"])
    values["data_changed"] = AuditEvent.data_changed.db_value(values["data_changed"])
    return tuple(values[c] for c in AUDIT_COLUMNS)


def write_step_each(step: StepWrite) -> bool:
    """One step as separate statements (SQLite; inside the caller's transaction). False when the
    instance moved on since it was read (lock_version or chain head): then nothing was written."""
    cursor = database.execute_sql(
        _sql("update_state"), (*_instance_values(step), step.instance_id, step.expected_lock, step.expected_seq))
    if cursor.rowcount != 1:
        return False
    replace_pending(step.instance_id, step.pending, had=step.had_pending)
    database.execute_sql(_sql("insert_audit"), _audit_values(step.audit))
    return True


_PG_TYPES = {"AUTO": "integer", "INT": "integer", "BIGINT": "bigint", "VARCHAR": "varchar", "TEXT": "text",
             "BOOL": "boolean", "DATETIME": "timestamp"}


def _pg_types(model: Any, columns: Sequence[str]) -> tuple[str, ...]:
    return tuple(_PG_TYPES[model._meta.fields[name].field_type] for name in columns)


def _values_sql(types: Sequence[str], rows: int) -> str:
    """VALUES (…), (…) for `rows` rows, the first cast to `types` (so NULLs and literals of later
    rows resolve to them)."""
    first = "(" + ", ".join(f"%s::{t}" for t in types) + ")"
    other = "(" + ", ".join(["%s"] * len(types)) + ")"
    return "VALUES " + ", ".join([first] + [other] * (rows - 1))


MESSAGE_COLUMNS = ("uid", "school", "user", "record", "student", "recipient", "kind", "subject", "body",
                   "created_by", "created_at")


@dataclass(frozen=True)
class _Shape:
    """What the SQL text of a write depends on: how many rows go into each part."""

    steps: int
    in_place: int  # pending rows updated in place
    deleted: int  # instances whose pending rows are deleted
    inserted: int  # pending rows inserted
    messages: int
    deliveries: int


@lru_cache(maxsize=32)  # single steps have a handful of shapes; a batch chunk's text is ~100 KB
def _write_sql(shape: _Shape) -> str:
    """The one statement writing steps of this shape: data-modifying CTEs over VALUES lists,
    the instance UPDATE (`u`) matching lock_version and the chain head, and every other part
    written only for the instances `u` matched. Built once per shape (building it was ≈ 0.05 ms
    of a 1.2 ms step). Parameters: _write_params, in the same order."""
    pi, pt, ae, n, d = ProcessInstance, PendingTask, AuditEvent, Notification, Delivery
    lead = ("integer", "integer", "integer")  # id, expected_lock, expected_seq
    sets = ", ".join(f"{_col(pi, c)} = v.{c}" for c in INSTANCE_WRITE_COLUMNS)
    parts = [
        f"v (id, expected_lock, expected_seq, {', '.join(INSTANCE_WRITE_COLUMNS)}) AS "
        f"({_values_sql(lead + _pg_types(pi, INSTANCE_WRITE_COLUMNS), shape.steps)})",
        f"u AS (UPDATE {_table(pi)} i SET {sets} FROM v WHERE i.{_col(pi, 'id')} = v.id "
        f"AND i.{_col(pi, 'lock_version')} = v.expected_lock AND i.{_col(pi, 'audit_seq')} = v.expected_seq "
        f"RETURNING i.{_col(pi, 'id')} AS id)",
    ]
    counted = "0"
    if shape.in_place:
        pv = _values_sql(("integer", *_pg_types(pt, PENDING_STEP_COLUMNS)), shape.in_place)
        sets = ", ".join(f"{_col(pt, c)} = pv.{c}" for c in PENDING_STEP_COLUMNS)
        parts.append(f"pv (instance_id, {', '.join(PENDING_STEP_COLUMNS)}) AS ({pv})")
        parts.append(f"p AS (UPDATE {_table(pt)} t SET {sets} FROM pv WHERE t.{_col(pt, 'instance')} = pv.instance_id "
                     f"AND pv.instance_id IN (SELECT id FROM u) RETURNING 1)")
        counted = "(SELECT count(*) FROM p)"
    if shape.deleted:
        parts.append(f"d AS (DELETE FROM {_table(pt)} WHERE {_col(pt, 'instance')} IN (SELECT id FROM u) "
                     f"AND {_col(pt, 'instance')} IN ({', '.join(['%s'] * shape.deleted)}))")
    if shape.inserted:
        cols = ", ".join(_col(pt, c) for c in PENDING_COLUMNS)
        parts.append(f"n AS (INSERT INTO {_table(pt)} ({cols}) SELECT * FROM "
                     f"({_values_sql(_pg_types(pt, PENDING_COLUMNS), shape.inserted)}) x ({cols}) "
                     f"WHERE x.{_col(pt, 'instance')} IN (SELECT id FROM u))")
    cols = ", ".join(_col(ae, c) for c in AUDIT_COLUMNS)
    parts.append(f"a AS (INSERT INTO {_table(ae)} ({cols}) SELECT * FROM "
                 f"({_values_sql(_pg_types(ae, AUDIT_COLUMNS), shape.steps)}) x ({cols}) "
                 f"WHERE x.{_col(ae, 'instance')} IN (SELECT id FROM u))")
    if shape.messages:  # each written instance's message (notify_statements.MessageRows)
        cols = ", ".join(_col(n, c) for c in MESSAGE_COLUMNS)
        nv = _values_sql(("integer", *_pg_types(n, MESSAGE_COLUMNS)), shape.messages)
        parts.append(f"nn AS (INSERT INTO {_table(n)} ({cols}) SELECT {cols} FROM ({nv}) x (gradflow_instance, {cols}) "
                     f"WHERE x.gradflow_instance IN (SELECT id FROM u) "
                     f"RETURNING {_col(n, 'id')} AS id, {_col(n, 'uid')} AS uid)")
    if shape.messages and shape.deliveries:
        dv = _values_sql(("varchar", *_pg_types(d, ("channel", "address", "next_attempt_at"))), shape.deliveries)
        parts.append(
            f"dd AS (INSERT INTO {_table(d)} ({_col(d, 'notification')}, {_col(d, 'channel')}, {_col(d, 'address')}, "
            f"{_col(d, 'next_attempt_at')}, {_col(d, 'status')}, {_col(d, 'attempts')}, {_col(d, 'claim_token')}, "
            f"{_col(d, 'last_error')}) SELECT nn.id, y.channel, y.address, y.next_attempt_at, 'pending', 0, '', '' "
            f"FROM nn JOIN ({dv}) y (uid, channel, address, next_attempt_at) ON y.uid = nn.uid)")
    return "WITH " + ", ".join(parts) + f" SELECT id, {counted} FROM u"


def _write_params(steps: list[StepWrite], messages: dict[int, Any]) -> tuple[_Shape, list[Any]]:
    """The write's shape and its parameters, in the order _write_sql places them."""
    params: list[Any] = []
    for s in steps:
        params += (s.instance_id, s.expected_lock, s.expected_seq, *_instance_values(s))
    in_place = [s for s in steps if s.in_place]
    for s in in_place:
        params += (s.instance_id, *(s.pending[0][c] for c in PENDING_STEP_COLUMNS))
    replaced = [s for s in steps if not s.in_place]
    deleted = [s.instance_id for s in replaced if s.had_pending]
    params += deleted
    inserted = [tuple(r[c] for c in PENDING_COLUMNS) for s in replaced for r in s.pending]
    for row in inserted:
        params += row
    for s in steps:
        params += _audit_values(s.audit)
    for instance_id, message in messages.items():
        values = dict(message.notification, created_at=_dt(message.notification["created_at"]))
        params += (instance_id, *(values[c] for c in MESSAGE_COLUMNS))
    deliveries = [(m.notification["uid"], channel, address, _dt(due))
                  for m in messages.values() for channel, address, due in m.deliveries]
    for row in deliveries:
        params += row
    shape = _Shape(len(steps), len(in_place), len(deleted), len(inserted), len(messages), len(deliveries))
    return shape, params


def write_steps_pg(steps: list[StepWrite], messages: dict[int, Any] | None = None) -> tuple[set[int], int]:
    """Every step in ONE statement (PostgreSQL): returns the instances written and how many
    in-place pending rows were updated. An instance whose lock_version or chain head moved since
    it was read is not written at all (no pending change, no event, no message); the caller
    decides what that means (409 for one step, "skipped" in a batch). `messages` (instance id →
    notify_statements.MessageRows) are the student's messages, written with their steps."""
    shape, params = _write_params(steps, messages or {})
    sql = _write_sql(shape)
    if shape.steps == 1:  # a single step: one of a few shapes, each prepared once per connection
        step = steps[0]
        name = f"gradflow_step_{int(step.in_place)}_{int(bool(step.had_pending))}_{len(step.pending)}"
        if shape.messages:
            name += f"_m{shape.deliveries}"
        rows_out = _execute_prepared(name, sql, params).fetchall()
    else:
        rows_out = database.execute_sql(sql, tuple(params)).fetchall()
    return {int(r[0]) for r in rows_out}, (int(rows_out[0][1]) if rows_out else 0)


def replace_pending(instance_id: int, rows: list[dict[str, Any]], *, had: int | None = None) -> None:
    """Make the instance's pending rows equal `rows`; `had` is how many it had (0 for a new instance).

    One task before and after is the common step (e.g. 二级待审 → 中心待审): updated in place,
    which touches fewer index pages than delete + insert.
    """
    if had == 1 and len(rows) == 1:
        row = rows[0]
        cursor = database.execute_sql(
            _sql("update_pending"), (*(row[c] for c in PENDING_STEP_COLUMNS), instance_id))
        if cursor.rowcount == 1:
            return
    if had != 0:
        database.execute_sql(_sql("delete_pending"), (instance_id,))
    sql = _sql("insert_pending")
    for row in rows:
        database.execute_sql(sql, tuple(row[c] for c in PENDING_COLUMNS))


def bump_audit_head(chain_key: str, genesis: str, now: datetime) -> tuple[int, str]:
    """(seq of the event to append, hash of the event before it), creating the head if new."""
    row = database.execute_sql(_sql("bump_head"), (chain_key, genesis, _dt(now))).fetchone()
    return int(row[0]), row[1]


def set_audit_head_hash(chain_key: str, value: str) -> None:
    database.execute_sql(_sql("set_head_hash"), (value, chain_key))


def lock_audit_head(chain_key: str, genesis: str, now: datetime, *, row_lock: bool) -> None:
    """Hold the chain's head until commit (PostgreSQL); SQLite's write lock already does."""
    database.execute_sql(_sql("ensure_head"), (chain_key, genesis, _dt(now)))
    if row_lock:
        database.execute_sql(_sql("lock_head"), (chain_key,)).fetchone()


def insert_audit(row: dict[str, Any]) -> None:
    database.execute_sql(_sql("insert_audit"), _audit_values(row))
