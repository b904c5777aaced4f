"""Sign-off PDFs over HTTP: a CJK Extension B name prints; an unprintable one is a 422, not a wrong sheet."""

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
    refused = api.get(f"/api/v1/records/{rec.id}/signoff.pdf")
    assert refused.status_code == 422, refused.data[:200]
    body = refused.get_json()
    assert body["code"] == "unprintable_character" and "U+10FFFD" in body["message"] and "姓名" in body["message"]
    assert AuditEvent.select().count() == events  # no print was audited: nothing was printed
    batch = api.get(f"/api/v1/records/signoff.pdf?major={world.m2.id}")
    assert batch.status_code == 422 and batch.get_json()["code"] == "unprintable_character"
