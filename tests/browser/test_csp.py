"""The pages still work under the Content-Security-Policy: no CSP violation in the console, no page error.

Every page a role opens is loaded in Chromium while console messages and page errors are collected;
a violation ("Refused to execute inline script …", "Refused to apply inline style …") fails the test.
The script-driven parts are exercised too (the BPMN diagram renders, the region picker fills).
"""

from __future__ import annotations

import pytest

from service.cli.demo import prepare_demo
from service.models import Record
from tests.browser.conftest import login, new_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(live_server):
    return prepare_demo(live_server.settings, students=40, colleges=2, majors=2, unbound=4)


def _watch(page) -> list[str]:
    problems: list[str] = []

    def console(msg) -> None:
        where = (msg.location or {}).get("url", "")
        if where.endswith("/favicon.ico"):
            return
        if msg.type == "error" or "Content Security Policy" in msg.text or "Refused to" in msg.text:
            problems.append(f"console {msg.type}: {msg.text} at {where}")

    page.on("console", console)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    return problems


def _visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 400, url
    assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
    page.wait_for_load_state("networkidle")


def test_console_and_centre_pages_have_no_csp_violations(live_server, browser, demo) -> None:
    base = live_server.url
    page = new_page(browser)
    problems = _watch(page)
    login(page, base, demo.school_code, demo.centre, demo.password)
    record = Record.select().where(Record.school == demo.school_code).order_by(Record.id).first()
    for path in ("/centre/dashboard", "/console/", f"/console/records/{record.id}", f"/console/records/{record.id}/edit",
                 "/centre/roster", "/centre/accounts", "/centre/processes"):
        _visit(page, base + path)
    page.click("a:text('查看流程图')")
    page.wait_for_selector("#diagram[data-rendered='1']")
    assert page.locator("#diagram svg").count() >= 1
    page.wait_for_load_state("networkidle")
    assert problems == [], problems
    page.context.close()


def test_counselor_console_and_student_pages_have_no_csp_violations(live_server, browser, demo) -> None:
    base = live_server.url
    page = new_page(browser)
    problems = _watch(page)
    login(page, base, demo.school_code, demo.counselor, demo.password)
    _visit(page, base + "/console/")
    page.locator("input[type=checkbox]").first.check()  # console.js: batch selection
    page.context.close()

    page = new_page(browser, phone=True)
    problems += _watch(page)
    login(page, base, demo.school_code, demo.student, demo.password)
    for path in ("/student/", "/student/report/school", "/student/report/personal", "/student/report/other"):
        _visit(page, base + path)
    assert problems == [], problems
    page.context.close()
