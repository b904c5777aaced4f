"""The analytics API over HTTP: the hand-computed figures of the fixed history come back as JSON,
the export is an audited .xlsx of the same table, scope is enforced (another school is 404), and
hostile filters are 4xx with a Chinese message, never a 500 (also fuzzed with schemathesis)."""

from __future__ import annotations

import io

import openpyxl
import pytest
import schemathesis

from service import clock
from service.models import AuditEvent
from tests.support import analytics_history as h
from tests.support import reviewing as rv
from tests.support.fuzz import server_errors


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def history(db, settings):
    found = h.build(settings)
    rv.user("sheng", "province", None)
    rv.user("stuA", "student", found.world.school)
    return found


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_the_api_returns_the_hand_computed_figures(app, history) -> None:
    with clock.fixed(h.NOW):
        api = rv.login(app, "cent1")
        burn = api.get("/api/v1/analytics/burndown").get_json()
        # see test_analytics.py for the arithmetic: 7 expected, 2 done, 1 in the last 7 days, 5 days left
        assert (burn["total"], burn["completed_now"], burn["projected"], burn["pace"]) == (7, 2, 2, 0.14)
        assert burn["completed"] == [0, 1, 1, 2, 2, 2, 2, 2, 2, 2]
        assert burn["sentence"] == "按当前进度，截止日预计完成 29%" and "最近 7 天" in burn["rule"]
        dur = {s["status"]: s for s in api.get("/api/v1/analytics/durations").get_json()["statuses"]}
        assert (dur["未提交"]["median_hours"], dur["未提交"]["p90_hours"]) == (13.5, 40.8)
        groups = api.get("/api/v1/analytics/durations?by=reviewer").get_json()["groups"]
        assert {"group": "cent1", "status": "中心待审", "count": 3, "median_hours": 20.0, "p90_hours": 23.2} in groups
        assert api.get("/api/v1/analytics/durations?by=nobody").status_code == 422
        rej = api.get("/api/v1/analytics/rejections?top=1").get_json()
        assert [(x["level"], x["rate"]) for x in rej["levels"]] == [("二级", 40.0), ("中心", 33.3)]
        assert [(x["text"], x["count"]) for x in rej["reasons"]] == [("请核对 生源地！", 2)]
        thr = api.get("/api/v1/analytics/throughput?reviewer=cent1").get_json()["rows"]
        assert [(r["day"], r["count"]) for r in thr] == [("2026-10-02", 1), ("2026-10-03", 1), ("2026-10-04", 1)]
        back = api.get("/api/v1/analytics/backlog?since=2026-10-02&until=2026-10-02").get_json()
        assert back["days"] == ["2026-10-02"] and back["counts"]["未提交"] == [2] and back["counts"]["完成"] == [1]
        # a college filter: only E (外国语学院), never submitted, plus the unbound student of that college
        burn_c2 = api.get(f"/api/v1/analytics/burndown?college={history.world.c2.id}").get_json()
        assert (burn_c2["total"], burn_c2["completed_now"]) == (2, 0)


def test_export_is_the_same_table_and_is_audited(app, history) -> None:
    with clock.fixed(h.NOW):
        api = rv.login(app, "cent1")
        before = AuditEvent.select().where(AuditEvent.action == "export").count()
        r = api.get("/api/v1/analytics/export.xlsx?table=burndown")
        assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
        assert "attachment" in r.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["日期", "当日完成", "累计完成", "未完成", "完成率（%）"]
    assert rows[1] == ["2026-10-01", "0", "0", "7", "0"]
    assert rows[4] == ["2026-10-04", "1", "2", "5", "28.6"]
    assert "按当前进度，截止日预计完成 29%" in rows[-1][0]
    events = list(AuditEvent.select().where(AuditEvent.action == "export").order_by(AuditEvent.id))
    assert len(events) == before + 1
    assert events[-1].actor == "cent1" and events[-1].school == "10561"
    assert events[-1].data_changed["kind"] == "analytics_xlsx" and events[-1].data_changed["table"] == "burndown"
    assert events[-1].data_changed["full_id_number"] is False  # figures, no 证件号码, even for the centre


def test_scope_other_school_is_404_province_sees_every_school_students_refused(app, history) -> None:
    with clock.fixed(h.NOW):
        centre = rv.login(app, "cent1")
        r = centre.get("/api/v1/analytics/durations?school=10562")
        assert r.status_code == 404 and _chinese(r.get_json()["message"])
        province = rv.login(app, "sheng", None)
        assert province.get("/api/v1/analytics/burndown?school=10561").get_json()["total"] == 7
        everywhere = province.get("/api/v1/analytics/throughput").get_json()["rows"]
        assert sum(x["count"] for x in everywhere) == 8
        missing = province.get("/api/v1/analytics/burndown?school=99999")
        assert missing.status_code == 404 and _chinese(missing.get_json()["message"])
        other = province.get("/api/v1/analytics/throughput?school=10562").get_json()["rows"]
        assert other == []
        student = rv.login(app, "stuA")
        assert student.get("/api/v1/analytics/burndown").status_code == 403
        assert rv.login(app, None).get("/api/v1/analytics/burndown").status_code == 401


HOSTILE = [
    "since=2026-13-01", "since=not-a-date", "since=2026-10-05&until=2026-10-01", "since=1900-01-01",
    "since=2000-01-01&until=2026-01-01", "until=99999-01-01", "reviewer=a%00b", "reviewer=" + "x" * 65,
    "college=0", "college=99999999999999999999", "college=abc", "major=-1", "school=%00", "school=" + "9" * 11,
    "school=中文", "top=0", "top=100000", "since=%00",
    "&".join(f"college={i}" for i in range(1, 102)),
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_filters_are_4xx_in_chinese(app, history, query: str) -> None:
    api = rv.login(app, "cent1")
    for path in ("rejections", "durations", "backlog"):
        if query.startswith("top=") and path != "rejections":
            continue
        r = api.get(f"/api/v1/analytics/{path}?{query}")
        assert 400 <= r.status_code < 500, (path, query, r.status_code, r.data[:300])
        body = r.get_json()
        assert set(body) == {"code", "message", "details"} and _chinese(body["message"]), body
    r = api.get("/api/v1/analytics/export.xlsx?table=../../etc")
    assert r.status_code == 422


def test_no_server_errors_in_the_analytics_api(app, history) -> None:
    sessions = []
    for username, school in (("cent1", "10561"), ("sheng", "")):
        client = app.test_client()
        r = client.post("/api/v1/auth/login", json={"username": username, "password": rv.PASSWORD,
                                                     "school_code": school})
        assert r.status_code == 200, r.get_json()
        sessions.append({"cookies": {"session": client.get_cookie("session").value},
                         "headers": {"X-CSRF-Token": r.get_json()["csrf_token"]}})
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).include(path_regex=r"^/api/v1/analytics/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    failures = server_errors(operations, sessions, 8)
    assert not failures, "\n".join(failures)
