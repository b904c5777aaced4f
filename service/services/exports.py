"""Glue between record queries and the document layer (service.documents): Excel and sign-off PDFs.

The Excel export streams: a worker thread runs the query (keyset chunks) and the writer, pushing
compressed bytes through a small bounded queue that the HTTP response drains. Memory stays
constant whatever the row count, and the first bytes leave before the last row is read. The worker
has its own database connection (Peewee connections are per thread) and closes it when done.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, BinaryIO, cast

from service.codes import get_codes
from service.db import database, write_transaction
from service.documents import write_records_xlsx
from service.documents.signoff_class_list import render_class_list
from service.documents.signoff_pdf import SignoffResult, render_signoff
from service.errors import Conflict, InvalidInput, NotFound
from service.models import Major, ProcessInstance, Record, School
from service.services import audit, processes
from service.services.actors import Actor
from service.services.records_query import (
    REVIEW_STATUS,
    RecordFilters,
    flatten,
    iter_flat_records,
    last_comment_subquery,
)
from service.services.review_scope import needs_full_id
from service.validation.identity import mask_id_number

log = logging.getLogger("gradflow.export")
MAX_SIGNOFF_PAGES = 2000
# Sign-off forms: one page per student, or the class list (one row per student, 学生签字 column).
SIGNOFF_FORMS = {"sheet": "每人一页", "class_list": "班级名单"}
_DONE = object()


def label_of(table: str, code: str) -> str | None:
    return get_codes().label(table, code)


def mask_for(actor: Actor) -> Any:
    """None (full numbers) for the centre, the masking function for everyone else."""
    return None if needs_full_id(actor) else mask_id_number


def download_name(actor: Actor, filters: RecordFilters | None, what: str, ext: str) -> str:
    """学校-生源信息-<filter>-<Beijing date>.xlsx: files saved side by side can be told apart."""
    from service.clock import BEIJING
    from service.models import College

    parts: list[str] = []
    if actor.school_code:
        school = School.get_or_none(School.code == actor.school_code)
        parts.append(f"{actor.school_code}{school.name if school else ''}")
    parts.append(what)
    if filters is not None:
        for model, ids in ((College, filters.college), (Major, filters.major)):
            if ids:
                names = [m.name for m in model.select(model.name).where(
                    model.id.in_(ids[:3]) & (model.school == actor.school_code)).order_by(model.id)]
                parts.append("、".join(names) + ("等" if len(ids) > 3 else ""))
        parts.extend(filters.review_status)
        parts.extend(filters.report_status)
        if filters.origin_region:
            parts.append(filters.origin_region)
        if filters.q.strip():
            parts.append("搜索" + filters.q.strip()[:16])
    parts.append(datetime.now(BEIJING).strftime("%Y%m%d-%H%M"))
    name = "-".join(p for p in parts if p)
    safe = "".join(ch if ch.isprintable() and ch not in '\\/:*?"<>|' else "_" for ch in name)[:150]
    return f"{safe}.{ext}"


def audit_export(actor: Actor, kind: str, extra: dict[str, Any], *, full_id_number: bool,
                 school: str | None = None) -> None:
    """Audit an export that is not of records (a chase list, the audit trail, an analytics table):
    same chain and details as below. `full_id_number` says what the file holds, not what the role
    could see: an audit trail or analytics table carries no full 证件号码 whoever downloads it.
    `school`: the one school whose data an account of no school (admin, province) exported, so
    the export is on that school's chain and its centre sees it."""
    _audit_export(actor, kind, None, extra, full_id_number=full_id_number, school=school)


def _audit_export(actor: Actor, kind: str, filters: RecordFilters | None, extra: dict[str, Any], *,
                  full_id_number: bool | None = None, school: str | None = None) -> None:
    """Exports of personal data are audited on the school's chain (who, what filter, full ids or not)."""
    owner = actor.school_code or school
    chain = f"school:{owner}" if owner else "system"
    full = needs_full_id(actor) if full_id_number is None else full_id_number
    details = {"kind": kind, "full_id_number": full, **extra}
    if filters is not None:
        details["filters"] = {k: v for k, v in filters.__dict__.items() if v}
    with write_transaction():
        audit.append(chain, school=owner, actor=actor.username, actor_role=actor.role,
                     action="export", data_changed=details)


class _Pipe:
    """A write-only, non-seekable file whose bytes go to a bounded queue (back-pressure)."""

    def __init__(self, q: queue.Queue, cancelled: threading.Event, chunk: int = 256 * 1024) -> None:
        self._q, self._cancelled, self._chunk = q, cancelled, chunk
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        self._buf += data
        if len(self._buf) >= self._chunk:
            self._push()
        return len(data)

    def flush(self) -> None:
        pass

    def _push(self) -> None:
        data, self._buf = bytes(self._buf), bytearray()
        while True:
            if self._cancelled.is_set():
                raise BrokenPipeError("export cancelled by the client")
            try:
                self._q.put(data, timeout=0.5)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        if self._buf:
            self._push()


def stream_xlsx(actor: Actor, filters: RecordFilters) -> Iterator[bytes]:
    """The export's bytes, produced by a worker thread; validate filters before calling (422 early)."""
    mask = mask_for(actor)
    return stream_in_worker(
        actor, lambda out: write_records_xlsx(out, iter_flat_records(actor, filters), label_of, mask=mask))


