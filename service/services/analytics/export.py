"""An analytics table as .xlsx, audited like every other export (the school's chain, kind and filter).

The tables are small (at most one row per day × reviewer, or per status), so the workbook is
written to memory with the project's sheet writer (documents/xlsx_stream) and sent in one piece.
"""

from __future__ import annotations

import io
from datetime import datetime

from service.clock import BEIJING
from service.config import Settings
from service.documents.xlsx_stream import SheetStream
from service.models import School
from service.services import exports
from service.services.analytics.filters import Scope
from service.services.analytics.tables import TABLE_KEYS, Table, one_table


def table_xlsx(table: Table) -> bytes:
    out = io.BytesIO()
    widths = [max(10.0, min(40.0, 2.2 * len(h))) for h in table.headers]
    sheet_name = "".join(ch for ch in table.title if ch not in '[]:*?/\\')[:31]  # Excel refuses these in names
    with SheetStream(out, sheet_name, table.headers, widths) as sheet:
        for row in table.rows:
            sheet.write_row(row)
        if table.note:
            sheet.write_row([])
            sheet.write_row([table.note])
    return out.getvalue()


def export_table(key: str, scope: Scope, settings: Settings) -> tuple[bytes, str]:
    """The table's workbook and its download name; the export is audited before anything is sent."""
    if key not in TABLE_KEYS:
        raise KeyError(key)
    table = one_table(key, scope, settings)
    body = table_xlsx(table)
    exports.audit_export(scope.actor, "analytics_xlsx", {"table": key, "filters": scope.filters.as_dict(),
                                                         "rows": len(table.rows)},
                         full_id_number=False, school=scope.school_code)  # counts and account names
    return body, download_name(scope, table)


def download_name(scope: Scope, table: Table) -> str:
    code = scope.school_code or ""
    school = School.get_or_none(School.code == code) if code else None
    parts = [f"{code}{school.name if school else ''}" or "全省", "过程分析", table.title,
             datetime.now(BEIJING).strftime("%Y%m%d-%H%M")]
    name = "-".join(p for p in parts if p)
    return "".join(ch if ch.isprintable() and ch not in '\\/:*?"<>|（）' else "_" for ch in name)[:150] + ".xlsx"
