"""The province's export: completed records of one school or of all, streamed in the national order.

Columns are config/export_columns.csv (the national template order), written by the streaming
writer (service/documents/xlsx_stream.py) in a worker thread with a bounded queue
(exports.stream_in_worker): memory stays constant whatever the number of rows. Records are read
school by school in keyset chunks over the (school, 学号) index, so the file is ordered by school
code then 学号 and no query ever spans the province.

证件号码: the province gets what the centre's export gives, full numbers, because this file is the
provincial upload (汇总上报教育厅) whose template needs them. Every export is audited before the
first byte leaves, with the same details as the centre's (kind, full_id_number, the filter, the
number of rows): one school's on that school's chain (its centre sees it in its audit log), all
schools' on the system chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO

from peewee import fn

from service.clock import BEIJING
from service.db import write_transaction
from service.documents import write_records_xlsx
from service.errors import NotFound
from service.models import Record, School
from service.services import audit
from service.services.actors import Actor
from service.services.exports import label_of, stream_in_worker
from service.services.processes.status_kinds import DONE, status_kinds
from service.services.records_query import REVIEW_STATUS, RecordFilters, iter_flat_records

KIND = "province_xlsx"


def completed_statuses() -> list[str]:
    """The end-event status labels (完成) of every deployed version."""
    return sorted(status_kinds().with_kind(DONE))


def _schools(school_code: str | None) -> list[tuple[str, str]]:
    query = School.select(School.code, School.name).order_by(School.code)
    if school_code is not None:
        query = query.where(School.code == school_code)
    found = list(query.tuples())
    if school_code is not None and not found:
        raise NotFound(f"学校 {school_code} 不存在", code="school_not_found")
    return found


def export_name(school_code: str | None) -> str:
    """省级-<school or 全省>-已完成生源信息-<Beijing time>.xlsx."""
    where = "全省"
    if school_code:
        school = School.get_or_none(School.code == school_code)
        where = f"{school_code}{school.name if school else ''}"
    stamp = datetime.now(BEIJING).strftime("%Y%m%d-%H%M")
    name = f"省级-{where}-已完成生源信息-{stamp}"
    return "".join(ch if ch.isprintable() and ch not in '\\/:*?"<>|' else "_" for ch in name)[:150] + ".xlsx"


def _rows(actor: Actor, codes: list[str], filters: RecordFilters) -> Iterator[dict[str, Any]]:
    for code in codes:
        view = Actor(username=actor.username, role=actor.role, school_code=code, user_id=actor.user_id)
        yield from iter_flat_records(view, filters)


def start_export(actor: Actor, school_code: str | None = None) -> tuple[Iterator[bytes], int]:
    """Audit, then return the byte stream and the number of rows it will hold (for progress)."""
    schools = _schools(school_code)
    codes = [code for code, _ in schools]
    done = completed_statuses()
    filters = RecordFilters(review_status=done)
    count = Record.select(fn.COUNT(Record.id)).where(REVIEW_STATUS.in_(done))
    if school_code is not None:
        count = count.where(Record.school == school_code)
    rows = int(count.scalar() or 0) if done else 0
    details = {"kind": KIND, "full_id_number": True, "scope": school_code or "all",
               "filters": {"review_status": done}, "rows": rows, "schools": len(codes)}
    chain = f"school:{school_code}" if school_code else "system"
    with write_transaction():
        audit.append(chain, school=school_code, actor=actor.username, actor_role=actor.role,
                     action="export", data_changed=details)

    def write(out: BinaryIO) -> int:
        return write_records_xlsx(out, _rows(actor, codes, filters) if done else iter(()), label_of, mask=None)

    return stream_in_worker(actor, write, what="province export"), rows
