"""Read a roster file (.xlsx or .csv) into header-keyed rows.

Centres export rosters from different systems, so column order is free, extra columns are ignored,
and CSV comes as UTF-8 (with or without BOM) or GB18030 (what Excel on Chinese Windows writes).
Only the presence of the columns is checked here; values are checked row by row in roster_rows.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.errors import InvalidInput
from service.services.roster_xlsx import ReadLimits, too_large, xlsx_rows

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
# Excel's "Unicode text" export is UTF-16 with a BOM; without this it would decode as GB18030 garbage.
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
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


def _find_header(rows: list[tuple[int, tuple[Any, ...]]]) -> int:
    """Index of the first row naming at least three known columns."""
    for index, (_, row) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for cell in row if _header_key(cell)) >= 3:
            return index
    raise InvalidInput("找不到表头行：第一行应包含学号、姓名、证件号码等列名", code="roster_no_header")


def _header_width(row: tuple[Any, ...]) -> int | None:
    """For the xlsx reader: the header row's width (up to its last non-empty cell), None for other rows."""
    if sum(1 for cell in row if _header_key(cell)) < 3:
        return None
    return max(i + 1 for i, cell in enumerate(row) if cell not in (None, ""))


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


def _csv_text(data: bytes) -> str:
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        for encoding in CSV_ENCODINGS:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise InvalidInput("无法识别 CSV 文件的编码（支持 UTF-8、GB18030 和带 BOM 的 UTF-16），请另存为 UTF-8 后重试",
                       code="roster_unreadable", details={"file": ["编码无法识别"]})


def _csv_rows(data: bytes, limits: ReadLimits) -> list[tuple[int, tuple[Any, ...]]]:
    text = _csv_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    rows: list[tuple[int, tuple[Any, ...]]] = []
    cells = 0
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for number, row in enumerate(reader, start=1):
            if len(rows) >= limits.max_rows + HEADER_SEARCH_ROWS:
                raise too_large("行数", limits.max_rows)
            cells += len(row)
            if cells > limits.max_cells:
                raise too_large("单元格数", limits.max_cells)
            rows.append((number, tuple(row[:limits.max_columns])))
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit() (131,072 characters)
        line = reader.line_num
        raise InvalidInput(f"CSV 文件第 {line} 行无法解析（单元格过长或引号不配对）", code="roster_unreadable",
                           details={"file": [f"第 {line} 行：{str(exc)[:200]}"]}) from None
    return rows


def _check_values(rows: list[tuple[int, tuple[Any, ...]]], limits: ReadLimits) -> None:
    """Refuse what the database cannot store or no roster holds: NUL, lone surrogates, huge cells."""
    for number, row in rows:
        for value in row:
            if not isinstance(value, str):
                continue
            if len(value) > limits.max_field_chars:
                raise InvalidInput(f"第 {number} 行有单元格超过 {limits.max_field_chars:,} 个字符",
                                   code="roster_field_too_long",
                                   details={"file": [f"第 {number} 行单元格过长"]})
            bad = next((ch for ch in value if ch == "\x00" or "\ud800" <= ch <= "\udfff"), None)
            if bad is not None:
                raise InvalidInput(f"第 {number} 行含有无法保存的字符 U+{ord(bad):04X}，请检查文件内容",
                                   code="roster_bad_character",
                                   details={"file": [f"第 {number} 行含有字符 U+{ord(bad):04X}"]})


def read_roster(data: bytes, filename: str, progress: Progress | None = None,
                limits: ReadLimits | None = None) -> RosterFile:
    """Parse the upload; raises InvalidInput for an unreadable or too large file or missing columns.

    The work is bounded by `limits` (rows, columns, cells, unpacked size), never by what the file
    declares about itself."""
    limits = limits or ReadLimits()
    name = filename.lower()
    if name.endswith(".xlsx"):
        raw = xlsx_rows(data, limits, progress, _header_width)
    elif name.endswith(".csv"):
        raw = _csv_rows(data, limits)
    else:
        raise InvalidInput("只支持 .xlsx 或 .csv 格式的学籍文件", code="roster_bad_type")
    if not raw:
        raise InvalidInput("文件是空的", code="roster_empty")
    _check_values(raw, limits)
    start = _find_header(raw)
    columns, ignored = _map_columns(raw[start][1])
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, row in raw[start + 1:]:
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row):
            continue
        rows.append((number, {key: (row[i] if i < len(row) else None) for key, i in columns.items()}))
    if len(rows) > limits.max_rows:
        raise too_large("行数", limits.max_rows)
    return RosterFile(columns=columns, rows=rows, ignored_columns=ignored)
