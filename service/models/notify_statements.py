"""Hand-written SQL for the messages a review step writes (see models.statements for why):
one SELECT for the recipient, school name and template, and the two INSERTs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from service.db import database
from service.models.notify import Delivery, Notification, NotifyTemplate
from service.models.org import School
from service.models.records import Record, RosterStudent
from service.models.statements import _col, _dt, _execute_prepared, _table
from service.models.statements import _statements as _step_statements

NOTIFICATION_COLUMNS = ("uid", "school", "user", "record", "student", "recipient", "kind", "subject", "body",
                        "created_by", "created_at")
DELIVERY_COLUMNS = ("notification", "channel", "address", "next_attempt_at")


@lru_cache(maxsize=4)
def _statements(p: str) -> dict[str, str]:
    r, rs, s, t, n, d = Record, RosterStudent, School, NotifyTemplate, Notification, Delivery
    return {
        "context": (
            f"SELECT r.{_col(r, 'school')}, r.{_col(r, 'user')}, r.{_col(r, 'student')}, r.{_col(r, 'student_no')}, "
            f"r.{_col(r, 'name')}, r.{_col(r, 'data')}, rs.{_col(rs, 'fields')}, s.{_col(s, 'name')}, "
            f"t.{_col(t, 'subject')}, t.{_col(t, 'body')} "
            f"FROM {_table(r)} r JOIN {_table(s)} s ON s.{_col(s, 'code')} = r.{_col(r, 'school')} "
            f"LEFT JOIN {_table(rs)} rs ON rs.{_col(rs, 'id')} = r.{_col(r, 'student')} "
            f"LEFT JOIN {_table(t)} t ON t.{_col(t, 'school')} = r.{_col(r, 'school')} AND t.{_col(t, 'kind')} = {p} "
            f"WHERE r.{_col(r, 'id')} = {p}"
        ),
        "insert_notification": (
            f"INSERT INTO {_table(n)} (" + ", ".join(_col(n, c) for c in NOTIFICATION_COLUMNS) + ") VALUES ("
            + ", ".join([p] * len(NOTIFICATION_COLUMNS)) + f") RETURNING {_col(n, 'id')}"
        ),
        "insert_delivery": (
            f"INSERT INTO {_table(d)} (" + ", ".join(_col(d, c) for c in DELIVERY_COLUMNS)
            + f", {_col(d, 'status')}, {_col(d, 'attempts')}, {_col(d, 'claim_token')}, {_col(d, 'last_error')}) "
            f"VALUES (" + ", ".join([p] * len(DELIVERY_COLUMNS)) + ", 'pending', 0, '', '')"
        ),
    }


def _sql(name: str) -> str:
    return _statements(database.param)[name]


@dataclass
class MessageRows:
    """One message as rows, not yet written: the notification (NOTIFICATION_COLUMNS) and its
    deliveries (channel, address, next_attempt_at). A review step on PostgreSQL writes them in
    its one statement (models.statements.write_steps_pg); elsewhere `outbox.enqueue` does."""

    notification: dict[str, Any]
    deliveries: list[tuple[str, str, datetime]] = field(default_factory=list)


def message_context(record_id: int, kind: str) -> dict[str, Any] | None:
    row = database.execute_sql(_sql("context"), (kind, record_id)).fetchone()
    return None if row is None else _context(row)


def message_contexts(record_ids: list[int], kind: str) -> dict[int, dict[str, Any]]:
    """message_context for many records of one kind, with one query per 500 records."""
    found: dict[int, dict[str, Any]] = {}
    single = _sql("context")
    head, _, _ = single.rpartition("WHERE ")
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start:start + 500]
        sql = (head.replace("SELECT ", f"SELECT r.{_col(Record, 'id')}, ", 1) + f"WHERE r.{_col(Record, 'id')} IN ("
               + ", ".join([database.param] * len(chunk)) + ")")
        for record_id, *row in database.execute_sql(sql, (kind, *chunk)).fetchall():
            found[int(record_id)] = _context(tuple(row))
    return found


@lru_cache(maxsize=4)
def _load_with_context_sql(p: str) -> str:
    """The step's instance read (models.statements "load") with message_context's columns and
    joins added: a review step that may tell the student reads both in one round trip."""
    load, context = _step_statements(p)["load"], _statements(p)["context"]
    ctx_columns = context[len("SELECT "):context.index(" FROM ")]
    joins = context[context.index(" JOIN "):context.rindex(" WHERE ")]
    head, _, where = load.rpartition(" WHERE ")
    return f"{head.replace(' FROM ', f', {ctx_columns} FROM ', 1)}{joins} WHERE {where}"


def load_instance_with_context(record_id: int, kind: str) -> tuple[tuple, dict[str, Any]] | None:
    """(models.statements.load_instance_row's row, message_context for `kind`) in one statement."""
    sql = _load_with_context_sql(database.param)
    if database.param == "%s":
        row = _execute_prepared("gradflow_load_message", sql, (kind, record_id)).fetchone()
    else:
        row = database.execute_sql(sql, (kind, record_id)).fetchone()
    if row is None:
        return None
    return tuple(row[:-10]), _context(tuple(row[-10:]))


def _context(row: tuple) -> dict[str, Any]:
    school, user, student, student_no, name, data, fields, school_name, subject, body = row
    parse = Record.data.python_value
    return {"school": school, "user_id": user, "student_id": student, "student_no": student_no, "name": name,
            "data": parse(data) or {}, "roster_fields": parse(fields) or {}, "school_name": school_name or "",
            "subject": subject, "body": body}


def insert_notification(values: dict[str, Any]) -> int:
    row = dict(values, created_at=_dt(values["created_at"]))
    cursor = database.execute_sql(_sql("insert_notification"), tuple(row[c] for c in NOTIFICATION_COLUMNS))
    return int(cursor.fetchone()[0])


def insert_delivery(notification_id: int, channel: str, address: str, due: datetime) -> None:
    database.execute_sql(_sql("insert_delivery"), (notification_id, channel, address, _dt(due)))
