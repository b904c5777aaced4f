"""Printed sign-off sheets (学生签字核对): one A4 page per student with every field.

Students check their printed record and sign it; the college keeps the paper (see the notice).
The student must sign exactly what is stored, so nothing is ever cut: a value is set smaller and
wrapped, and when it still does not fit its box the row grows (a page that overflows continues on
the next one). A character no installed font has is printed as 〓 and the sheet says which field and
code point it was (不是静默丢字), so one emoji neither blocks a print of 500 sheets nor vanishes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpdf import FPDF

from service.documents.fields import (
    BOOL_FIELDS,
    CODE_TABLES,
    FIELD_LABELS,
    ID_FIELD,
    LabelOf,
    Mask,
    cached_label_of,
    text,
    yes_no,
)
from service.documents.fonts import CjkFont, coverage, find_cjk_font, find_fallback_fonts
from service.errors import InvalidInput

PDF_MIME = "application/pdf"
FONT = "cjk"
PT = 25.4 / 72  # millimetres per point
MARGIN = 15.0
WIDTH = 210.0 - 2 * MARGIN
LABEL_W = 34.0
VALUE_W = WIDTH / 2 - LABEL_W
ROW_H = 8.0
VALUE_PT = 10.5
MIN_PT = 7.5
MARKER = "〓"  # printed in place of a character no font has (the customary 缺字 mark)
SIGNATURES_H = 33.0  # the signature block below the last row (statement + two signature lines)
CONTENT_BOTTOM = 283.0 - SIGNATURES_H  # a row reaching below this continues on the next page
FOOTER_Y = 283.0

Row = tuple[str, ...]  # one field = full width, two = side by side
SECTIONS: tuple[tuple[str, tuple[Row, ...]], ...] = (
    ("一、学校信息", (
        ("school_code", "school_name"), ("student_no", "exam_no"), ("college", "class_name"),
        ("major", "major_code"), ("education_level", "duration_years"), ("enroll_date", "grad_date"),
        ("training_mode", "normal_type"), ("directed_unit",),
    )),
    ("二、个人信息", (
        ("name", "gender"), ("id_type", ID_FIELD), ("ethnicity", "political"),
        ("urban_rural", "hardship"), ("origin_region",),
    )),
    ("三、其他信息", (
        ("hukou_moved", "archive_moved"), ("current_hukou_region",), ("phone", "email"),
        ("home_address",), ("remark",),
    )),
    ("四、审核状态", (("review_status", "report_status"), ("last_comment",))),
)
# Rows taller than ROW_H, for fields that are often long.
ROW_HEIGHTS = {"home_address": 11.0, "remark": 14.0, "last_comment": 11.0}


def display_value(field: str, rec: dict[str, Any], label_of: LabelOf, mask: Mask | None) -> str:
    """A field as a student should check it: codes as 'label（code）', booleans as 是/否."""
    raw = rec.get(field)
    if field in BOOL_FIELDS:
        return yes_no(raw)
    value = text(raw)
    if not value:
        return ""
    if field == ID_FIELD and mask is not None:
        return mask(value)
    table = CODE_TABLES.get(field)
    if table:
        label = label_of(table, value)
        return f"{label}（{value}）" if label and label != value else value
    return value


# Not printed as glyphs: line breaks are handled by fit(), tabs become spaces.
_LAYOUT_CHARS = frozenset("\n\r")


class UnprintableCharacter(InvalidInput):
    """The sheet's title or school name holds a character no font has: not student data, so refuse."""

    code = "unprintable_character"

    def __init__(self, field: str, label: str, ch: str, student_no: str) -> None:
        who = f"学号 {student_no} 的" if student_no else ""
        message = (f"{who}“{label}”中的字符“{ch}”（U+{ord(ch):04X}）没有可用的字体，无法打印核对表；"
                   "请联系管理员安装字体或更正该字段")
        super().__init__(message, details={field: [message]})
        self.field, self.char = field, ch


@dataclass(frozen=True)
class Unprintable:
    """One character printed as MARKER: whose sheet, which field, which code point."""

    student_no: str
    field: str
    label: str
    codepoint: str  # "U+1F680"

    def as_dict(self) -> dict[str, str]:
        return {"student_no": self.student_no, "field": self.field, "label": self.label,
                "codepoint": self.codepoint}


