"""Browser tests: the app served by werkzeug in a thread, driven by Debian's Chromium via Playwright.

Each test module gets its own fresh SQLite database and server (module scope: the flows in a
module build on each other's state); one Chromium runs for the session. Screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT, Settings, load_settings
from service.db import bind_database, open_database
from service.migrations import upgrade
from service.services import processes

pytestmark = pytest.mark.browser

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    url: str
    settings: Settings


@pytest.fixture(scope="module")
def live_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("browser")
    deadline = (datetime.now(UTC) + timedelta(days=12, hours=5)).astimezone(timezone(timedelta(hours=8)))
    return load_settings(environ={}, database_url=f"sqlite:///{folder / 'gradflow.db'}",
                         instance_path=str(folder / "instance"), secret_key="browser-test-secret-" + "y" * 32,
                         deadline=deadline.isoformat(timespec="minutes"), notify_worker=False)


@pytest.fixture(scope="module")
def live_db(live_settings: Settings):
    handle = bind_database(open_database(live_settings.resolved_database_url,
                                         busy_timeout=live_settings.sqlite_busy_timeout))
    from service.services import audit

    audit.use_key(live_settings)  # before the deploy below writes to the system chain
    upgrade(handle)
    processes.clear_cache()
    processes.ensure_configured_process(live_settings.process_path)
    yield handle
    if not handle.is_closed():
        handle.close()
    processes.clear_cache()  # definitions are cached per database object; this one is going away


@pytest.fixture(scope="module")
def live_server(live_settings: Settings, live_db) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    from service import create_app

    app = create_app(live_settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", live_settings)
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser, *, phone: bool = False, downloads: bool = False):
    context = browser.new_context(viewport=PHONE if phone else DESKTOP, locale="zh-CN",
                                  device_scale_factor=1, accept_downloads=downloads,
                                  is_mobile=phone, has_touch=phone)
    context.set_default_timeout(15_000)
    return context.new_page()


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def nav(page, target) -> None:
    """Click something that loads a new page (a link or a form submit) and wait for that page."""
    locator = page.locator(target) if isinstance(target, str) else target
    with page.expect_navigation():
        locator.click()


def login(page, base: str, school_code: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=school_code]", school_code)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    nav(page, "button[type=submit]")
