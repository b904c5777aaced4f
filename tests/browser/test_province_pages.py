"""The province's pages in Chromium: 全省进度 on a phone (fits, the table scrolls in its frame),
sorting by a column, a school's colleges, and an export button that shows its progress and saves
the workbook (province.js, no inline script: the page's CSP would block one)."""

from __future__ import annotations

import pytest

from service.cli.demo import prepare_demo
from tests.browser.conftest import PHONE, login, nav, new_page, screenshot
from tests.support import reviewing as rv

pytestmark = pytest.mark.browser


def test_province_overview_sort_drill_down_and_export(live_server, browser):
    logins = prepare_demo(live_server.settings, students=60, colleges=2, majors=4, unbound=4)
    rv.user("sheng", "province", None)
    errors: list[str] = []
    page = new_page(browser, phone=True, downloads=True)
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # a script error (or one CSP blocked)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    login(page, live_server.url, "", "sheng", rv.PASSWORD)
    assert page.url.endswith("/province")
    assert page.locator("h1").inner_text() == "全省生源信息填报进度"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"/province is {width}px wide on a phone"
    frame = page.locator(".table-wrap")
    assert frame.evaluate("el => el.scrollWidth > el.clientWidth")
    row = page.locator(f"tr[data-school='{logins.school_code}']")
    assert row.count() == 1
    screenshot(page, "province-phone")

    nav(page, "th a[data-sort='completed']")
    assert "sort=completed" in page.url
    assert page.locator("th a[data-sort='completed']").get_attribute("aria-sort") == "ascending"

    nav(page, row.locator("a").first)
    assert page.url.endswith(f"/province/schools/{logins.school_code}")
    assert page.locator("#province-colleges tbody tr").count() >= 3  # two colleges and the total
    assert "审核顺序" in page.locator("#school-levels").inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the school page is {width}px wide on a phone"
    screenshot(page, "province-school-phone")

    button = page.locator("a[data-province-export]")
    with page.expect_download() as download:
        button.click()
    saved = download.value
    assert saved.suggested_filename.endswith(".xlsx") and logins.school_code in saved.suggested_filename
    status = page.locator(".export-progress")
    status.filter(has_text="导出完成").wait_for()
    assert "条记录" in status.inner_text()
    assert not errors, errors
    page.context.close()
