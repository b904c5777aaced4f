"""The province's own view (省级, issue 13): every school's progress, drill down, audited export.

Two schools on different processes (tests/support/province.py): the levels a school shows are its
active version's, not constants. The overview costs the same number of queries for 2 schools as for
14. The export holds the completed records of all schools (or one), in the national column order,
with full 证件号码, and is audited.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from service.db import write_transaction
from service.documents.columns import load_columns
from service.errors import InvalidInput, PermissionDenied
from service.models import AuditEvent, College, Major, ProcessActivation, School, SchoolDeadline
from service.services import accounts, processes, province
from service.services.actors import Actor
from tests.support import reviewing as rv
from tests.support.province import ADMIN, make_province

BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def settings(settings):  # noqa: ANN001 - conftest's settings, counting on every request here
    return dataclasses.replace(settings, province_counts_seconds=0.0)


@pytest.fixture
def prov(db):
    return make_province()


def _login(app):
    return rv.login(app, "sheng", None)


def _row(body: dict, code: str) -> dict:
    return next(r for r in body["items"] if r["code"] == code)


@BOTH_DATABASES
def test_overview_counts_each_school_at_the_levels_of_its_own_process(app, prov) -> None:
    r = _login(app).get("/api/v1/province/schools")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["levels"] == ["二级", "一级", "中心"]
    two, three = _row(body, "10561"), _row(body, "10562")
    assert [lv["level"] for lv in two["levels"]] == ["二级", "中心"]
    assert [(lv["level"], lv["count"]) for lv in three["levels"]] == [("二级", 1), ("一级", 1), ("中心", 0)]
    assert {lv["level"]: lv["count"] for lv in two["levels"]} == {"二级": 2, "中心": 1}
    assert (two["records"], two["unbound"], two["expected"]) == (7, 2, 9)
    assert (two["unsubmitted"], two["submitted"], two["pending"]) == (1, 6, 3)
    assert (two["rejected"], two["completed"], two["percent"]) == (1, 2, 22.2)
    assert (three["records"], three["completed"], three["rejected"], three["pending"]) == (3, 1, 0, 2)
    total = body["total"]
    assert (total["records"], total["completed"], total["unbound"]) == (10, 3, 2)
    assert {lv["level"]: lv["count"] for lv in total["levels"]} == {"二级": 3, "一级": 1, "中心": 1}


def test_overview_deadlines_and_sorting(app, prov) -> None:
    with write_transaction():
        SchoolDeadline.create(school="10562", deadline=datetime(2021, 6, 30, 10, 0))
    api = _login(app)
    body = api.get("/api/v1/province/schools?sort=-completed").get_json()
    assert [r["code"] for r in body["items"]] == ["10561", "10562"] and body["sort"] == "-completed"
    assert [r["code"] for r in api.get("/api/v1/province/schools?sort=completed").get_json()["items"]] == \
        ["10562", "10561"]
    three = _row(body, "10562")
    assert three["deadline"].startswith("2021-06-30T10:00") and three["deadline_source"] == "school"
    assert three["deadline_passed"] is True
    bad = api.get("/api/v1/province/schools?sort=drop table")
    assert bad.status_code == 422 and "排序" in bad.get_json()["message"]


@BOTH_DATABASES
def test_drill_down_to_a_school_and_its_colleges(app, prov) -> None:
    api = _login(app)
    body = api.get("/api/v1/province/schools/10561").get_json()
    assert [lv["level"] for lv in body["levels"]] == ["二级", "中心"]
    colleges = {c["name"]: c for c in body["colleges"]}
    cs = colleges["计算机科学与工程学院"]
    assert (cs["records"], cs["completed"], cs["unbound"]) == (5, 2, 1)
    assert cs["by_status"] == {"二级待审": 1, "中心待审": 1, "完成": 2, "不同意": 1}
    assert colleges["外国语学院"]["by_status"] == {"二级待审": 1, "未提交": 1}
    assert body["total"]["expected"] == 9
    three = api.get("/api/v1/province/schools/10562").get_json()
    assert [lv["level"] for lv in three["levels"]] == ["二级", "一级", "中心"]
    assert three["total"]["by_status"] == {"二级待审": 1, "一级待审": 1, "完成": 1}
    for code in ("99999", "x" * 40, "10561%00", "..%2F"):
        r = api.get(f"/api/v1/province/schools/{code}")
        assert r.status_code in (404, 422), code  # the hardening layer refuses NUL before the view
        assert set(r.get_json()) == {"code", "message", "details"}


def _sheet(data: bytes) -> list[list[str]]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return [["" if v is None else str(v) for v in row] for row in wb.worksheets[0].iter_rows(values_only=True)]


@BOTH_DATABASES
def test_export_of_all_schools_holds_the_completed_records_in_the_national_order(app, prov) -> None:
    r = _login(app).get("/api/v1/province/export.xlsx")
    assert r.status_code == 200
    assert r.headers["X-Export-Rows"] == "3"
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    rows = _sheet(r.data)
    columns = load_columns()
    assert rows[0][:len(columns)] == [c.header for c in columns]
    id_col = next(i for i, c in enumerate(columns) if c.field == "id_number")
    no_col = next(i for i, c in enumerate(columns) if c.field == "student_no")
    expected = sorted((rec.school_id, rec.student_no, rec.id_number) for rec in prov.complete)
    assert [(row[no_col], row[id_col]) for row in rows[1:]] == [(no, number) for _, no, number in expected]
    assert all("*" not in row[id_col] for row in rows[1:])  # full numbers, as the centre's export
    event = AuditEvent.select().where(AuditEvent.action == "export").order_by(AuditEvent.id.desc()).get()
    assert (event.chain_key, event.actor, event.actor_role) == ("system", "sheng", "province")
    assert event.data_changed["kind"] == "province_xlsx" and event.data_changed["full_id_number"] is True
    assert (event.data_changed["scope"], event.data_changed["rows"], event.data_changed["schools"]) == ("all", 3, 2)


def test_export_of_one_school_is_audited_on_that_schools_chain(app, prov) -> None:
    api = _login(app)
    r = api.get("/api/v1/province/export.xlsx?school=10562")
    assert r.status_code == 200 and r.headers["X-Export-Rows"] == "1"
    rows = _sheet(r.data)
    assert len(rows) == 2
    event = AuditEvent.select().where(AuditEvent.action == "export").order_by(AuditEvent.id.desc()).get()
    assert (event.chain_key, event.school, event.data_changed["scope"]) == ("school:10562", "10562", "10562")
    assert api.get("/api/v1/province/export.xlsx?school=99999").status_code == 404
    assert AuditEvent.select().where(AuditEvent.action == "export").count() == 1  # a refused export is not audited


def _count_queries(caplog: pytest.LogCaptureFixture, call) -> int:  # noqa: ANN001
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        call()
    return sum(1 for rec in caplog.records if rec.name == "peewee")


def _add_school(code: str, prov, three_level_id: int) -> None:  # noqa: ANN001
    """A school with colleges, records at several statuses, unbound roster students and a deadline."""
    with write_transaction():
        school = School.create(code=code, name=f"学校{code}")
        college = College.create(school=school, name="文学院")
        major = Major.create(school=school, college=college, code="050101", name="汉语言文学")
        SchoolDeadline.create(school=school, deadline=datetime(2021, 7, 1, tzinfo=UTC).replace(tzinfo=None))
    if int(code) % 2:
        processes.activate(str(three_level_id), actor=ADMIN, schools=[code])
    w = prov.world
    rec = rv.submitted(w, major)
    rv.approve(rec, "counselor")
    rv.reject(rv.submitted(w, major), "counselor", "请核对")
    rv.unsubmitted(w, major)
    rv.roster_student(w, major)


@BOTH_DATABASES
def test_the_overview_costs_the_same_queries_for_2_schools_as_for_14(app, prov, caplog) -> None:
    def service_call() -> None:
        province.overview(graduation_year=2021, default_deadline=None, sort="-percent")

    api = _login(app)

    def http_call() -> None:
        assert api.get("/api/v1/province/schools").status_code == 200

    def page_call() -> None:
        assert api.get("/province").status_code == 200

    before = [_count_queries(caplog, f) for f in (service_call, http_call, page_call)]
    three = ProcessActivation.get(ProcessActivation.school_code == "10562").version_id
    for n in range(12):
        _add_school(str(20001 + n), prov, three)
    after = [_count_queries(caplog, f) for f in (service_call, http_call, page_call)]
    assert province.overview(graduation_year=2021, default_deadline=None).schools.__len__() == 14
    assert before[0] == 6, before  # schools, activations, versions' meta, records, roster, deadlines
    assert after == before, (before, after)


@BOTH_DATABASES
def test_the_grouped_counts_are_kept_for_max_age_and_the_response_says_so(app, prov, caplog) -> None:
    def call(max_age: float) -> province.Overview:
        return province.overview(graduation_year=2021, default_deadline=None, max_age=max_age)

    first = call(60)
    assert first.cached is False
    rv.submitted(prov.world, prov.world.m1)  # a new record: not in the kept counts
    queries = _count_queries(caplog, lambda: call(60))
    kept = call(60)
    assert kept.cached is True and kept.counted_at == first.counted_at and queries == 4
    assert kept.total.records == first.total.records == 10
    fresh = call(0)
    assert fresh.cached is False and fresh.total.records == 11
    body = _login(app).get("/api/v1/province/schools").get_json()  # the app counts on every request here
    assert body["cached"] is False and body["max_age_seconds"] == 0 and body["counted_at"]


def test_the_province_account_comes_only_from_the_command_line(db) -> None:
    rv.make_world()
    user = accounts.create_user("sheng", "a-Long-pass-1", "province", school_code=None, creator=None)
    assert user.role == "province" and user.school_id is None
    with pytest.raises(InvalidInput) as tied:
        accounts.create_user("sheng2", "a-Long-pass-1", "province", school_code="10561", creator=None)
    assert tied.value.code == "school_not_allowed"
    for creator in (ADMIN, Actor("centre", "centre", "10561")):
        with pytest.raises(PermissionDenied) as refused:
            accounts.create_user("sheng3", "a-Long-pass-1", "province", school_code=None, creator=creator)
        assert refused.value.code == "role_not_allowed"


def test_gradflow_user_add_role_province(tmp_path) -> None:  # noqa: ANN001
    from tests.conftest import DEFAULT_BPMN
    from tests.integration.test_cli_core import gradflow

    gradflow(tmp_path, "db", "upgrade")
    gradflow(tmp_path, "process", "deploy", str(DEFAULT_BPMN), "--activate")
    out = gradflow(tmp_path, "user", "add", "sheng", "--role", "province", stdin="a-Long-pass-1\n").stdout
    assert "sheng (province, school -) added" in out
    refused = gradflow(tmp_path, "user", "add", "s2", "--role", "province", "--school", "10561",
                       stdin="a-Long-pass-1\n", check=False)
    assert refused.returncode != 0


def test_pages_overview_school_and_export(app, prov) -> None:
    api = _login(app)
    login = app.test_client()
    r = login.post("/api/v1/auth/login", json={"username": "sheng", "password": rv.PASSWORD, "school_code": ""})
    assert r.status_code == 200
    home = login.get("/", follow_redirects=False)
    assert home.status_code == 302 and home.headers["Location"].endswith("/province")
    page = api.get("/province?sort=-completed")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="counted-at"' in html and "人数统计于" in html
    assert "全省生源信息填报进度" in html and "10561 华南理工大学" in html and "10562 广州大学" in html
    assert html.index("10561 华南理工大学") < html.index("10562 广州大学")
    assert 'data-level="一级">—<' in html  # 10561 has no 一级
    assert 'href="/province/schools/10562"' in html and "data-province-export" in html
    assert 'aria-sort="descending"' in html and "全省进度" in html  # nav
    assert api.get("/province?sort=nope").status_code == 422
    school = api.get("/province/schools/10562").get_data(as_text=True)
    assert "二级 → 一级 → 中心" in school and "数学学院" in school
    assert api.get("/province/schools/00000").status_code == 404
    export = api.get("/province/export.xlsx?school=10561")
    assert export.status_code == 200 and export.headers["X-Export-Rows"] == "2"
    assert len(_sheet(export.data)) == 3
    assert api.get("/province/export.xlsx?school=99999").status_code == 404
    assert api.get("/province/export.xlsx?school=%00").status_code in (404, 422)  # NUL: refused before the view


@BOTH_DATABASES
def test_m0020_indexes_the_roster_for_the_unbound_counts_by_college(db) -> None:
    from service.migrations import STEPS, pending, upgrade

    assert STEPS.index("m0020_roster_progress_by_college") > STEPS.index("m0016_province_roster_index")
    assert pending(db) == [] and upgrade(db) == []
    indexes = {i.name: i.columns for i in db.get_indexes("roster_student")}
    assert indexes["roster_student_progress_college"] == ["school_id", "year", "eligible", "college_id", "major_id", "id"]
    assert "roster_student_progress" not in indexes  # m0016's, replaced
