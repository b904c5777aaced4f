"""A chase list as a streamed .xlsx: 学号, 姓名, 班级, 手机, 状态, 起始时间 (Beijing), then the units.

Rows come from query.iter_rows (keyset chunks) and go through the streaming sheet writer in a
worker thread (services.exports.stream_in_worker): memory is constant whatever the list's size.
Every export is audited on the school's chain with its filter and row count unknown up front.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

from service.clock import BEIJING, beijing_text
from service.documents.xlsx_stream import SheetStream
from service.models import School, utcnow
from service.services import exports
from service.services.actors import Actor
from service.services.chase.query import ChaseFilters, ChaseRow, iter_rows, validate

HEADERS = ("学号", "姓名", "班级", "手机", "状态", "起始时间", "天数", "院系", "专业")
WIDTHS = (16, 10, 18, 14, 10, 18, 6, 22, 22)
SHEET_NAME = "催办名单"


def _cells(row: ChaseRow, now: datetime) -> list[str]:
    days = row.days(now)
    return [row.student_no, row.name, row.class_name, row.phone, row.state, beijing_text(row.since),
            "" if days is None else str(days), row.college, row.major]


def write_chase_xlsx(out: BinaryIO, rows: Iterator[ChaseRow]) -> int:
    now = utcnow()
    n = 0
    with SheetStream(out, SHEET_NAME, HEADERS, WIDTHS) as sheet:
        for row in rows:
            sheet.write_row(_cells(row, now))
            n += 1
    return n


def start_export(actor: Actor, f: ChaseFilters, year: int) -> Iterator[bytes]:
    """Validate (422 before any byte), audit, and return the byte stream."""
    validate(f)
    exports.audit_export(actor, "chase_xlsx", {"filters": {k: v for k, v in f.__dict__.items() if v}},
                         full_id_number=False)  # HEADERS: no 证件号码 column
    return exports.stream_in_worker(actor, lambda out: write_chase_xlsx(out, iter_rows(actor, f, year)),
                                    "chase export")


def download_name(actor: Actor, f: ChaseFilters) -> str:
    school = School.get_or_none(School.code == actor.school_code) if actor.school_code else None
    parts = [f"{actor.school_code or ''}{school.name if school else ''}", "催办名单", *f.states,
             datetime.now(BEIJING).strftime("%Y%m%d-%H%M")]
    name = "-".join(p for p in parts if p)
    return "".join(ch if ch.isprintable() and ch not in '\\/:*?"<>|' else "_" for ch in name)[:150] + ".xlsx"
