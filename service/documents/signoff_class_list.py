"""The class list form of the sign-off sheet: one row per student with a blank 学生签字 column.

A counselor who has checked the records with the class passes one list around instead of one page
per student. Values wrap (never cut) and unprintable characters are marked like on the per-student
sheet (signoff_pdf.MARKER), with the note under the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from service.documents.fields import LabelOf, text
from service.documents.fonts import CjkFont
from service.documents.signoff_pdf import (
    FIELD_LABELS,
    MARGIN,
    PT,
    WIDTH,
    SignoffResult,
    Unprintable,
    _Sheet,
    check_heading,
    load_fonts,
    omitted_summary,
    unprintable_note,
)

CLASS_LIST_TITLE = "毕业生生源信息签字核对表（班级名单）"
# (header, field id or "" for a computed/blank column, width in mm); widths add up to WIDTH.
COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("序号", "", 11.0), ("学号", "student_no", 28.0), ("姓名", "name", 24.0), ("班级", "class_name", 28.0),
    ("专业", "major", 39.0), ("审核状态", "review_status", 20.0), ("学生签字", "", 30.0),
)
ROW_H = 9.0
HEADER_H = 8.0
TABLE_BOTTOM = 276.0


class _ClassList(_Sheet):
    def table_header(self, y: float) -> float:
        x = MARGIN
        for header, _, w in COLUMNS:
            self.box(x, y, w, HEADER_H, header, label=True)
            x += w
        return y + HEADER_H

    def page_start(self, count_line: str) -> float:
        y = self.heading(continued=self.page_no() > 0)
        self.put(MARGIN, y, 6, count_line, 10)
        return self.table_header(y + 7)


def render_class_list(
    records: Iterable[dict[str, Any]],
    label_of: LabelOf,
    *,
    school_name: str,
    title: str = CLASS_LIST_TITLE,
    font: CjkFont | str | Path | None = None,
    omitted: int = 0,
) -> SignoffResult:
    """One table row per record, in the order given; ``omitted`` 未提交 records are stated on top.

    ``label_of`` is accepted for symmetry with render_signoff: the list shows no coded values.
    """
    cjk, fonts = load_fonts(font)
    check_heading(title, school_name, fonts)
    pdf = _ClassList(cjk, title, school_name, fonts)
    rows = list(records)
    summary = omitted_summary(omitted)
    count_line = f"共 {len(rows)} 名学生" + (f"；{summary}" if summary else "") + "。请本人核对信息无误后签字。"
    found: list[Unprintable] = []
    y = pdf.page_start(count_line)
    for number, rec in enumerate(rows, start=1):
        no = text(rec.get("student_no"))
        cells: list[str] = []
        for _, name, _w in COLUMNS:
            if not name:
                cells.append(str(number) if not cells else "")
                continue
            value, missing = fonts.mark(text(rec.get(name)).replace("\t", " "))
            cells.append(value)
            found.extend(Unprintable(no, name, FIELD_LABELS.get(name, name), f"U+{ord(ch):04X}") for ch in missing)
        h = max(pdf.needed_height(cell, w - 3, ROW_H) for cell, (_, _, w) in zip(cells, COLUMNS, strict=True))
        if y + h > TABLE_BOTTOM:
            pdf.footer_line(f"{title} · 第 {pdf.page_no()} 页 / 共 {{nb}} 页")
            y = pdf.page_start(count_line)
        x = MARGIN
        for cell, (_, _, w) in zip(cells, COLUMNS, strict=True):
            pdf.box(x, y, w, h, cell)
            x += w
        y += h
    if not rows:
        pdf.put(MARGIN, y + 2, 8, "没有可打印的学生。", 10.5)
    if found:
        note = unprintable_note(found, with_student=True)
        size, lines = pdf.fit(note, WIDTH, 12)
        line_h = size * PT * 1.3
        if y + 2 + len(lines) * line_h > TABLE_BOTTOM:
            pdf.footer_line(f"{title} · 第 {pdf.page_no()} 页 / 共 {{nb}} 页")
            y = pdf.heading(continued=True)
        pdf.set_text_color(180, 0, 0)
        for i, line in enumerate(lines):
            pdf.put(MARGIN, y + 2 + i * line_h, line_h, line, size)
        pdf.set_text_color(0)
    pdf.footer_line(f"{title} · 第 {pdf.page_no()} 页 / 共 {{nb}} 页")
    return SignoffResult(bytes(pdf.output()), len(rows), found)
