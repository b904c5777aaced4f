"""The filtered audit events as a streamed .xlsx (documents/xlsx_stream.SheetStream).

Like every export of personal data: the filters are checked (422 before any byte), the export is
audited on the reader's school chain (services/exports.audit_export) in its own transaction, and
only then does the worker start writing. One row per event; an edit's changes are one cell,
"生源所在地：440106（天河区） → 440103（荔湾区）" per line, 证件号码 masked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

from service.clock import BEIJING, beijing_text
from service.documents.xlsx_stream import SheetStream
from service.models import AuditEvent
from service.services import exports
from service.services.actors import Actor
from service.services.audit_trail.filters import TrailFilters, Views, newest_first, scoped_query

HEADERS = ("时间（北京时间）", "学校", "记录", "操作人", "角色", "操作", "层级", "审核结果", "审核意见",
           "状态（前）", "状态（后）", "修改内容（修改前 → 修改后）", "其他内容", "审计链", "序号")
WIDTHS = (18, 8, 8, 14, 14, 12, 10, 8, 30, 10, 10, 50, 30, 16, 6)
SHEET_NAME = "审计日志"


CHUNK = 2000


def _events(actor: Actor, f: TrailFilters) -> Iterator[AuditEvent]:
    """The matching events newest first, CHUNK at a time by keyset on (created_at, id): a psycopg2
    cursor would otherwise hold a whole province's trail in memory before the first row."""
    last: tuple[datetime, int] | None = None
    while True:
        query = scoped_query(actor, f)
        if last is not None:
            query = query.where((AuditEvent.created_at < last[0])
                                | ((AuditEvent.created_at == last[0]) & (AuditEvent.id < last[1])))
        chunk = list(newest_first(query).limit(CHUNK))
        yield from chunk
        if len(chunk) < CHUNK:
            return
        last = (chunk[-1].created_at, chunk[-1].id)


def _rows(actor: Actor, f: TrailFilters) -> Iterator[list[str]]:
    views = Views()
    for ev in _events(actor, f):
        v = views.event(ev)
        changes = "\n".join(f"{c['label']}：{c['before_text'] or '（空）'} → {c['after_text'] or '（空）'}"
                            for c in v["changed"])
        details = "；".join(f"{label}：{value}" for label, value in v["detail_items"])
        yield [beijing_text(ev.created_at), ev.school or "", str(ev.record or ""), ev.actor, v["role_label"],
               v["action_label"], ev.level, v["decision_label"], ev.comment, ev.status_before, ev.status_after,
               changes, details, ev.chain_key, str(ev.seq)]


def write_trail_xlsx(out: BinaryIO, rows: Iterator[list[str]]) -> int:
    n = 0
    with SheetStream(out, SHEET_NAME, HEADERS, WIDTHS) as sheet:
        for row in rows:
            sheet.write_row(row)
            n += 1
    return n


def start_export(actor: Actor, f: TrailFilters) -> Iterator[bytes]:
    """Check (404 / 422 before any byte), audit, and return the byte stream."""
    scoped_query(actor, f)  # raises for a non-reader or a bad filter, before the audit and the stream
    exports.audit_export(actor, "audit_xlsx", {"filters": f.active()}, full_id_number=False,  # masked: Views
                         school=f.school or None)
    return exports.stream_in_worker(actor, lambda out: write_trail_xlsx(out, _rows(actor, f)), "audit export")


def download_name(actor: Actor, f: TrailFilters) -> str:
    parts = [actor.school_code or f.school or "全部学校", "审计日志"]
    parts.extend(str(v)[:16] for k, v in f.active().items() if k not in ("since", "until", "school"))
    parts.append(datetime.now(BEIJING).strftime("%Y%m%d-%H%M"))
    name = "-".join(p for p in parts if p)
    safe = "".join(ch if ch.isprintable() and ch not in '\\/:*?"<>|' else "_" for ch in name)[:150]
    return f"{safe}.xlsx"
