"""审计日志 and 退回后修改 in Chromium (issue 14).

The history is made through the real API (a test client of an app on the live server's database):
a roster student binds, fills and submits; a counselor rejects; the student changes 生源所在地 and
手机号码 and resubmits; the counselor edits 生源所在地 and 证件号码. Then the counselor's review page
highlights the fields changed since the rejection, and the centre opens 审计日志 from the nav,
filters by the student and by the changed field, and reads before → after, 证件号码 masked.
"""

from __future__ import annotations

from datetime import date

import pytest

from service.cli.demo import prepare_demo
from service.models import Record, School
from service.validation.identity import make_resident_id, mask_id_number
from tests.browser.conftest import login, nav, new_page, screenshot
from tests.integration.test_student_report import OTHER, PERSONAL
from tests.support import reviewing as rv

pytestmark = pytest.mark.browser
STUDENT_PASSWORD = "student-pass-1"


def _history(app, logins) -> tuple[Record, str, str]:
    """Returns the record, its student's original and its new 证件号码 (both must stay masked)."""
    student_no, name, id_number = logins.unbound_example
    client = app.test_client()
    token = client.post("/api/v1/student/verify-identity",
                        json={"name": name, "id_number": id_number}).get_json()["verification_token"]
    r = client.post("/api/v1/student/bind", json={
        "category": "mainland", "school_code": logins.school_code, "student_no": student_no, "name": name,
        "id_type": "01", "id_number": id_number, "password": STUDENT_PASSWORD, "verification_token": token})
    assert r.status_code == 201, r.get_json()
    csrf = {"X-CSRF-Token": r.get_json()["csrf_token"]}
    for section, body in (("school", {"normal_type": "2"}), ("personal", PERSONAL), ("other", OTHER)):
        saved = client.put(f"/api/v1/student/report/{section}", json=body, headers=csrf)
        assert saved.status_code == 200, (section, saved.get_json())
    assert client.post("/api/v1/student/report/submit", headers=csrf).status_code == 200
    rec = Record.get(Record.student_no == student_no)

    rv.user("audit_fdy", "counselor", School.get_by_id(logins.school_code))
    counselor = rv.login(app, "audit_fdy", logins.school_code)
    r = counselor.post(f"/api/v1/records/{rec.id}/review", {"decision": "reject", "comment": "生源所在地有误"})
    assert r.status_code == 200, r.get_json()
    assert client.put("/api/v1/student/report/personal", json={**PERSONAL, "origin_region": "440103"},
                      headers=csrf).status_code == 200
    assert client.put("/api/v1/student/report/other", json={**OTHER, "phone": "13900139000"},
                      headers=csrf).status_code == 200
    assert client.post("/api/v1/student/report/submit", headers=csrf).status_code == 200
    # the counselor corrects 生源所在地 and 证件号码 (same region, birth date and sex, another sequence number)
    seq = int(id_number[14:17])
    birth = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    new_id = make_resident_id(id_number[:6], birth, (seq + 2) % 1000)
    edit = counselor.patch(f"/api/v1/records/{rec.id}", {"data": {"personal": {"id_number": new_id, "origin_region": "440104"}}})
    assert edit.status_code == 200, edit.get_json()
    return rec, id_number, new_id


def test_review_page_highlight_and_the_centres_audit_page(live_server, browser):
    from service import create_app

    logins = prepare_demo(live_server.settings, students=30, colleges=1, majors=2, unbound=4)
    assert logins.unbound_example is not None
    rec, old_id, new_id = _history(create_app(live_server.settings), logins)
    errors: list[str] = []

    # the counselor's review page: the fields changed since the rejection are highlighted
    page = new_page(browser)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_server.url, logins.school_code, "audit_fdy", rv.PASSWORD)
    page.goto(f"{live_server.url}/console/records/{rec.id}")
    box = page.locator("#changes-since-rejection")
    assert "生源所在地有误" in box.inner_text()
    assert box.locator("li[data-field='personal.origin_region'] .before").inner_text().strip()
    highlighted = page.locator("[data-changed-field]")
    fields = sorted(highlighted.nth(i).get_attribute("data-changed-field") for i in range(highlighted.count()))
    assert fields == ["other.phone", "personal.id_number", "personal.origin_region"]
    origin = page.locator("[data-changed-field='personal.origin_region']")
    assert origin.evaluate("el => getComputedStyle(el).backgroundColor") != "rgba(0, 0, 0, 0)"
    assert "天河区 → 广东省 广州市 越秀区" in origin.inner_text()  # the value at the rejection, then now
    screenshot(page, "review-changes-since-rejection")
    page.context.close()

    # the centre: 审计日志 from the nav, filter by the student, then by the changed field
    page = new_page(browser)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_server.url, logins.school_code, logins.centre, logins.password)
    nav(page, ".topnav a:text('审计日志')")
    assert page.locator("h1").inner_text() == "审计日志"
    page.fill("#audit-filter input[name=record]", rec.student_no)
    nav(page, "#audit-filter button[type=submit]")
    rows = page.locator("#audit-events tbody tr[data-event-id]")
    assert rows.count() >= 10  # bind, 3 drafts, submit, reject, 2 drafts, submit, edit
    assert all(rows.nth(i).get_attribute("data-record-id") == str(rec.id) for i in range(rows.count()))
    assert "不通过" in page.locator("#audit-events").inner_text()
    assert page.locator("#chain-status").inner_text().strip() == f"本页 {rows.count()} 条事件校验通过"

    page.select_option("#audit-filter select[name=field]", "personal.origin_region")
    nav(page, "#audit-filter button[type=submit]")
    rows = page.locator("#audit-events tbody tr[data-event-id]")
    assert rows.count() == 3  # the student's first fill and change after the rejection, the counselor's edit
    by_reviewer = rows.first
    assert "audit_fdy" in by_reviewer.inner_text() and "编辑" in by_reviewer.inner_text()
    change = by_reviewer.locator("li[data-field='personal.origin_region']")
    assert "生源所在地" in change.inner_text()
    assert "440103" in change.locator(".before").inner_text() and "440104" in change.locator(".after").inner_text()
    by_student = rows.nth(1).locator("li[data-field='personal.origin_region']")
    assert "440106" in by_student.locator(".before").inner_text() and "440103" in by_student.locator(".after").inner_text()
    assert page.locator("#chain-status").inner_text().strip() == "本页 3 条事件校验通过"
    screenshot(page, "audit-page-origin-region")

    page.select_option("#audit-filter select[name=field]", "personal.id_number")
    nav(page, "#audit-filter button[type=submit]")
    change = page.locator("#audit-events li[data-field='personal.id_number']")
    assert change.count() == 1
    assert change.locator(".before").inner_text() == mask_id_number(old_id)
    assert change.locator(".after").inner_text() == mask_id_number(new_id)
    html = page.content()
    assert old_id not in html and new_id not in html
    with page.expect_download() as download:
        page.locator("#audit-export").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert not errors, errors
    page.context.close()
