"""Streamed .xlsx export of 生源信息 records in the national template's column order.

Built for 100,000+ rows in constant memory: records are consumed one at a time from an iterator
(a database cursor) and each row goes straight into the compressed sheet (see xlsx_stream).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Generator, Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from service.documents.columns import Column, load_columns
from service.documents.fields import ID_FIELD, LabelOf, Mask, cached_label_of, text, yes_no
from service.documents.xlsx_stream import SheetStream

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME = "生源信息"
CHUNK_SIZE = 64 * 1024

# Column widths (in Excel character units) for fields whose values are wider than their header.
_WIDTHS = {
    "exam_no": 17, "id_number": 21, "school_name": 20, "major": 18, "college": 18, "class_name": 14,
    "directed_unit": 24, "home_address": 32, "email": 24, "remark": 24, "last_comment": 24, "phone": 13,
}

Getter = Callable[[dict[str, Any]], str]


def _getter(col: Column, label_of: LabelOf, mask: Mask | None) -> Getter:
    """One cell's text from a record; built once per column so the row loop does not branch on kind."""
    field, table = col.field, col.table
    if col.kind == "bool":
        return lambda rec: yes_no(rec.get(field))
    if col.kind == "label":
        # An unknown code shows itself rather than a blank, so reviewers notice it.
        def label(rec: dict[str, Any]) -> str:
            code = text(rec.get(field))
            return (label_of(table, code) or code) if code else ""

        return label
    if field == ID_FIELD and mask is not None:
        def masked(rec: dict[str, Any]) -> str:
            value = text(rec.get(field))
            return mask(value) if value else ""

        return masked
    return lambda rec: text(rec.get(field))


def _display_width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def write_records_xlsx(
    out: BinaryIO | str | Path,
    records: Iterable[dict[str, Any]],
    label_of: LabelOf,
    *,
    mask: Mask | None = None,
    columns: Sequence[Column] | None = None,
) -> int:
    """Write one sheet (header row + one row per record) to ``out``; return the number of records.

    Every cell is a text cell with the text number format, so codes, ID numbers and phone numbers
    keep their leading zeros and are never turned into numbers or formulas.
    """
    cols = list(columns) if columns is not None else load_columns()
    widths = [max(_display_width(c.header) + 2, _WIDTHS.get(c.field, 10)) for c in cols]
    lookup = cached_label_of(label_of)
    getters = [_getter(col, lookup, mask) for col in cols]
    rows = 0
    with SheetStream(out, SHEET_NAME, [c.header for c in cols], widths) as sheet:
        write = sheet.write_row
        for rec in records:
            write([get(rec) for get in getters])
            rows += 1
    return rows


def export_xlsx_tempfile(
    records: Iterable[dict[str, Any]],
    label_of: LabelOf,
    *,
    mask: Mask | None = None,
    columns: Sequence[Column] | None = None,
    directory: str | Path | None = None,
) -> tuple[Path, int]:
    """Write the export to a new temp file (for ``stream_file_chunks``); return its path and row count."""
    fd, name = tempfile.mkstemp(prefix="gradflow-export-", suffix=".xlsx", dir=directory)
    os.close(fd)
    path = Path(name)
    try:
        n = write_records_xlsx(path, records, label_of, mask=mask, columns=columns)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, n


def stream_file_chunks(path: str | Path, chunk_size: int = CHUNK_SIZE) -> Generator[bytes, None, None]:
    """Yield a file in chunks for an HTTP response body, and delete it afterwards.

    The file is removed even when the client disconnects early (the WSGI server closes the
    generator), so exports never pile up in the temp folder.
    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            while chunk := fh.read(chunk_size):
                yield chunk
    finally:
        p.unlink(missing_ok=True)
