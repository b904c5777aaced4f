"""Chase and notify in a real Chromium (issue 11): the centre clicks the dashboard's 未绑定 count,
sees the list, sends 提醒; the student, once bound, finds the reminder in the message centre.
Runs on its own fresh database and server.
"""

from __future__ import annotations

import pytest

from service.models import Notification
from service.services import binding, identity, roster
from service.services.actors import ADMIN_ROLE, Actor
from tests.browser.conftest import login, nav, new_page, screenshot
from tests.support import accounts as acc
from tests.support import factories as f
from tests.support import roster_files as rf

pytestmark = pytest.mark.browser

PASSWORD = "student-pass-1"
BOUND, UNBOUND = rf.student(5), rf.student(6)


def _bind(row, settings) -> None:
    token = identity.verify_identity(row["姓名"], row["证件号码"], settings)
    binding.bind(binding.BindRequest(category="mainland", school_code="10561", student_no=row["学号"],
                                     name=row["姓名"], id_type="01", id_number=row["证件号码"],
                                     password=PASSWORD, verification_token=token), settings)


@pytest.fixture(scope="module")
def school(live_server):
    f.school()
    roster.import_roster(rf.xlsx_bytes([BOUND, UNBOUND]), "r.xlsx", school_code="10561", year=2021,
                         actor=Actor(username="ops", role=ADMIN_ROLE, school_code=None))
    acc.make_user("centre", "centre", "10561")
    _bind(BOUND, live_server.settings)
    return live_server


def test_centre_reminds_the_unbound_and_the_student_reads_it(school, browser):
    page = new_page(browser)
    login(page, school.url, "10561", "centre", acc.PASSWORD)
    assert page.url.endswith("/centre/dashboard")  # the centre lands on the dashboard
    count = page.locator("a[data-count-state='未绑定']").first
    assert count.inner_text().strip() == "1"
    nav(page, count)
    assert "/console/chase" in page.url
    rows = page.locator("table >> text=" + UNBOUND["学号"])
    assert rows.count() == 1 and BOUND["学号"] not in page.locator("table").last.inner_text()
    screenshot(page, "chase-01-unbound-list")
    page.check("#chase-remind input[name=confirm]")
    nav(page, "#chase-remind button")
    assert "已向 1 名学生发送提醒" in page.content()
    note = Notification.get(Notification.kind == "reminder")
    assert note.recipient == UNBOUND["学号"] and note.user_id is None
    page.context.close()

    _bind(UNBOUND, school.settings)  # the reminded student binds at last …
    student = new_page(browser, phone=True)
    login(student, school.url, "10561", UNBOUND["学号"], PASSWORD)
    assert "1 条未读消息" in student.content()
    nav(student, "#unread-banner")
    assert "请尽快处理生源信息" in student.content() and "未绑定" in student.content()
    screenshot(student, "chase-02-message-390x844", full_page=False)
    student.context.close()
