"""Rare characters on the sign-off sheet: printed with a fallback font, or refused; never dropped."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from service.documents import render_signoff_pdf
from service.documents.fonts import find_fallback_fonts
from service.documents.signoff_pdf import UnprintableCharacter
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


@pytest.mark.parametrize("ch", ["\U0010FFFD", "\U000E01EF", "\u0378"])  # private use, a selector, unassigned
def test_a_character_no_font_has_is_refused_naming_field_and_code_point(ch: str) -> None:
    rec = base_record(name=f"张{ch}三")
    with pytest.raises(UnprintableCharacter) as refused:
        render_signoff_pdf([base_record(), rec], label_of, school_name="暨南大学", mask=mask)
    assert refused.value.status == 422 and refused.value.code == "unprintable_character"
    assert f"U+{ord(ch):04X}" in refused.value.message and "姓名" in refused.value.message
    assert rec["student_no"] in refused.value.message
    assert set(refused.value.details) == {"name"}


def test_school_name_is_checked_too() -> None:
    with pytest.raises(UnprintableCharacter) as refused:
        render_signoff_pdf([base_record()], label_of, school_name="暨南\U0010FFFD大学", mask=mask)
    assert "学校名称" in refused.value.message
