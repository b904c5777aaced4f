"""Issue 10: the reviewer console was 770 px wide on a 390 px phone. It must fit the screen: the
records table scrolls inside its own frame, everything else wraps."""

from __future__ import annotations

import pytest

from service.cli.demo import prepare_demo
from tests.browser.conftest import login, new_page, screenshot

pytestmark = pytest.mark.browser


def test_console_fits_a_390px_phone(live_server, browser):
    logins = prepare_demo(live_server.settings, students=80, colleges=2, majors=4, unbound=4)
    page = new_page(browser, phone=True)
    login(page, live_server.url, logins.school_code, logins.counselor, logins.password)
    for path in ("/console/", "/console/records/new"):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide on a 390px phone"
    page.goto(live_server.url + "/console/")
    frame = page.locator(".table-wrap")
    assert frame.evaluate("el => el.scrollWidth > el.clientWidth")  # the table scrolls in its frame
    screenshot(page, "console-phone")
    page.context.close()
