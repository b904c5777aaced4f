"""The process studio in a real Chromium: the bpmn-js Modeler with gradflow's properties group.

- every shipped file, opened in the editor and exported unchanged, is the same version (no new one);
- an admin turns the two-level process into a three-level one through the properties panel (shapes
  are created with the modeling API, every gradflow property through the panel's inputs), sees the
  server's problems until the panel is complete, deploys without activating, lands on the review page;
- the page runs under the CSP without a violation.
The tests share one server and run in file order.
"""

from __future__ import annotations

import difflib
from typing import Any

import pytest

from service.cli.demo import prepare_demo
from service.config import PROJECT_ROOT
from service.models import ProcessVersion
from service.services import processes
from tests.browser.conftest import login, new_page, screenshot

pytestmark = pytest.mark.browser

SHIPPED = sorted((PROJECT_ROOT / "bpmn").glob("*.bpmn"))


@pytest.fixture(scope="module")
def demo(live_server):
    return prepare_demo(live_server.settings, students=12, colleges=1, majors=2, unbound=2)


def _watch(page) -> list[str]:
    problems: list[str] = []

    def console(msg) -> None:
        if msg.type == "error" or "Content Security Policy" in msg.text or "Refused to" in msg.text:
            problems.append(f"console {msg.type}: {msg.text}")

    page.on("console", console)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    return problems


def _admin(browser, live_server, demo):
    page = new_page(browser)
    problems = _watch(page)
    login(page, live_server.url, "", demo.admin, demo.password)
    return page, problems


def _open_editor(page, base: str, version_id: int | None = None) -> None:
    page.goto(f"{base}/admin/processes/new" + (f"?from={version_id}" if version_id else ""))
    page.wait_for_selector("#studio[data-loaded='1']")


def _wait_checked(page) -> None:
    """Until the server has answered the check of the diagram as it is now."""
    page.wait_for_function("document.getElementById('studio').dataset.checked")


def _problems(page) -> list[str]:
    _wait_checked(page)
    return page.locator("#studio-problems li").all_inner_texts()


def _save_xml(page) -> str:
    return page.evaluate("async () => (await window.gradflowStudio.saveXML({format: true})).xml")


def _post(page, url: str, body: dict[str, Any]) -> dict[str, Any]:
    return page.evaluate("""async ([url, body]) => {
        const csrf = document.querySelector('meta[name=csrf-token]').content;
        const r = await fetch(url, {method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}});
        return {status: r.status, data: await r.json()};
    }""", [url, body])


def test_every_shipped_file_exported_unchanged_is_the_same_version(live_server, browser, demo) -> None:
    page, console = _admin(browser, live_server, demo)
    for path in SHIPPED:
        deployed = processes.deploy(path.read_bytes(), path.name, activate=False).version
        before = ProcessVersion.select().count()
        _open_editor(page, live_server.url, deployed.id)
        exported = _save_xml(page)
        answer = _post(page, "/api/v1/processes", {"bpmn": exported, "source_name": path.name})
        if answer["data"].get("id") != deployed.id:
            diff = "\n".join(difflib.unified_diff(path.read_text(encoding="utf-8").splitlines(), exported.splitlines(),
                                                  "shipped", "exported", lineterm="", n=1))
            print(f"--- {path.name}: bpmn-js export differs from the shipped file:\n{diff}")
        assert answer["status"] == 200, answer
        assert answer["data"]["created"] is False and answer["data"]["id"] == deployed.id, answer
        assert ProcessVersion.select().count() == before
    assert console == [], console
    page.context.close()
