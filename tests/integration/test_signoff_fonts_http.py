"""Sign-off PDFs over HTTP: a CJK Extension B name prints; an unprintable one is marked 〓 and reported, never dropped."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from service.documents.fonts import find_fallback_fonts
from service.models import AuditEvent, Record
from tests.support import reviewing as rv

pytestmark = pytest.mark.skipif(not find_fallback_fonts(), reason="fonts-hanazono not installed")


@pytest.fixture
def world(db):
    w = rv.make_world()
    rv.submitted(w, w.m1, name="\U00020BB7田明")
    rv.submitted(w, w.m2, name="张\U0010FFFD")
    rv.user("centre", "centre", w.school)
    return w


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_extension_b_name_prints_and_unprintable_name_is_refused(app, world) -> None:
    rec = Record.get(Record.major == world.m1.id)
    api = rv.login(app, "centre")
    printed = api.get(f"/api/v1/records/{rec.id}/signoff.pdf")
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(printed.get_data())).pages[0].extract_text()
    assert "\U00020BB7田明" in text, [line for line in text.splitlines() if "姓名" in line]

    rec = Record.get(Record.major == world.m2.id)
    events = AuditEvent.select().count()
    marked = api.get(f"/api/v1/records/{rec.id}/signoff.pdf")
    assert marked.status_code == 200, marked.data[:200]
    assert marked.headers["X-Signoff-Unprintable"] == "1"
    assert marked.headers["X-Signoff-Unprintable-Chars"] == f"{rec.student_no}:name:U+10FFFD"
    text = "".join(PdfReader(io.BytesIO(marked.get_data())).pages[0].extract_text().split())
    assert "张〓" in text and "含无法打印的字符：姓名U+10FFFD" in text
    assert AuditEvent.select().count() == events + 1  # the print is audited, with the marked character
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert last.data_changed["unprintable"][0]["codepoint"] == "U+10FFFD"
    batch = api.get(f"/api/v1/records/signoff.pdf?major={world.m2.id}")
    assert batch.status_code == 200 and batch.headers["X-Signoff-Unprintable"] == "1"
