"""Read the first sheet of an .xlsx roster with work bounded by what is actually there.

openpyxl's read-only sheets pad every row to the width the file *declares* (`<dimension>`) and
fill every missing row up to the declared height, so a 1.7 KB file declaring A1:XFD1048576 costs
minutes of CPU, and one cell in column XFD turns into a 16,384-wide row. Here the zip is checked
first (total unpacked size, compression ratio), then the sheet XML is streamed element by element:
the declared dimension is never read, cells past `max_columns` are skipped without being kept,
missing rows are not invented, and the number of rows and cells seen is capped. openpyxl still
decodes each kept cell (shared strings, dates from number formats).
"""

from __future__ import annotations

import io
import logging
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import ParseError

from service.config import Settings
from service.errors import InvalidInput

log = logging.getLogger("gradflow.roster")

_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ROW_TAG = _SHEET_NS + "row"
CELL_TAG = _SHEET_NS + "c"
RATIO_CHECK_FROM = 1 << 20  # entries smaller than 1 MiB unpacked are never a bomb worth refusing


@dataclass(frozen=True)
class ReadLimits:
    """How much of an uploaded roster file is read at most (defaults = config/defaults.toml)."""

    max_rows: int = 50_000
    max_columns: int = 100
    max_cells: int = 2_000_000
    max_unpacked_bytes: int = 200 * 1024 * 1024
    max_compression_ratio: int = 200
    max_field_chars: int = 10_000

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        return cls(max_rows=settings.roster_max_rows, max_columns=settings.roster_max_columns,
                   max_cells=settings.roster_max_cells, max_unpacked_bytes=settings.roster_max_unpacked_bytes,
                   max_compression_ratio=settings.roster_max_compression_ratio)


def _unreadable(detail: str) -> InvalidInput:
    return InvalidInput("无法读取该 Excel 文件，请确认是 .xlsx 格式", code="roster_unreadable",
                        details={"file": [detail[:200]]})


def too_large(what: str, limit: int) -> InvalidInput:
    return InvalidInput(f"文件过大：{what}超过上限 {limit:,}，请拆分后分批导入", code="roster_too_large",
                        details={"file": [f"{what}超过上限 {limit:,}"]})


def check_zip(data: bytes, limits: ReadLimits) -> None:
    """Refuse a zip bomb before anything is unpacked: the declared sizes bound what zipfile reads."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _unreadable(str(exc)) from None
    total = 0
    for entry in entries:
        total += entry.file_size
        if total > limits.max_unpacked_bytes:
            raise too_large("解压后的大小（字节）", limits.max_unpacked_bytes)
        if entry.file_size > RATIO_CHECK_FROM and entry.file_size > limits.max_compression_ratio * max(1, entry.compress_size):
            raise too_large("压缩比", limits.max_compression_ratio)


def _column_of(ref: str) -> int:
    """Column number of a cell reference like "XFD12" (0 when it has no letters)."""
    column = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            column = column * 26 + ord(ch) - 64
        elif "a" <= ch <= "z":
            column = column * 26 + ord(ch) - 96
        else:
            break
        if column > 1 << 20:
            break
    return column


HeaderWidth = Callable[[tuple[Any, ...]], int | None]


def xlsx_rows(data: bytes, limits: ReadLimits, progress: Callable[[str, int, int], None] | None = None,
              header_width: HeaderWidth | None = None) -> list[tuple[int, tuple[Any, ...]]]:
    """(row number, values from column A) for every row present in the first sheet.

    ``header_width(row)`` says whether a row is the header (how many columns it spans) or not
    (None); once the header is seen, cells right of its last column are skipped."""
    check_zip(data, limits)
    try:
        return list(_read(data, limits, progress, header_width))
    except InvalidInput:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ParseError, KeyError, ValueError, IndexError, TypeError,
            OSError, AttributeError) as exc:
        raise _unreadable(f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - whatever else openpyxl raises on a malformed file is the file's fault
        log.warning("roster .xlsx refused: %s", type(exc).__name__)
        raise _unreadable(type(exc).__name__) from None


def _read(data: bytes, limits: ReadLimits, progress: Callable[[str, int, int], None] | None,
          header_width: HeaderWidth | None) -> Iterator[tuple[int, tuple[Any, ...]]]:
    from openpyxl import load_workbook
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.xml.functions import iterparse

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            raise _unreadable("no worksheet")
        sheet = workbook.worksheets[0]
        parser = WorkSheetParser(None, sheet._shared_strings, data_only=True, epoch=workbook.epoch,
                                 date_formats=workbook._date_formats, timedelta_formats=workbook._timedelta_formats)
        size = workbook._archive.getinfo(sheet._worksheet_path).file_size  # progress: bytes of sheet XML
        rows = cells = 0
        row_number = 0
        column = 0
        values: dict[int, Any] = {}
        max_columns = limits.max_columns
        header_found = header_width is None
        current_row: Any = None
        sheet_data: Any = None
        with workbook._archive.open(sheet._worksheet_path) as source:
            if progress is not None:
                progress("读取", 0, size)
            for event, element in iterparse(source, events=("start", "end")):
                tag = element.tag
                if event == "start":
                    if tag == _SHEET_NS + "sheetData":
                        sheet_data = element
                    elif tag == ROW_TAG:
                        current_row = element
                        values = {}
                        column = 0
                        ref = element.get("r")
                        row_number = int(float(ref)) if ref else row_number + 1
                        rows += 1
                        if rows > limits.max_rows + 10:  # header search rows
                            raise too_large("行数", limits.max_rows)
                    continue
                if tag == CELL_TAG:
                    cells += 1
                    if cells > limits.max_cells:
                        raise too_large("单元格数", limits.max_cells)
                    ref = element.get("r")
                    column = _column_of(ref) if ref else column + 1
                    if 0 < column <= max_columns:
                        parser.row_counter, parser.col_counter = row_number, column - 1
                        cell = parser.parse_cell(element)
                        if cell["value"] is not None:
                            values[column] = cell["value"]
                    element.clear()
                    if current_row is not None:
                        current_row.remove(element)
                elif tag == ROW_TAG:
                    element.clear()
                    if sheet_data is not None:
                        sheet_data.remove(element)
                    current_row = None
                    line = tuple(values.get(i) for i in range(1, max(values) + 1)) if values else ()
                    if not header_found and header_width is not None and line:
                        width = header_width(line)
                        if width is not None:
                            header_found = True
                            max_columns = min(max_columns, width)
                    yield row_number, line
                    if progress is not None and rows % 1000 == 0:
                        progress("读取", min(source.tell(), size), size)
                elif tag != _SHEET_NS + "v" and tag != _SHEET_NS + "t" and tag != _SHEET_NS + "is" \
                        and tag != _SHEET_NS + "f" and tag != _SHEET_NS + "r" and tag != _SHEET_NS + "rPr":
                    element.clear()
            if progress is not None:
                progress("读取", size, size)
    finally:
        workbook.close()
