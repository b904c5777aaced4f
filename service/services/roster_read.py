"""Read a roster file (.xlsx or .csv) into header-keyed rows.

Centres export rosters from different systems, so column order is free, extra columns are ignored,
and CSV comes as UTF-8 (with or without BOM) or GB18030 (what Excel on Chinese Windows writes).
Only the presence of the columns is checked here; values are checked row by row in roster_rows.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.errors import InvalidInput

# (header, field key, required column)
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("学号", "student_no", True),
    ("姓名", "name", True),
    ("性别", "gender", True),
    ("证件类型", "id_type", True),
    ("证件号码", "id_number", True),
    ("学生类别", "category", True),
    ("国籍", "nationality", True),
    ("考生号", "exam_no", False),
    ("院系", "college", True),
    ("专业代码", "major_code", True),
    ("专业", "major", True),
    ("班级", "class_name", False),
    ("学历", "education_level", True),
    ("学制", "duration_years", False),
    ("入学年月", "enroll_date", False),
    ("毕业日期", "grad_date", True),
    ("培养方式", "training_mode", False),
    ("学习形式", "study_form", True),
    ("学籍状态", "enrollment_status", True),
    ("能否正常毕业", "can_graduate", True),
)
HEADER_OF = {key: header for header, key, _ in COLUMNS}
# Spellings other systems use for the same column.
ALIASES = {
    "身份证号": "证件号码", "身份证号码": "证件号码", "证件号": "证件号码", "院系名称": "院系", "学院": "院系",
    "专业名称": "专业", "学生姓名": "姓名", "是否能正常毕业": "能否正常毕业", "能否毕业": "能否正常毕业",
}
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
HEADER_SEARCH_ROWS = 10  # a title line or two above the header is common in exported sheets

Progress = Callable[[str, int, int], None]


@dataclass
class RosterFile:
    columns: dict[str, int]  # field key -> column index
    rows: list[tuple[int, dict[str, Any]]]  # (spreadsheet row number, field key -> raw cell value)
    ignored_columns: list[str]


def _header_key(cell: Any) -> str | None:
    if cell is None:
        return None
    text = "".join(unicodedata.normalize("NFKC", str(cell)).split())
    text = ALIASES.get(text, text)
    return next((key for header, key, _ in COLUMNS if header == text), None)


def _find_header(rows: list[tuple[Any, ...]]) -> int:
    """Index of the first row naming at least three known columns."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for cell in row if _header_key(cell)) >= 3:
            return index
    raise InvalidInput("找不到表头行：第一行应包含学号、姓名、证件号码等列名", code="roster_no_header")


def _map_columns(header: tuple[Any, ...]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        key = _header_key(cell)
        if key is None:
            if cell not in (None, ""):
                ignored.append(str(cell))
            continue
        if key in columns:
            raise InvalidInput(f"表头中“{HEADER_OF[key]}”列出现了两次", code="roster_duplicate_column",
                               details={"columns": [HEADER_OF[key]]})
        columns[key] = index
    missing = [header for header, key, required in COLUMNS if required and key not in columns]
    if missing:
        raise InvalidInput(f"缺少必需的列：{'、'.join(missing)}", code="roster_missing_columns",
                           details={"columns": missing})
    return columns, ignored


def _xlsx_rows(data: bytes, progress: Progress | None) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput("无法读取该 Excel 文件，请确认是 .xlsx 格式", code="roster_unreadable",
                           details={"file": [str(exc)[:200]]}) from None
    try:
        sheet = workbook.worksheets[0]
        total = max(0, (sheet.max_row or 0) - 1)
        rows: list[tuple[Any, ...]] = []
        if progress is not None:
            progress("读取", 0, total)
        for row in sheet.iter_rows(values_only=True):
            rows.append(row)
            if progress is not None and len(rows) % 1000 == 0:
                progress("读取", len(rows), total)
        return rows
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> list[tuple[Any, ...]]:
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput("无法识别 CSV 文件的编码（支持 UTF-8 和 GB18030）", code="roster_unreadable")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    return [tuple(row) for row in csv.reader(io.StringIO(text, newline=""), dialect)]


def read_roster(data: bytes, filename: str, progress: Progress | None = None) -> RosterFile:
    """Parse the upload; raises InvalidInput for an unreadable file or missing columns."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        raw = _xlsx_rows(data, progress)
    elif name.endswith(".csv"):
        raw = _csv_rows(data)
    else:
        raise InvalidInput("只支持 .xlsx 或 .csv 格式的学籍文件", code="roster_bad_type")
    if not raw:
        raise InvalidInput("文件是空的", code="roster_empty")
    start = _find_header(raw)
    columns, ignored = _map_columns(raw[start])
    rows: list[tuple[int, dict[str, Any]]] = []
    for offset, row in enumerate(raw[start + 1:], start=start + 2):
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row):
            continue
        rows.append((offset, {key: (row[i] if i < len(row) else None) for key, i in columns.items()}))
    return RosterFile(columns=columns, rows=rows, ignored_columns=ignored)