def stream_in_worker(actor: Actor, write: Callable[[BinaryIO], int], what: str = "export") -> Iterator[bytes]:
    """Run `write(out)` (returns its row count) in a worker thread and yield the bytes it writes.

    Shared by every streamed document (records export, chase lists): the worker has its own
    database connection, back-pressure comes from the bounded queue, a client that goes away
    cancels the worker at its next write.
    """
    q: queue.Queue = queue.Queue(maxsize=8)
    cancelled = threading.Event()
    db_obj = database.obj

    def work() -> None:
        pipe = _Pipe(q, cancelled)
        try:
            rows = write(cast(BinaryIO, pipe))
            pipe.close()
            log.info("%s by %s: %d rows", what, actor.username, rows)
            q.put(_DONE)
        except BaseException as exc:  # reported to the consumer, which re-raises
            if not cancelled.is_set():
                log.exception("export failed")
                q.put(exc)
        finally:
            if not db_obj.is_closed():
                db_obj.close()

    worker = threading.Thread(target=work, name="xlsx-export", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancelled.set()
        worker.join(timeout=5)


def start_export(actor: Actor, filters: RecordFilters) -> Iterator[bytes]:
    """Validate, audit, and return the byte stream of the .xlsx export."""
    from service.services.records_query import validate_filters

    validate_filters(filters)
    _audit_export(actor, "xlsx", filters, {})
    return stream_xlsx(actor, filters)


def _school_name(actor: Actor, school_code: str) -> str:
    school = School.get_or_none(School.code == school_code)
    return school.name if school else ""


def _check_form(form: str) -> str:
    if form not in SIGNOFF_FORMS:
        choices = "、".join(f"{k}（{v}）" for k, v in SIGNOFF_FORMS.items())
        raise InvalidInput(f"打印样式应为 {choices}", details={"form": [f"应为 {choices}"]})
    return form


def _render(form: str, records: list[dict[str, Any]], school_name: str, actor: Actor, omitted: int) -> SignoffResult:
    if form == "class_list":
        return render_class_list(records, label_of, school_name=school_name, omitted=omitted)
    return render_signoff(records, label_of, school_name=school_name, mask=mask_for(actor), omitted=omitted)


def _audit_print(actor: Actor, filters: RecordFilters | None, form: str, result: SignoffResult,
                 extra: dict[str, Any]) -> None:
    """After rendering (a refused print printed nothing); says which characters were marked 〓."""
    details: dict[str, Any] = {"form": form, "pages": result.sheets, **extra}
    if result.unprintable:
        details["unprintable"] = [u.as_dict() for u in result.unprintable[:50]]
    _audit_export(actor, "signoff_pdf", filters, details)


def signoff_for_record(actor: Actor, record_id: int, *, form: str = "sheet") -> SignoffResult:
    """One student's sheet; a record the student has not submitted yet has nothing to sign (409)."""
    _check_form(form)
    row = (Record.select(Record.id, Record.school, Record.college, Record.major, Record.student_no, Record.name,
                         Record.id_number, Record.origin_region, Record.data, ProcessInstance.status,
                         ProcessInstance.report_status, last_comment_subquery().alias("last_comment"))
           .join(ProcessInstance, on=(ProcessInstance.record == Record.id))
           .where(Record.id == record_id).tuples().first())
    if row is None or not actor.can_see(row[1], row[2], row[3], row[0]):
        raise NotFound()
    (rid, school, _c, major_id, student_no, name, id_number, origin, data, status, report_status, comment) = row
    if status in processes.initial_statuses():
        raise Conflict(f"该学生尚未提交生源信息（{status}），没有可核对签字的内容", code="not_submitted")
    major = Major.get_or_none(Major.id == major_id) if major_id else None
    flat = flatten(data, school_name=_school_name(actor, school), school_code=school, student_no=student_no,
                   name=name, id_number=id_number, origin_region=origin, review_status=status,
                   major=major.name if major else "", report_status=report_status, last_comment=comment or "")
    result = _render(form, [flat], flat["school_name"], actor, 0)
    _audit_print(actor, None, form, result, {"record": rid})
    return result


def signoff_for_filters(actor: Actor, filters: RecordFilters, *, form: str = "sheet") -> tuple[SignoffResult, int]:
    """Sheets (or the class list) for every matching submitted record, in 学号 order.

    Records never submitted (at the BPMN's initial status, 未提交) would print empty sheets: they
    are left out, and their number is returned (and printed on the PDF) so the caller can say so."""
    from service.services.records_query import apply_filters, validate_filters

    _check_form(form)
    validate_filters(filters)
    if not (filters.major or filters.college or filters.q):
        raise InvalidInput("请选择专业（或学院、关键字）后再打印", details={"major": ["请选择专业"]})
    matching = apply_filters(Record.select(Record.id), actor, filters)
    unsubmitted = processes.initial_statuses()
    omitted = matching.where(REVIEW_STATUS.in_(unsubmitted)).count() if unsubmitted else 0
    total = matching.count() - omitted
    if total > MAX_SIGNOFF_PAGES:
        raise InvalidInput(f"一次最多打印{MAX_SIGNOFF_PAGES}页，当前{total}条，请缩小范围",
                           details={"major": [f"最多{MAX_SIGNOFF_PAGES}条"]})
    records = list(iter_flat_records(actor, filters, leave_out_statuses=unsubmitted))
    school_name = records[0]["school_name"] if records else _school_name(actor, actor.school_code or "")
    result = _render(form, records, school_name, actor, omitted)
    _audit_print(actor, filters, form, result, {"omitted_unsubmitted": omitted})
    return result, omitted


def signoff_headers(result: SignoffResult, omitted: int = 0) -> dict[str, str]:
    """What a print response tells the client besides the PDF (ASCII header values)."""
    headers = {"X-Signoff-Sheets": str(result.sheets), "X-Signoff-Omitted-Unsubmitted": str(omitted),
               "X-Signoff-Unprintable": str(len(result.unprintable))}
    if result.unprintable:
        headers["X-Signoff-Unprintable-Chars"] = ",".join(
            f"{u.student_no}:{u.field}:{u.codepoint}" for u in result.unprintable[:20])
    return headers
