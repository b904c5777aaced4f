"""The centre-managed deadline in a real Chromium (issue 10 item 3).

The centre opens 截止时间 from the dashboard, sets the school deadline in the past (Beijing time)
and adds an extension for 计算机学院; a student of 数学学院 then sees the read-only banner and no
form, while a student of 计算机学院 can still submit. Runs on its own fresh database and server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.models import ProcessInstance, Record, User
from service.services import audit, binding, identity, roster, student_report
from service.services.actors import ADMIN_ROLE, Actor, actor_for_user
from service.services.deadlines import policy
from tests.browser.conftest import login, nav, new_page, screenshot
from tests.support import accounts as acc
from tests.support import factories as f
from tests.support import roster_files as rf

pytestmark = pytest.mark.browser

PASSWORD = "student-pass-1"
CS, MATH = rf.student(1), rf.student(3)  # 计算机学院, 数学学院
PERSONAL = {"ethnicity": "01", "political": "03", "origin_region": "440106", "urban_rural": "1", "hardship": "0"}
OTHER = {"hukou_moved": False, "archive_moved": True, "current_hukou_region": "440106", "phone": "13800138000",
         "email": "student@example.com", "home_address": "广州市天河区五山路1号"}


def _bound_and_filled(row: dict[str, Any], settings) -> None:
    token = identity.verify_identity(row["姓名"], row["证件号码"], settings)
    user = binding.bind(binding.BindRequest(category="mainland", school_code="10561", student_no=row["学号"],
                                            name=row["姓名"], id_type="01", id_number=row["证件号码"],
                                            password=PASSWORD, verification_token=token), settings)
    actor = actor_for_user(User.get_by_id(user.id))
    for section, body in (("school", {"normal_type": "2"}), ("personal", PERSONAL), ("other", OTHER)):
        student_report.save_section(actor, section, body, settings=settings)


@pytest.fixture(scope="module")
def school(live_server):
    f.school()
    roster.import_roster(rf.xlsx_bytes([CS, MATH]), "r.xlsx", school_code="10561", year=2021,
                         actor=Actor(username="ops", role=ADMIN_ROLE, school_code=None))
    acc.make_user("centre1", "centre", "10561")
    for row in (CS, MATH):
        _bound_and_filled(row, live_server.settings)
    return live_server


def _status_of(student_no: str) -> str:
    return (ProcessInstance.select(ProcessInstance.status).join(Record)
            .where(Record.student_no == student_no).scalar())


def test_centre_sets_a_past_deadline_and_a_college_extension(school, browser):
    page = new_page(browser)
    login(page, school.url, "10561", "centre1", acc.PASSWORD)
    nav(page, "#deadline-link")  # from the dashboard
    assert page.url.endswith("/centre/deadline")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).astimezone(policy.BEIJING)
    page.fill("input[name=deadline_date]", yesterday.strftime("%Y-%m-%d"))
    page.fill("input[name=deadline_time]", "12:00")
    nav(page, "button:text('保存截止时间')")
    assert "截止时间已保存" in page.locator(".flash").inner_text()
    assert f"{yesterday:%Y-%m-%d} 12:00" in page.locator("#effective-deadline").inner_text()
    assert "已截止" in page.locator("#effective-deadline").inner_text()

    form = page.locator("#college-extension-form")
    form.locator("select[name=college_id]").select_option(label="计算机学院")
    later = (datetime.now(UTC) + timedelta(days=3)).astimezone(policy.BEIJING)
    form.locator("input[name=until_date]").fill(later.strftime("%Y-%m-%d"))
    form.locator("input[name=until_time]").fill("18:00")
    form.locator("input[name=reason]").fill("毕业实习集中返校较晚")
    nav(page, form.locator("button[type=submit]"))
    assert "延期已添加" in page.locator(".flash").inner_text()
    table = page.locator("#extensions").inner_text()
    assert "计算机学院" in table and f"{later:%Y-%m-%d} 18:00" in table and "生效中" in table
    screenshot(page, "deadline-01-centre", full_page=True)
    nav(page, ".topnav >> text=进度")
    assert "毕业实习集中返校较晚" in page.locator("#extensions-in-force").inner_text()
    page.context.close()


def test_student_of_another_college_sees_the_read_only_banner(school, browser):
    page = new_page(browser, phone=True)
    login(page, school.url, "10561", MATH["学号"], PASSWORD)
    banner = page.locator("#deadline-banner")
    assert banner.is_visible() and "填报已截止" in banner.inner_text()
    assert page.locator("a:text('填写生源信息')").count() == 0
    page.goto(f"{school.url}/student/report/other")
    assert page.locator("#deadline-banner").is_visible()
    assert page.locator("#report-form").count() == 0 and page.locator("button:text('提交')").count() == 0
    screenshot(page, "deadline-02-student-closed-390x844", full_page=False)
    assert _status_of(MATH["学号"]) == "未提交"
    page.context.close()


def test_student_of_the_extended_college_can_still_submit(school, browser):
    page = new_page(browser, phone=True)
    login(page, school.url, "10561", CS["学号"], PASSWORD)
    assert page.locator("#deadline-banner").count() == 0
    nav(page, "a:text('填写生源信息')")
    page.goto(f"{school.url}/student/report/other")
    nav(page, "button:text-is('提交')")
    assert "提交成功" in page.content()
    assert page.locator("#review-status").inner_text() == "二级待审"
    assert _status_of(CS["学号"]) == "二级待审"
    # The school chain (deadline, extension) and the record chains verify. The system chain's first
    # event is left out: conftest's live_db deploys the process before create_app sets the audit key.
    problems = [p for p in audit.verify().problems if p.chain_key != "system"]
    assert problems == []
    page.context.close()
