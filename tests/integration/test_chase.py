"""Chase lists (催办) against a roster shaped like a real one: every state, scope, pages, export.

The world: two colleges of one school plus another school; roster students unbound, ineligible,
of another year, bound and never submitted, rejected, pending at 二级 (fresh and old), at 中心,
and done. Ages are set by moving record.status_since back, the column the trigger maintains.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from service.db import database, write_transaction
from service.models import AuditEvent, Record, RosterStudent, User, utcnow
from service.services import audit
from service.services.actors import Actor
from service.services.chase import query as chase
from service.services.transitions import complete_task, locked_change, start_instance
from tests.support import reviewing as rv

pytestmark = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)


def _bound(w: rv.World, major, *, phone: str | None = "13800138000", roster_phone: str = "",
           class_name: str = "") -> Record:
    """A roster student who bound: account + record linked to the roster row, at 未提交."""
    overrides = {"class_name": class_name} if class_name else {}
    st = rv.roster_student(w, major, **overrides)
    if roster_phone:
        st.fields = {**(st.fields or {}), "phone": roster_phone}
        st.save()
    report, _ = rv.report_for(w, major)
    report["school"]["student_no"] = st.student_no
    if phone is None:
        report["personal"].pop("phone", None)
    else:
        report["personal"]["phone"] = phone
    p = report["personal"]
    with write_transaction():
        user = User.create(school=major.school, username=st.student_no, role="student", password_hash="x")
        rec = Record.create(school=major.school, student=st, user=user, college=major.college, major=major,
                            category=st.category, student_no=st.student_no, name=st.name, id_number=p["id_number"],
                            origin_region=p["origin_region"], data=report)
        start_instance(rec, Actor(st.student_no, "student", major.school_id, record_id=rec.id), action="bind")
    return rec


def _submit(rec: Record) -> None:
    complete_task(rec.id, Actor("stu", "student", rec.school_id, record_id=rec.id))


def _age(rec: Record, days: float) -> None:
    since = utcnow() - timedelta(days=days)
    database.execute_sql("UPDATE record SET status_since = %s WHERE id = %s".replace("%s", database.param),
                         (Record.created_at.db_value(since), rec.id))


@pytest.fixture
def world(db):
    w = rv.make_world()
    s = {}
    s["unbound_a"] = rv.roster_student(w, w.m1, class_name="计科1班")
    s["unbound_b"] = rv.roster_student(w, w.m3, class_name="英语1班")
    rv.roster_student(w, w.m1, eligible=False, exclusion_reason="结业")  # never counted
    rv.roster_student(w, w.m1, year=2020)  # another year: never counted
    rv.roster_student(w, w.other_major)  # another school
    s["draft"] = _bound(w, w.m1, class_name="计科1班", phone=None, roster_phone="13900139000")
    s["draft_c2"] = _bound(w, w.m3, class_name="英语1班")
    s["rejected"] = _bound(w, w.m2, class_name="软工1班", phone="13700137000")
    _submit(s["rejected"])
    rv.reject(s["rejected"], "counselor", "请补充档案转寄地址")
    s["fresh"] = _bound(w, w.m1, class_name="计科1班")
    _submit(s["fresh"])
    s["old"] = _bound(w, w.m1, class_name="计科2班")
    _submit(s["old"])
    _age(s["old"], 10)
    s["centre"] = _bound(w, w.m3, class_name="英语1班")
    _submit(s["centre"])
    rv.approve(s["centre"], "counselor")
    _age(s["centre"], 5)
    s["done"] = _bound(w, w.m1, class_name="计科1班")
    _submit(s["done"])
    rv.approve(s["done"], "counselor")
    rv.approve(s["done"], "centre")
    other = _bound(w, w.other_major)  # another school's 未提交
    s["other"] = other
    rv.user("c1", "counselor", w.school, colleges=(w.c1,))
    rv.user("m3", "counselor", w.school, majors=(w.m3,))
    rv.user("centre", "centre", w.school)
    rv.user("stu", "student", w.school)
    rv.user("admin", "admin", None)
    w.records.update({k: v for k, v in s.items() if isinstance(v, Record)})
    w.roster = s  # type: ignore[attr-defined]
    return w


def _get(api: rv.Api, query: str = "") -> dict:
    r = api.get(f"/api/v1/chase?per_page=200&{query}")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _nos(body: dict) -> set[str]:
    return {i["student_no"] for i in body["items"]}


def test_each_state_is_counted_and_listed_for_the_centre(app, world) -> None:
    s = world.roster
    body = _get(rv.login(app, "centre"))
    counts = {st["label"]: st["count"] for st in body["states"]}
    assert counts == {"未绑定": 2, "未提交": 2, "不同意": 1, "二级待审": 2, "中心待审": 1}
    assert [st["kind"] for st in body["states"]] == ["unbound", "draft", "rejected", "pending", "pending"]
    assert body["total"] == 8 == len(body["items"])
    listed = {i["student_no"]: i for i in body["items"]}
    expected = {s["unbound_a"].student_no: "未绑定", s["unbound_b"].student_no: "未绑定",
                s["draft"].student_no: "未提交", s["draft_c2"].student_no: "未提交",
                s["rejected"].student_no: "不同意", s["fresh"].student_no: "二级待审",
                s["old"].student_no: "二级待审", s["centre"].student_no: "中心待审"}
    assert {no: i["state"] for no, i in listed.items()} == expected
    # Longest waiting first; 未绑定 since = roster import, records since = entering the status.
    assert body["items"][0]["student_no"] == s["old"].student_no and body["items"][0]["days"] == 10
    assert listed[s["unbound_a"].student_no]["user_id"] is None
    assert listed[s["unbound_a"].student_no]["class"] == "计科1班"
    assert listed[s["draft"].student_no]["user_id"] == s["draft"].user_id
    # Phone: the record's, else the roster's.
    assert listed[s["draft"].student_no]["phone"] == "13900139000"
    assert listed[s["rejected"].student_no]["phone"] == "13700137000"
    # Each state's list has exactly its count.
    for label, n in counts.items():
        one = _get(rv.login(app, "centre"), f"state={label}")
        assert one["total"] == n == len(one["items"]) and {i["state"] for i in one["items"]} <= {label}


def test_pending_days_applies_to_review_levels(app, world) -> None:
    s = world.roster
    centre = rv.login(app, "centre")
    assert _nos(_get(centre, "state=二级待审&pending_days=7")) == {s["old"].student_no}
    assert _nos(_get(centre, "state=二级待审&pending_days=0")) == {s["old"].student_no, s["fresh"].student_no}
    body = _get(centre, "pending_days=3")
    counts = {st["label"]: st["count"] for st in body["states"]}
    assert counts == {"未绑定": 2, "未提交": 2, "不同意": 1, "二级待审": 1, "中心待审": 1}
    assert _nos(_get(centre, "state=中心待审&pending_days=6")) == set()


def test_breakdown_by_college_major_and_class(app, world) -> None:
    body = _get(rv.login(app, "centre"))
    by_college = {g["college"]["name"]: g["total"] for g in body["by_college"]}
    assert by_college == {"计算机科学与工程学院": 5, "外国语学院": 3}
    by_major = {g["major"]["name"]: g["by_state"] for g in body["by_major"]}
    assert by_major["软件工程"] == {"不同意": 1}
    by_class = {(g["major"]["name"], g["class"]): g["total"] for g in body["by_class"]}
    assert by_class[("计算机科学与技术", "计科1班")] == 3 and by_class[("计算机科学与技术", "计科2班")] == 1
    assert by_class[("英语", "英语1班")] == 3
    filtered = _get(rv.login(app, "centre"), "class=计科1班")
    assert filtered["total"] == 3
    assert _get(rv.login(app, "centre"), f"major={world.m2.id}")["total"] == 1


def test_scope_counselor_never_sees_another_college(app, world) -> None:
    s = world.roster
    c1 = rv.login(app, "c1")
    body = _get(c1)
    assert body["total"] == 5
    assert {i["college"]["id"] for i in body["items"]} == {world.c1.id}
    assert s["unbound_b"].student_no not in _nos(body) and s["other"].student_no not in _nos(body)
    assert _get(c1, f"college={world.c2.id}")["total"] == 0  # out-of-scope filter: empty, like /records
    assert _get(c1, f"major={world.other_major.id}")["total"] == 0
    m3 = _get(rv.login(app, "m3"))
    assert {i["major"]["id"] for i in m3["items"]} == {world.m3.id} and m3["total"] == 3
    rows = chase.iter_rows(rv.reviewer("counselor", world.school, college_ids=frozenset({world.c2.id})),
                           chase.ChaseFilters(), 2021, chunk=1)
    assert {r.student_no for r in rows} == {s["unbound_b"].student_no, s["draft_c2"].student_no,
                                           s["centre"].student_no}


@pytest.mark.parametrize(("user", "status"), [("stu", 403), ("admin", 403), (None, 401)])
def test_students_admin_and_anonymous_are_refused(app, world, user, status) -> None:
    api = rv.login(app, user, None if user == "admin" else "10561")
    assert api.get("/api/v1/chase").status_code == status
    assert api.get("/api/v1/chase/export.xlsx").status_code == status
    if user:
        assert api.get("/console/chase").status_code in (403, 404)


@pytest.mark.parametrize("query", [
    "state=完成", "state=不存在", "pending_days=abc", "pending_days=-1", "pending_days=99999", "page=0",
    "per_page=1000", "college=abc", "college=0", "major=99999999999", "class=" + "班" * 65, "state=",
])
def test_hostile_parameters_are_4xx_in_chinese(app, world, query) -> None:
    api = rv.login(app, "centre")
    paging = query.startswith(("page", "per_page"))  # the export has no pages
    for path in ("/api/v1/chase",) if paging else ("/api/v1/chase", "/api/v1/chase/export.xlsx"):
        r = api.get(f"{path}?{query}")
        assert 400 <= r.status_code < 500, (path, query, r.status_code)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.get_data(as_text=True)), r.get_data(as_text=True)
    if not paging:  # the page falls back to page 1 / 20 per page, like the console list
        page = api.get(f"/console/chase?{query}")
        assert 400 <= page.status_code < 500 and "催办" in page.get_data(as_text=True)


def test_export_read_back_with_openpyxl(app, world) -> None:
    s = world.roster
    api = rv.login(app, "c1")
    r = api.get("/api/v1/chase/export.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("sheet")
    assert "attachment" in r.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(r.data), read_only=True).worksheets[0]
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:6] == ["学号", "姓名", "班级", "手机", "状态", "起始时间"]
    body = _get(api)
    assert sorted(r[0] for r in rows[1:]) == sorted(_nos(body)) and len(rows) - 1 == body["total"]
    by_no = {r[0]: r for r in rows[1:]}
    draft = by_no[s["draft"].student_no]
    assert draft[1] == s["draft"].name and draft[2] == "计科1班" and draft[3] == "13900139000" and draft[4] == "未提交"
    old = by_no[s["old"].student_no]
    assert old[4] == "二级待审" and old[6] == "10"
    since = Record.select(Record.created_at).where(Record.id == s["old"].id).scalar()  # noqa: F841
    assert len(old[5]) == 16 and old[5][4] == "-"  # Beijing time to the minute
    assert rows[1:] == sorted(rows[1:], key=lambda r: r[0])  # 学号 order
    assert AuditEvent.select().where(AuditEvent.action == "export").count() == 1
    exported = AuditEvent.get(AuditEvent.action == "export").data_changed
    assert exported["kind"] == "chase_xlsx" and exported["full_id_number"] is False  # no 证件号码 column
    assert audit.verify().ok
    one = api.get("/api/v1/chase/export.xlsx?state=未绑定")
    assert [r[0] for r in load_workbook(io.BytesIO(one.data), read_only=True).worksheets[0]
            .iter_rows(values_only=True)][1:] == [s["unbound_a"].student_no]


def test_status_since_follows_transitions_not_edits(app, world) -> None:
    rec = world.records["fresh"]

    def since() -> object:
        return database.execute_sql("SELECT status_since FROM record WHERE id = " + database.param,
                                    (rec.id,)).fetchone()[0]

    _age(rec, 4)
    aged = since()
    locked_change(rec.id, Actor("counselor-x", "counselor", rec.school_id), lambda: {"remark": [None, "x"]},
                  action="edit")
    assert since() == aged  # an edit is not a new state
    rv.approve(rec, "counselor")
    moved = since()
    assert moved != aged
    assert _nos(_get(rv.login(app, "centre"), "state=中心待审&pending_days=1")) == {world.records["centre"].student_no}


def test_reminder_targets_are_the_listed_students(world) -> None:
    actor = rv.reviewer("centre", world.school)
    targets = chase.student_targets(actor, chase.ChaseFilters(states=["未提交", "不同意"]), 2021)
    assert {t[2] for t in targets} == {world.records[k].student_no for k in ("draft", "draft_c2", "rejected")}
    assert all(t[0] is not None and t[1] is not None for t in targets)
    unbound = chase.student_targets(actor, chase.ChaseFilters(states=["未绑定"]), 2021)
    assert all(t[0] is None and t[1] is None for t in unbound) and len(unbound) == 2
    assert RosterStudent.select().count() == 13


def test_console_page_lists_counts_and_links_the_export(app, world) -> None:
    s = world.roster
    api = rv.login(app, "c1")
    html = api.get("/console/chase").get_data(as_text=True)
    assert "催办名单" in html and s["old"].student_no in html and s["draft_c2"].student_no not in html
    assert 'data-state="未绑定">1</a>' in html and 'data-state="二级待审">2</a>' in html
    assert "/console/chase/export.xlsx?" in html
    aged = api.get("/console/chase?state=二级待审&pending_days=7").get_data(as_text=True)
    assert s["old"].student_no in aged and s["fresh"].student_no not in aged
    assert "（超过 7 天）" in aged
    export = api.get("/console/chase/export.xlsx?state=二级待审&pending_days=7")
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [s["old"].student_no]
    # The since column is Beijing time: UTC + 8 hours.
    since = database.execute_sql("SELECT status_since FROM record WHERE id = " + database.param,
                                 (s["old"].id,)).fetchone()[0]
    from service.clock import beijing_text
    assert rows[1][5] == beijing_text(str(since))
    other = api.get(f"/console/chase?college={world.c2.id}").get_data(as_text=True)
    assert s["unbound_b"].student_no not in other and "没有符合条件的学生" in other


def test_every_dashboard_count_links_to_its_list(app, world) -> None:
    import re
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    api = rv.login(app, "centre")
    html = api.get("/centre/dashboard").get_data(as_text=True)
    links = [(unescape(href), int(n)) for href, n in
             re.findall(r'<a href="([^"]+)" data-count-state="[^"]*">(\d+)</a>', html)]
    assert len(links) >= 10
    checked = 0
    for href, n in links:
        parts = urlsplit(href)
        q = parse_qs(parts.query)
        if parts.path == "/console/chase":
            body = _get(api, parts.query)
            assert body["total"] == n, href
        else:
            assert parts.path == "/console/"
            assert api.get(href).status_code == 200
            api_q = "&".join(f"{k}={v}" for k, vs in q.items() for v in vs)
            assert api.get(f"/api/v1/records?{api_q}").get_json()["total"] == n, href
        checked += 1
    assert checked == len(links)
    assert 'data-count-state="未绑定">2</a>' in html


def test_the_migration_backfills_an_old_database(world) -> None:
    """An m0006-era database with records at every status gets status_since from the audit log."""
    from peewee import SqliteDatabase

    from service.migrations import m0003_record_search as m0003
    from service.migrations import upgrade

    sqlite = isinstance(database.obj, SqliteDatabase)
    database.execute_sql("DROP INDEX IF EXISTS record_chase")
    for trigger in ("process_instance_status_ins", "process_instance_status_upd"):
        database.execute_sql(f"DROP TRIGGER IF EXISTS {trigger}" + ("" if sqlite else " ON process_instance"))
    database.execute_sql("ALTER TABLE record DROP COLUMN status_since")
    for statement in (m0003._SQLITE if sqlite else m0003._POSTGRES):
        database.execute_sql(statement)
    database.execute_sql("DELETE FROM schema_migrations WHERE name = 'm0008_chase'")
    assert upgrade(database.obj) == ["m0008_chase"]
    rejected = world.records["rejected"]
    last_change = (AuditEvent.select(AuditEvent.created_at)
                   .where((AuditEvent.record == rejected.id) & (AuditEvent.status_after == "不同意"))
                   .order_by(AuditEvent.seq.desc()).scalar())
    rows = {r.student_no: r for r in chase.iter_rows(rv.reviewer("centre", world.school), chase.ChaseFilters(), 2021)}
    assert rows[rejected.student_no].since == last_change
    assert len(rows) == 8 and all(r.since is not None for r in rows.values())
    rv.approve(world.records["fresh"], "counselor")  # the new triggers work after the upgrade
    assert chase.counts(rv.reviewer("centre", world.school), chase.ChaseFilters(), 2021).by_state["中心待审"] == 2
