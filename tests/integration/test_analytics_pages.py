"""The centre's dashboard shows the analytics: charts' data, the tables with the hand-computed
figures of the fixed history, working .xlsx exports (audited), and a bad filter as a 422 page."""

from __future__ import annotations

import io
import json
import re
from html import unescape

import openpyxl
import pytest

from service import clock
from service.models import AuditEvent
from tests.support import analytics_history as h
from tests.support import reviewing as rv


def _table(html: str, key: str) -> list[list[str]]:
    body = re.search(rf'<table class="grid" id="table-{key}">(.*?)</table>', html, re.S)
    assert body, key
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [[unescape(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


def test_dashboard_tables_charts_and_exports(app, db, settings) -> None:
    h.build(settings)
    with clock.fixed(h.NOW):
        client, _ = rv.page_login(app, "cent1", "10561")
        page = client.get("/centre/dashboard")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "按当前进度，截止日预计完成 29%" in html and "最近 7 天" in html
        burn = _table(html, "burndown")
        assert burn[0] == ["日期", "当日完成", "累计完成", "未完成", "完成率（%）"]
        assert burn[1] == ["2026-10-01", "0", "0", "7", "0"] and burn[4] == ["2026-10-04", "1", "2", "5", "28.6"]
        assert _table(html, "durations")[1] == ["未提交", "4", "13.5", "40.8", "1"]
        assert _table(html, "rejection_rates")[1:] == [["二级", "5", "2", "40"], ["中心", "3", "1", "33.3"]]
        assert ["coun1", "二级待审", "5", "12", "24"] in _table(html, "durations_by_reviewer")
        assert _table(html, "durations_by_college")[1] == ["计算机科学与工程学院", "未提交", "4", "13.5", "40.8"]
        assert _table(html, "rejection_reasons")[1] == ["请核对 生源地！", "2", "66.7"]
        assert ["2026-10-03", "10561", "cent1", "cent1", "1", "1"] in _table(html, "throughput")  # C's rejection
        assert _table(html, "backlog")[2] == ["2026-10-02", "2", "0", "1", "1", "1"]
        # the chart draws the same figures (JSON in data-chart, read by static/js/analytics.js)
        chart = json.loads(unescape(re.search(r"id=\"chart-burndown\"[^>]*data-chart='([^']*)'", html).group(1)))
        assert chart["completed"] == [0, 1, 1, 2, 2, 2, 2, 2, 2, 2] and chart["projection"]["end"] == 2
        assert chart["projection"]["to"] == "2026-10-15"
        assert "<script>" not in html  # CSP: scripts only from files
        # every table exports; each export is audited
        before = AuditEvent.select().where(AuditEvent.action == "export").count()
        links = re.findall(r'href="(/analytics/export\.xlsx\?[^"]+)"', html)
        assert len(links) == 8  # the six charts' tables and the durations by college and by reviewer
        for link in links:
            r = client.get(unescape(link))
            assert r.status_code == 200, link
            openpyxl.load_workbook(io.BytesIO(r.data))
        assert AuditEvent.select().where(AuditEvent.action == "export").count() == before + 8
        # a filter narrows the tables: only 10-02, only cent1
        html = client.get("/centre/dashboard?since=2026-10-02&until=2026-10-02&reviewer=cent1").get_data(as_text=True)
        assert _table(html, "throughput")[1:] == [["2026-10-02", "10561", "cent1", "cent1", "1", "0"]]
        bad = client.get("/centre/dashboard?since=2026-02-30")
        assert bad.status_code == 422 and "开始日期「2026-02-30」格式不正确" in bad.get_data(as_text=True)
        assert client.get("/analytics/export.xlsx?table=nope").status_code == 422
        rv.user("stuX", "student", rv.School.get_by_id("10561"))
        student, _ = rv.page_login(app, "stuX", "10561")
        assert student.get("/analytics/export.xlsx?table=burndown").status_code == 403
        assert student.get("/centre/dashboard").status_code == 403


def test_province_school_page_shows_that_schools_analytics(app, db, settings) -> None:
    h.build(settings)
    rv.user("sheng", "province", None)
    with clock.fixed(h.NOW):
        client, _ = rv.page_login(app, "sheng", None)
        html = client.get("/province/schools/10561").get_data(as_text=True)
        assert "按当前进度，截止日预计完成 29%" in html
        assert _table(html, "rejection_rates")[1:] == [["二级", "5", "2", "40"], ["中心", "3", "1", "33.3"]]
        links = re.findall(r'href="(/analytics/export\.xlsx\?[^"]+)"', html)
        assert links and all("school=10561" in unescape(x) for x in links)
        assert client.get(unescape(links[0])).status_code == 200
        # the other school has no history: empty tables, no error; the ?school= of the query cannot widen it
        other = client.get("/province/schools/10562?school=10561").get_data(as_text=True)
        assert _table(other, "rejection_rates")[1:] == [["二级", "0", "0", "0"], ["中心", "0", "0", "0"]]


HOSTILE_PAGE_QUERIES = [
    "since=2026-02-30", "since=20261001", "until=99999-01-01", "since=2026-10-05&until=2026-10-01",
    "since=1999-12-31", "reviewer=a%00b", "college=abc", "college=99999999999", "major=-3",
    "school=10562", "school=%00", "since=" + "9" * 5000,
    "&".join(f"major={i}" for i in range(1, 102)),
]


@pytest.mark.parametrize("query", HOSTILE_PAGE_QUERIES)
def test_hostile_dashboard_filters_are_4xx_pages_in_chinese(app, db, settings, query: str) -> None:
    h.build(settings)
    client, _ = rv.page_login(app, "cent1", "10561")
    for path in ("/centre/dashboard", "/analytics/export.xlsx?table=durations&"):
        r = client.get(f"{path}{'' if path.endswith('&') else '?'}{query}")
        assert 400 <= r.status_code < 500, (path, query, r.status_code)
        text = r.get_data(as_text=True)
        assert re.search(r"[\u4e00-\u9fff]", text) and "Traceback" not in text
    assert AuditEvent.select().where(AuditEvent.action == "export").count() == 0  # nothing exported


def test_admin_dashboard_asks_for_a_school_then_shows_its_analytics(app, db, settings) -> None:
    h.build(settings)
    rv.user("root", "admin", None)
    with clock.fixed(h.NOW):
        client, _ = rv.page_login(app, "root", None)
        html = client.get("/centre/dashboard").get_data(as_text=True)
        assert "请选择学校后查看过程分析" in html and 'id="table-burndown"' not in html
        assert '<option value="10561"' in html
        html = client.get("/centre/dashboard?school=10561").get_data(as_text=True)
        assert "按当前进度，截止日预计完成 29%" in html
        assert _table(html, "rejection_rates")[1:] == [["二级", "5", "2", "40"], ["中心", "3", "1", "33.3"]]
