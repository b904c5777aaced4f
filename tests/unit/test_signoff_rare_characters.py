"""Rare characters on the sign-off sheet: printed with a fallback font, or marked 〓 with a note; never dropped."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from service.documents import render_signoff_pdf
from service.documents.fonts import find_fallback_fonts
from service.documents.signoff_class_list import render_class_list
from service.documents.signoff_pdf import MARKER, UnprintableCharacter, render_signoff
from tests.unit.test_documents import base_record, label_of, mask

pytestmark = pytest.mark.skipif(not find_fallback_fonts(), reason="fonts-hanazono not installed")

TSUCHI_YOSHI = "\U00020BB7"  # 𠮷, CJK Extension B: not in WenQuanYi Micro Hei


def _fonts_in(data: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(data))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_extension_b_name_prints_with_the_fallback_font() -> None:
    rec = base_record(name=f"{TSUCHI_YOSHI}田明", home_address=f"广东省广州市{TSUCHI_YOSHI}村\t1号")
    data = render_signoff_pdf([rec], label_of, school_name="暨南大学", mask=mask)
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert f"{TSUCHI_YOSHI}田明" in text
    assert f"{TSUCHI_YOSHI}村" in text
    assert any("HanaMin" in name for name in _fonts_in(data))


def test_plain_records_embed_only_the_main_font() -> None:
    data = render_signoff_pdf([base_record()], label_of, school_name="暨南大学", mask=mask)
    assert not any("HanaMin" in name for name in _fonts_in(data))


@pytest.mark.parametrize("ch", ["\U0010FFFD", "\U000E01EF", "\u0378", "\U0001F680"])  # private use, selector, unassigned, emoji
def test_a_character_no_font_has_is_marked_and_stated_on_the_sheet(ch: str) -> None:
    """Issue 10: one such character used to refuse the whole batch (422); emoji that vanished had
    the student sign something else. Now the batch prints, the character is 〓 and the sheet says so."""
    rec = base_record(name=f"张{ch}三", student_no="2017000009")
    result = render_signoff([base_record(), rec], label_of, school_name="暨南大学", mask=mask)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(result.pdf)).pages]
    assert result.sheets == 2 and len(pages) == 2
    assert f"张{MARKER}三" in pages[1] and ch not in pages[1]
    note = "".join(pages[1].split())
    assert f"含无法打印的字符：姓名U+{ord(ch):04X}" in note and "请在系统中核对" in note
    assert "无法打印" not in pages[0]  # the other student's sheet carries no note
    assert [(u.student_no, u.field, u.codepoint) for u in result.unprintable] == [("2017000009", "name", f"U+{ord(ch):04X}")]


def test_class_list_marks_and_names_the_student_too() -> None:
    rec = base_record(name="张\U0001F680", student_no="2017000009")
    result = render_class_list([base_record(), rec], label_of, school_name="暨南大学")
    text = "".join(PdfReader(io.BytesIO(result.pdf)).pages[0].extract_text().split())
    assert f"张{MARKER}" in text and "学号2017000009姓名U+1F680" in text


def test_school_name_is_checked_too() -> None:
    with pytest.raises(UnprintableCharacter) as refused:
        render_signoff_pdf([base_record()], label_of, school_name="暨南\U0010FFFD大学", mask=mask)
    assert "学校名称" in refused.value.message
