"""Hand-written SQL for the transition hot path, built once per database dialect.

Peewee builds SQL anew for every query; on a transition that is 5–6 statements, query building
cost more than the database and the engine together (measured: ~45% of a transition). These
statements are generated once from the models' own table and column names, with the dialect's
placeholder, and values go through the fields' db_value so storage is identical to the ORM's.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from service.db import database
from service.models.records import Record
from service.models.workflow import AuditEvent, AuditHead, PendingTask, ProcessInstance

PENDING_COLUMNS = ("instance", "record", "task_id", "task_name", "title", "role", "status", "level", "school",
                   "college", "major")
PENDING_STEP_COLUMNS = ("task_id", "task_name", "title", "role", "status", "level")
AUDIT_COLUMNS = ("chain_key", "seq", "record", "instance", "school", "actor", "actor_role", "action", "task",
                 "level", "decision", "comment", "status_before", "status_after", "process_version",
                 "data_changed", "created_at", "prev_hash", "hash")
INSTANCE_STATE_COLUMNS = ("state", "status", "report_status", "role", "completed", "lock_version", "updated_at")


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
        f"i.{_col(pi, 'completed')}"
    )
    load_from = f"FROM {_table(pi)} i JOIN {_table(rec)} r ON r.{_col(rec, 'id')} = i.{_col(pi, 'record')}"
    return {
        "load": f"SELECT {load_columns} {load_from} WHERE i.{_col(pi, 'record')} = {p}",
        "load_many": f"SELECT i.{_col(pi, 'record')}, {load_columns} {load_from} WHERE i.{_col(pi, 'record')} IN ",
        "update_state": (
            f"UPDATE {_table(pi)} SET " + ", ".join(f"{_col(pi, c)} = {p}" for c in INSTANCE_STATE_COLUMNS)
            + f" WHERE {_col(pi, 'id')} = {p} AND {_col(pi, 'lock_version')} = {p}"
        ),
        "insert_instance": (
            f"INSERT INTO {_table(pi)} ({_col(pi, 'record')}, {_col(pi, 'version')}, "
            + ", ".join(_col(pi, c) for c in INSTANCE_STATE_COLUMNS)
            + f") VALUES ({', '.join([p] * (2 + len(INSTANCE_STATE_COLUMNS)))}) RETURNING {_col(pi, 'id')}"
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


def load_instance_row(record_id: int) -> tuple | None:
    return database.execute_sql(_sql("load"), (record_id,)).fetchone()


def load_instance_rows(record_ids: list[int]) -> list[tuple]:
    """load_instance_row for many records: (record_id, *the same columns), in no particular order."""
    rows: list[tuple] = []
    for start in range(0, len(record_ids), 500):  # well under every driver's parameter limit
        chunk = record_ids[start:start + 500]
        sql = _sql("load_many") + "(" + ", ".join([database.param] * len(chunk)) + ")"
        rows.extend(database.execute_sql(sql, tuple(chunk)).fetchall())
    return rows


def update_instance_state(instance_id: int, expected_lock: int, *, state: str, status: str, report_status: str,
                          role: str, completed: bool, lock_version: int, updated_at: datetime) -> int:
    """The optimistic write: matches only while lock_version is still the one that was read."""
    cursor = database.execute_sql(
        _sql("update_state"),
        (state, status, report_status, role, completed, lock_version, _dt(updated_at), instance_id, expected_lock),
    )
    return cursor.rowcount


def insert_instance(record_id: int, version_id: int, *, state: str, status: str, report_status: str, role: str,
                    completed: bool, updated_at: datetime) -> int:
    cursor = database.execute_sql(
        _sql("insert_instance"),
        (record_id, version_id, state, status, report_status, role, completed, 1, _dt(updated_at)),
    )
    return cursor.fetchone()[0]


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
    values = dict(row)
    values["created_at"] = AuditEvent.created_at.db_value(values["created_at"])
    values["data_changed"] = AuditEvent.data_changed.db_value(values["data_changed"])
    database.execute_sql(_sql("insert_audit"), tuple(values[c] for c in AUDIT_COLUMNS))
