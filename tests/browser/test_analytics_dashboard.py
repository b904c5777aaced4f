"""The centre opens the dashboard in Chromium and sees the burn-down drawn by ECharts (an SVG with
its lines) and the table behind it with the figures of the fixed history (tests/support/
analytics_history.py, moved by whole days so that its "now" is today: the server runs on the
real clock). No CSP violation and no script error on the page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import login, new_page, screenshot
from tests.support import analytics_history as h
from tests.support import reviewing as rv

pytestmark = pytest.mark.browser


def test_centre_dashboard_shows_the_burndown_chart_and_its_table(live_server, browser) -> None:
    shift = h.shift_to_today()
    h.build(live_server.settings, shift)
    day = lambda md: (h.at(md, "12:00") + shift).date().isoformat()  # noqa: E731 - a label helper
    problems: list[str] = []
    page = new_page(browser)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: problems.append(msg.text)
            if (msg.type == "error" or "Content Security Policy" in msg.text)
            and not (msg.location or {}).get("url", "").endswith("/favicon.ico") else None)
    login(page, live_server.url, "10561", "cent1", rv.PASSWORD)
    if not page.url.endswith("/centre/dashboard"):
        page.goto(live_server.url + "/centre/dashboard")

    chart = page.locator("#chart-burndown")
    page.wait_for_selector("#chart-burndown[data-rendered='1']")
    assert chart.locator("svg").count() == 1
    assert chart.locator("svg path").count() >= 3  # the completed, remaining and projected lines at least
    svg_text = chart.locator("svg").text_content() or ""
    assert "累计完成" in svg_text and "应报 7" in svg_text  # legend and the total's mark line
    assert page.locator("#burndown-projection").inner_text() == "按当前进度，截止日预计完成 29%"
    rule = page.locator("#burndown-rule").inner_text()
    assert "最近 7 天" in rule and "截止日预计完成 2 人" in rule and "应报 7 人" in rule  # 2 + 5/7 → 2 of 7

    table = page.locator("#table-burndown")
    assert table.is_visible()
    headers = table.locator("thead th").all_inner_texts()
    assert headers == ["日期", "当日完成", "累计完成", "未完成", "完成率（%）"]
    rows = [r.locator("th, td").all_inner_texts() for r in table.locator("tbody tr").all()]
    # completed at the end of each day: 0, 1 (A), 1, 2 (B), then 2 up to today; 7 expected in all
    assert rows[:4] == [[day("10-01"), "0", "0", "7", "0"], [day("10-02"), "1", "1", "6", "14.3"],
                        [day("10-03"), "0", "1", "6", "14.3"], [day("10-04"), "1", "2", "5", "28.6"]]
    assert len(rows) == 10 and rows[-1] == [day("10-10"), "0", "2", "5", "28.6"]
    for key in ("backlog", "durations", "rejection_rates", "rejection_reasons", "throughput"):
        assert page.locator(f"#chart-{key}[data-rendered='1'] svg").count() == 1, key
        assert page.locator(f"#table-{key}").is_visible(), key
    screenshot(page, "centre-dashboard-analytics")
    assert problems == [], problems
    assert shift >= timedelta(0)
    page.context.close()
