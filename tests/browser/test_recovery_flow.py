"""Account recovery in a real Chromium (issue 10, dead end 2).

A mainland student who forgot the password follows 忘记密码 from the login page, repeats 实名认证,
matches the roster, sets a new password and is in. A counselor unlocks a student locked out by
failed logins (who then logs in at once), then resets the password to a one-time code; the student
logs in with the code, is held on 修改密码 until a new password is set, and gets in.
Runs on its own fresh database and server.
"""

from __future__ import annotations

import pytest

from service.errors import PermissionDenied, Unauthorized
from service.models import Record
from service.services import accounts, audit, roster
from service.services.actors import ADMIN_ROLE, Actor
from tests.browser.conftest import login, nav, new_page, screenshot
from tests.support import accounts as acc
from tests.support import factories as f
from tests.support import roster_files as rf

pytestmark = pytest.mark.browser

PASSWORD = "student-pass-1"
NEW_PASSWORD = "found-my-way-back-7"
FORGETFUL, LOCKED = rf.student(1), rf.student(2)  # both 计算机学院


@pytest.fixture(scope="module")
def school(live_server):
    f.school()
    roster.import_roster(rf.xlsx_bytes([FORGETFUL, LOCKED]), "r.xlsx", school_code="10561", year=2021,
                         actor=Actor(username="ops", role=ADMIN_ROLE, school_code=None))
    acc.make_user("coun1", "counselor", "10561", colleges=["计算机学院"])
    for row in (FORGETFUL, LOCKED):
        acc.bind_roster_row(row, live_server.settings, PASSWORD)
    return live_server


def test_student_forgets_the_password_and_gets_back_in(school, browser):
    page = new_page(browser, phone=True)
    page.goto(f"{school.url}/login")
    nav(page, "#forgot-link")
    nav(page, "#forgot-mainland")
    page.fill("input[name=name]", FORGETFUL["姓名"])
    page.fill("input[name=id_number]", FORGETFUL["证件号码"])
    nav(page, "button:text('开始验证')")
    assert "/student/forgot" in page.url
    page.fill("#b-school", "10561")
    page.fill("#b-no", FORGETFUL["学号"])
    page.fill("#b-pw", NEW_PASSWORD)
    page.fill("#b-pw2", NEW_PASSWORD)
    screenshot(page, "recovery-01-forgot-390x844", full_page=False)
    nav(page, "button:text('重设密码')")
    assert page.url.endswith("/student/")
    assert "密码已重新设置" in page.content()
    nav(page, "button:text('退出')")
    login(page, school.url, "10561", FORGETFUL["学号"], PASSWORD)
    assert "/login" in page.url  # the old password is gone
    login(page, school.url, "10561", FORGETFUL["学号"], NEW_PASSWORD)
    assert page.url.endswith("/student/")
    page.context.close()


def test_counselor_unlocks_then_resets_a_student(school, browser):
    settings = school.settings
    for _ in range(settings.login_max_failures):  # somebody guessed from the student's address
        with pytest.raises(Unauthorized):
            accounts.authenticate(LOCKED["学号"], "not-the-password-0", "10561", client="127.0.0.1", settings=settings)
    with pytest.raises(PermissionDenied):
        accounts.authenticate(LOCKED["学号"], PASSWORD, "10561", client="127.0.0.1", settings=settings)
    record = Record.get(Record.student_no == LOCKED["学号"])

    staff = new_page(browser)
    login(staff, school.url, "10561", "coun1", acc.PASSWORD)
    staff.goto(f"{school.url}/console/records/{record.id}")
    nav(staff, "#unlock-student")
    assert "已解除登录锁定" in staff.locator("#account-action").inner_text()

    student = new_page(browser, phone=True)
    login(student, school.url, "10561", LOCKED["学号"], PASSWORD)
    assert student.url.endswith("/student/")  # in at once
    nav(student, "button:text('退出')")

    nav(staff, "#account-back")
    nav(staff, "#reset-student-password")
    code = staff.locator("#one-time-code").inner_text().strip()
    assert len(code) == 12
    screenshot(staff, "recovery-02-one-time-code", full_page=False)

    login(student, school.url, "10561", LOCKED["学号"], PASSWORD)
    assert "/login" in student.url  # the old password no longer works
    login(student, school.url, "10561", LOCKED["学号"], code)
    assert student.url.endswith("/password") and student.locator("#must-change").is_visible()
    student.goto(f"{school.url}/student/report/school")
    assert student.url.endswith("/password")  # nothing else opens until it is changed
    student.fill("input[name=current_password]", code)
    student.fill("input[name=password]", NEW_PASSWORD)
    student.fill("input[name=password2]", NEW_PASSWORD)
    nav(student, "button:text('保存新密码')")
    assert student.url.endswith("/student/") and "密码已修改" in student.content()
    history = staff.goto(f"{school.url}/console/records/{record.id}?tab=history")
    assert history is not None
    text = staff.locator("#history").inner_text()
    assert "解除锁定" in text and "重置密码" in text
    problems = [p for p in audit.verify().problems if p.chain_key != "system"]
    assert problems == []
    student.context.close()
    staff.context.close()