@dataclass
class SignoffResult:
    """The PDF and what the caller must tell the user: sheets printed, characters marked."""

    pdf: bytes
    sheets: int
    unprintable: list[Unprintable] = field(default_factory=list)


def unprintable_note(found: list[Unprintable], *, with_student: bool = False) -> str:
    """The plain statement printed on a sheet, e.g. 含无法打印的字符：家庭地址 U+1F680（已印为〓）."""
    parts = [(f"学号 {u.student_no} " if with_student else "") + f"{u.label} {u.codepoint}" for u in found]
    return (f"注意：本表含无法打印的字符：{'，'.join(parts)}（已印为{MARKER}）。"
            "请在系统中核对该项的原始内容后再签字。")


class _Fonts:
    """The main CJK font plus per-character fallbacks, and which one prints each character."""

    def __init__(self, main: CjkFont, fallbacks: list[CjkFont]) -> None:
        self.fonts = [main, *fallbacks]
        self._cover = [coverage(main)]
        self.main_cover = self._cover[0]

    def font_for(self, ch: str) -> int | None:
        """Index of the first font with a glyph for ``ch`` (0 = main), None when none has one."""
        cp = ord(ch)
        if cp in self.main_cover:
            return 0
        for i in range(1, len(self.fonts)):
            if i >= len(self._cover):
                self._cover.append(coverage(self.fonts[i]))
            if cp in self._cover[i]:
                return i
        return None

    def first_missing(self, s: str) -> str | None:
        for ch in s:
            if ch not in _LAYOUT_CHARS and ord(ch) not in self.main_cover and self.font_for(ch) is None:
                return ch
        return None

    def mark(self, s: str) -> tuple[str, list[str]]:
        """``s`` with every character no font has replaced by MARKER, and those characters."""
        if self.first_missing(s) is None:
            return s, []
        out, missing = [], []
        for ch in s:
            if ch not in _LAYOUT_CHARS and ord(ch) not in self.main_cover and self.font_for(ch) is None:
                out.append(MARKER)
                missing.append(ch)
            else:
                out.append(ch)
        return "".join(out), missing


def _prepare(s: str) -> str:
    return s.replace("\t", " ")


