"""The review page in Chromium: two-level → three-level, both diagrams coloured, no CSP violation.

An admin opens the review page of the deployed three-level version, sees both diagrams rendered
with the element diff as markers (一级 task, gateway and lane green on the new diagram, the
changed flows amber), the semantic diff and the dry run, expands the refused record ids, then
activates the version for one school only through the form. Screenshots go to
test-artifacts/screenshots/process-review*.png.
"""

from __future__ import annotations

import pytest

from service.cli.demo import prepare_demo
from service.config import PROJECT_ROOT
from service.services import accounts, processes, schools
from service.services.actors import Actor
from tests.browser.conftest import login, nav, new_page, screenshot
from tests.browser.test_csp import _watch

pytestmark = pytest.mark.browser
PASSWORD = "review-page-pass"


@pytest.fixture(scope="module")
def demo(live_server):
    found = prepare_demo(live_server.settings, students=30, colleges=2, majors=2, unbound=2)
    accounts.create_user("root", PASSWORD, "admin", school_code=None, creator=None)
    schools.add_school("10599", "另一所学院")
    return found


def test_review_page_colours_both_diagrams_and_activates_for_one_school(live_server, browser, demo) -> None:
    base = live_server.url
    three = processes.deploy_file(PROJECT_ROOT / "bpmn" / "graduate_report_three_level.bpmn").version
    before = processes.active_version().id
    page = new_page(browser)
    problems = _watch(page)
    login(page, base, "", "root", PASSWORD)
    page.goto(f"{base}/centre/processes/{three.id}/review")
    page.wait_for_selector("#diagram-old[data-rendered='1']")
    page.wait_for_selector("#diagram-new[data-rendered='1']")
    assert page.locator("#diagram-new .djs-element.diff-added[data-element-id='review_level1']").count() == 1
    assert page.locator("#diagram-new .djs-element.diff-added[data-element-id='level1']").count() == 1
    assert page.locator("#diagram-new .djs-element.diff-changed").count() >= 1
    assert page.locator("#diagram-old .djs-element.diff-added").count() == 0
    assert page.locator("#semantic-diff").inner_text().count("一级用户（学院）") >= 1
    assert "二级 → 一级 → 中心" in page.locator("#semantic-diff").inner_text()
    page.wait_for_load_state("networkidle")
    screenshot(page, "process-review")
    if page.locator("#dry-run details").count():
        page.locator("#dry-run details summary").first.click()
        screenshot(page, "process-review-refused-ids")
    assert "还没有账号" in page.locator("#account-gaps").inner_text()

    page.check("input[name=scope][value=chosen]")
    page.check(f"input[name=school][value='{demo.school_code}']")
    assert "二级 → 一级 → 中心" in page.locator("#confirmations").inner_text()  # the new order, named
    page.check("#confirmations input[name=ack]")
    nav(page, "#activate button[type=submit]")
    assert "已对" in page.content() and demo.school_code in page.content()
    screenshot(page, "process-review-activated", full_page=False)
    assert processes.active_version(demo.school_code).id == three.id
    assert processes.active_version().id == before  # the default (every other school) is unchanged
    assert problems == [], problems
    page.context.close()


def test_lane_move_review_names_each_power_change_and_needs_every_tick(live_server, browser, demo) -> None:
    from tests.support.bpmn_edits import centre_task_into_level1

    base = live_server.url
    xml = (PROJECT_ROOT / "bpmn" / "graduate_report_three_level.bpmn").read_bytes()
    three = processes.deploy(xml, "graduate_report_three_level.bpmn").version
    processes.activate(str(three.id), actor=Actor("root", "admin", None))
    moved = processes.deploy(centre_task_into_level1(xml), "moved.bpmn").version
    page = new_page(browser)
    problems = _watch(page)
    login(page, base, "", "root", PASSWORD)
    page.goto(f"{base}/centre/processes/{moved.id}/review")
    page.wait_for_selector("#diagram-new[data-rendered='1']")
    assert page.locator("#diagram-new .djs-element.diff-changed[data-element-id='review_centre']").count() == 1
    boxes = page.locator("#confirmations input[name=ack]")
    assert boxes.count() == 3
    assert "中心（就业指导中心） 不再是最后一级，一级用户（学院） 将能看到完整证件号码" in page.locator(
        "#confirmations").inner_text()
    page.wait_for_load_state("networkidle")
    screenshot(page, "process-review-confirm")
    boxes.nth(0).check()
    nav(page, "#activate button[type=submit]")
    assert "启用前须逐项确认以下权限变化" in page.locator("#activate .alert.error").inner_text()
    assert processes.active_version().id == three.id
    page.locator("#activate").scroll_into_view_if_needed()
    screenshot(page, "process-review-refused", full_page=False)
    page.wait_for_selector("#diagram-new[data-rendered='1']")
    for i in range(page.locator("#confirmations input[name=ack]").count()):
        page.locator("#confirmations input[name=ack]").nth(i).check()
    nav(page, "#activate button[type=submit]")
    assert processes.active_version().id == moved.id
    refused_load = [p for p in problems if "status of 422" in p and "/activate" in p]
    assert len(refused_load) == 1  # the refused activation itself, a 422 page by design
    assert [p for p in problems if p not in refused_load] == [], problems
    page.context.close()
