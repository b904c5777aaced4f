"""Chase and notify in a real Chromium (issue 11): the centre clicks the dashboard's 未绑定 count,
sees the list, sends 提醒; the student, once bound, finds the reminder in the message centre.
Runs on its own fresh database and server.
"""

from __future__ import annotations

import pytest

from service.models import Notification
from service.services import roster
from service.services.actors import ADMIN_ROLE, Actor
from tests.browser.conftest import login, nav, new_page, screenshot
from tests.support import accounts as acc
from tests.support import factories as f
from tests.support import roster_files as rf

pytestmark = pytest.mark.browser

PASSWORD = "student-pass-1"
BOUND, UNBOUND = rf.student(5), rf.student(6)


@pytest.fixture(scope="module")
def school(live_server):
    f.school()
    roster.import_roster(rf.xlsx_bytes([BOUND, UNBOUND]), "r.xlsx", school_code="10561", year=2021,
                         actor=Actor(username="ops", role=ADMIN_ROLE, school_code=None))
    acc.make_user("centre", "centre", "10561")
    acc.bind_roster_row(BOUND, live_server.settings, PASSWORD)
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
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{school.url}/console/chase?state=未绑定")
    screenshot(page, "chase-03-list-390x844")
    page.goto(f"{school.url}/centre/notifications")
    assert UNBOUND["学号"] in page.locator("#deliveries").inner_text()
    screenshot(page, "chase-04-centre-notifications-390x844")
    note = Notification.get(Notification.kind == "reminder")
    assert note.recipient == UNBOUND["学号"] and note.user_id is None
    page.context.close()

    acc.bind_roster_row(UNBOUND, school.settings, PASSWORD)  # the reminded student binds at last …
    student = new_page(browser, phone=True)
    login(student, school.url, "10561", UNBOUND["学号"], PASSWORD)
    assert "1 条未读消息" in student.content()
    nav(student, "#unread-banner")
    assert "请尽快处理生源信息" in student.content() and "未绑定" in student.content()
    screenshot(student, "chase-02-message-390x844", full_page=False)
    student.context.close()