class _Sheet(FPDF):
    def __init__(self, font: CjkFont, title: str, school_name: str, fonts: _Fonts | None = None) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.add_font(FONT, "", str(font.path), collection_font_number=font.index)
        self.glyphs = fonts or _Fonts(font, [])
        self._added = {0}
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, 12, MARGIN)
        self.set_line_width(0.2)
        self.set_title(title)
        self.set_subject(school_name)
        self.set_creator("gradflow")
        self.set_lang("zh-CN")
        self.sheet_title = title
        self.school_name = school_name

    def _family(self, index: int) -> str:
        if index not in self._added:
            extra = self.glyphs.fonts[index]
            self.add_font(f"{FONT}{index}", "", str(extra.path), collection_font_number=extra.index)
            self._added.add(index)
        return FONT if index == 0 else f"{FONT}{index}"

    def _runs(self, s: str) -> list[tuple[int, str]]:
        """``s`` cut into (font index, text) runs; the checks before rendering ensure every glyph exists."""
        runs: list[tuple[int, str]] = []
        for ch in s:
            index = self.glyphs.font_for(ch)
            index = 0 if index is None else index
            if runs and runs[-1][0] == index:
                runs[-1] = (index, runs[-1][1] + ch)
            else:
                runs.append((index, ch))
        return runs

    def _plain(self, s: str) -> bool:
        cover = self.glyphs.main_cover
        return all(ord(ch) in cover for ch in s)

    def get_string_width(self, s: str, normalized: bool = False, markdown: bool = False) -> float:
        if self._plain(s):
            return super().get_string_width(s, normalized, markdown)
        size = self.font_size_pt
        total = 0.0
        for index, run in self._runs(s):
            self.set_font(self._family(index), size=size)
            total += super().get_string_width(run, normalized, markdown)
        self.set_font(FONT, size=size)
        return total

    def fit(self, s: str, width: float, height: float) -> tuple[float, list[str]]:
        """The largest size (VALUE_PT down to MIN_PT) at which ``s`` fits the box, and its lines.

        At MIN_PT every line is returned even if the box is too low: the caller grows the row
        (see needed_height) rather than cut what the student signs for."""
        s = s.replace("\r\n", "\n").replace("\r", "\n").strip()
        size = VALUE_PT
        while True:
            self.set_font_size(size)
            line_h = size * PT * 1.3
            max_lines = max(1, int((height - 1) // line_h))
            if "\n" not in s and self.get_string_width(s) <= width:
                return size, [s]
            lines = self.wrap(s, width)
            if len(lines) <= max_lines or size <= MIN_PT:
                return size, lines
            size = max(MIN_PT, size - 1)

    def needed_height(self, s: str, width: float, height: float) -> float:
        """The box height ``s`` needs: ``height``, or taller when it cannot fit even at MIN_PT."""
        if not s:
            return height
        size, lines = self.fit(s, width, height)
        return max(height, len(lines) * size * PT * 1.3 + 1.5)

    def wrap(self, s: str, width: float) -> list[str]:
        lines, cur, cur_w = [], "", 0.0
        for ch in s:
            w = self.get_string_width(ch)
            if ch == "\n" or (cur and cur_w + w > width):
                lines.append(cur)
                cur, cur_w = ("", 0.0) if ch == "\n" else (ch, w)
            else:
                cur, cur_w = cur + ch, cur_w + w
        return [*lines, cur]

    def put(self, x: float, top: float, h: float, s: str, size: float) -> None:
        """One line vertically centred in [top, top + h]; text() is ~10× cheaper than cell()."""
        self.set_font_size(size)
        y = top + h / 2 + size * PT * 0.35
        if self._plain(s):
            self.text(x, y, s)
            return
        for index, run in self._runs(s):
            self.set_font(self._family(index), size=size)
            self.text(x, y, run)
            x += super().get_string_width(run)
        self.set_font(FONT, size=size)

    def centred(self, top: float, h: float, s: str, size: float) -> None:
        self.set_font_size(size)
        self.put((210 - self.get_string_width(s)) / 2, top, h, s, size)

    def box(self, x: float, y: float, w: float, h: float, s: str, *, label: bool = False) -> None:
        self.rect(x, y, w, h, style="DF" if label else "D")
        if not s:
            return
        if label:
            self.put(x + 1.5, y, h, s, 10)
            return
        size, lines = self.fit(s, w - 3, h)
        line_h = size * PT * 1.3
        top = y + (h - line_h * len(lines)) / 2
        for i, line in enumerate(lines):
            self.put(x + 1.5, top + i * line_h, line_h, line, size)

    def heading(self, continued: bool = False) -> float:
        """Title and school name at the top of a page; returns where the content starts."""
        self.add_page()
        self.set_font(FONT, size=18)
        self.set_fill_color(232, 236, 244)
        self.centred(12, 10, self.sheet_title + ("（续）" if continued else ""), 18)
        self.centred(22, 7, self.school_name, 11)
        return 31.0

    def footer_line(self, s: str) -> None:
        self.set_text_color(110)
        self.set_font_size(8)
        self.set_xy(MARGIN, FOOTER_Y)  # cell(), not text(): only cell() replaces the {nb} page-count alias
        self.cell(WIDTH, 5, s, align="C")
        self.set_text_color(0)

    def student_page(self, rec: dict[str, Any], label_of: LabelOf, mask: Mask | None,
                     summary: str = "") -> list[Unprintable]:
        """One student's sheet (more pages only when long values need them); returns the marked characters."""
        no = text(rec.get("student_no"))
        found: list[Unprintable] = []
        values: dict[str, str] = {}
        for _, rows in SECTIONS:
            for row in rows:
                for name in row:
                    value, missing = self.glyphs.mark(_prepare(display_value(name, rec, label_of, mask)))
                    values[name] = value
                    found.extend(Unprintable(no, name, FIELD_LABELS[name], f"U+{ord(ch):04X}") for ch in missing)
        footer = f"{self.sheet_title} · 学号 {no} · 第 {{page}} 页 / 共 {{nb}} 页" + (f" · {summary}" if summary else "")
        y = self.heading()
        for heading, rows in SECTIONS:
            self.put(MARGIN, y, 6, heading, 11.5)
            y += 6
            for row in rows:
                value_w = VALUE_W if len(row) == 2 else WIDTH - LABEL_W
                h = max(self.needed_height(values[f], value_w - 3, ROW_HEIGHTS.get(f, ROW_H)) for f in row)
                if y + h > CONTENT_BOTTOM and y > 40:
                    self.footer_line(footer.replace("{page}", str(self.page_no())))
                    y = self.heading(continued=True)
                x = MARGIN
                for name in row:
                    self.box(x, y, LABEL_W, h, FIELD_LABELS[name], label=True)
                    self.box(x + LABEL_W, y, value_w, h, values[name])
                    x += LABEL_W + value_w
                y += h
            y += 1
        if found:
            note = unprintable_note(found)
            size, lines = self.fit(note, WIDTH, 12)
            self.set_text_color(180, 0, 0)
            for i, line in enumerate(lines):
                self.put(MARGIN, y + i * size * PT * 1.3, size * PT * 1.3, line, size)
            self.set_text_color(0)
            y += len(lines) * size * PT * 1.3 + 1
        if y > CONTENT_BOTTOM:
            self.footer_line(footer.replace("{page}", str(self.page_no())))
            y = self.heading(continued=True)
        self.signatures(y + 2)
        self.footer_line(footer.replace("{page}", str(self.page_no())))
        return found

    def signatures(self, y: float) -> None:
        self.put(MARGIN, y, 7, "本人已认真核对以上生源信息，确认准确无误。（学生签字核对）", 10.5)
        for i, who in enumerate(("学生签字：", "辅导员签字：")):
            row_y = y + 10 + i * 12
            self.put(MARGIN, row_y, 8, who, 10.5)
            self.line(MARGIN + 26, row_y + 7, MARGIN + 86, row_y + 7)
            self.put(MARGIN + 100, row_y, 8, "日期：　　　　年　　月　　日", 10.5)

    def empty_page(self, message: str = "没有符合条件的生源信息。") -> None:
        self.add_page()
        self.set_font(FONT, size=18)
        self.centred(12, 10, self.sheet_title, 18)
        self.centred(30, 10, message, 11)


def omitted_summary(omitted: int) -> str:
    """The line that says how many 未提交 records were left out of a batch ('' when none)."""
    return f"另有 {omitted} 名学生尚未提交，未打印核对表" if omitted else ""


def check_heading(title: str, school_name: str, fonts: _Fonts) -> None:
    """The title and school name are the operator's, not a student's: an unprintable one is refused."""
    for name, label, value in (("title", "标题", title), ("school_name", "学校名称", school_name)):
        missing = fonts.first_missing(value)
        if missing is not None:
            raise UnprintableCharacter(name, label, missing, "")


def load_fonts(font: CjkFont | str | Path | None) -> tuple[CjkFont, _Fonts]:
    cjk = font if isinstance(font, CjkFont) else find_cjk_font(font)
    return cjk, _Fonts(cjk, find_fallback_fonts())


def render_signoff(
    records: Iterable[dict[str, Any]],
    label_of: LabelOf,
    *,
    school_name: str,
    title: str = "毕业生生源信息核对表",
    mask: Mask | None = None,
    font: CjkFont | str | Path | None = None,
    omitted: int = 0,
) -> SignoffResult:
    """One sheet per record, in the order given; no records give a single page that says so.

    ``font`` overrides ``find_cjk_font()``; it raises CjkFontNotFound when no CJK font is installed.
    A value character that neither the main font nor a fallback (fonts.FALLBACK_FONTS) has is
    printed as MARKER with a note on that sheet, and listed in the result for the caller to report.
    ``omitted`` (records left out because they are not submitted) is stated on every page.
    """
    cjk, fonts = load_fonts(font)
    check_heading(title, school_name, fonts)
    lookup = cached_label_of(label_of)
    pdf = _Sheet(cjk, title, school_name, fonts)
    summary = omitted_summary(omitted)
    found: list[Unprintable] = []
    sheets = 0
    for rec in records:
        found.extend(pdf.student_page(rec, lookup, mask, summary))
        sheets += 1
    if sheets == 0:
        pdf.empty_page(f"没有可打印的核对表：{summary}。" if summary else "没有符合条件的生源信息。")
    return SignoffResult(bytes(pdf.output()), sheets, found)


def render_signoff_pdf(records: Iterable[dict[str, Any]], label_of: LabelOf, **options: Any) -> bytes:
    """render_signoff's PDF bytes alone (benchmarks and callers that report nothing else)."""
    return render_signoff(records, label_of, **options).pdf
