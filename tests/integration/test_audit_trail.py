"""Issue 14: the audit trail as a page and an API, its export, the chain check of a page, and what
changed since the rejection. Histories are built through the real API: the student binds, fills,
submits; the counselor rejects; the student changes two fields and resubmits; a reviewer edits."""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
import pytest

from service.db import write_transaction
from service.models import AuditEvent, Record
from service.services import audit, roster
from service.services.actors import ADMIN_ROLE, Actor
from service.validation.identity import mask_id_number
from tests.integration.test_student_report import MAINLAND, OTHER, PERSONAL, _bind, _put, _submit
from tests.support import factories as f
from tests.support import reviewing as rv
from tests.support import roster_files as rf

SECOND = rf.student(4)
REJECT_COMMENT = "生源所在地请填写户籍所在区县；手机号码有误"


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def school(db):
    f.school()
    f.school("10562", "广州大学")
    roster.import_roster(rf.xlsx_bytes([MAINLAND, SECOND]), "r.xlsx", school_code="10561", year=2021,
                         actor=Actor(username="ops", role=ADMIN_ROLE, school_code=None))
    rv.user("counselor1", "counselor", f.school())
    rv.user("centre1", "centre", f.school())
    rv.user("centre2", "centre", f.school("10562"))
    rv.user("admin1", "admin", None)
    rv.user("sheng", "province", None)
    return db


def _student_submits(app, row: dict) -> tuple[Any, str, Record]:
    client = app.test_client()
    token = _bind(client, row)
    for section, body in (("school", {"normal_type": "2"}), ("personal", PERSONAL), ("other", OTHER)):
        assert _put(client, token, section, body).status_code == 200
    assert _submit(client, token).status_code == 200
    return client, token, Record.get(Record.student_no == row["学号"])


def _history(app) -> dict[str, Any]:
    """MAINLAND: submitted, rejected, two fields changed, resubmitted; then the counselor edits 生源地."""
    client, token, rec = _student_submits(app, MAINLAND)
    counselor = rv.login(app, "counselor1")
    r = counselor.post(f"/api/v1/records/{rec.id}/review", {"decision": "reject", "comment": REJECT_COMMENT})
    assert r.status_code == 200, r.get_json()
    assert _put(client, token, "personal", {**PERSONAL, "origin_region": "440103"}).status_code == 200
    assert _put(client, token, "other", {**OTHER, "phone": "13900139000"}).status_code == 200
    assert _submit(client, token).status_code == 200
    return {"record": rec, "student": client, "token": token, "counselor": counselor}


# --- what changed since the rejection ---------------------------------------------------------

@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_the_reviewer_sees_exactly_the_two_fields_changed_since_the_rejection(app, school) -> None:
    h = _history(app)
    rec = h["record"]
    body = h["counselor"].get(f"/api/v1/records/{rec.id}/changes-since-rejection").get_json()
    assert body["rejection"]["comment"] == REJECT_COMMENT
    assert [(c["field"], c["label"], c["before"], c["after"]) for c in body["changes"]] == [
        ("personal.origin_region", "生源所在地", "440106", "440103"),
        ("other.phone", "手机号码", "13800138000", "13900139000"),
    ]
    # the review page highlights the same two fields, with the value they had
    page = h["counselor"].get(f"/console/records/{rec.id}").get_data(as_text=True)
    assert 'id="changes-since-rejection"' in page and REJECT_COMMENT in page
    assert sorted(re.findall(r'data-changed-field="([a-z_.]+)"', page)) == ["other.phone", "personal.origin_region"]


def test_a_record_never_rejected_shows_no_changes(app, school) -> None:
    _, _, rec = _student_submits(app, SECOND)
    counselor = rv.login(app, "counselor1")
    body = counselor.get(f"/api/v1/records/{rec.id}/changes-since-rejection").get_json()
    assert body == {"rejection": None, "changes": []}
    page = counselor.get(f"/console/records/{rec.id}").get_data(as_text=True)
    assert "changes-since-rejection" not in page and "data-changed-field" not in page


def test_changes_since_rejection_is_404_out_of_scope_and_403_for_a_student(app, school) -> None:
    h = _history(app)
    rec = h["record"]
    assert rv.login(app, "centre2", "10562").get(f"/api/v1/records/{rec.id}/changes-since-rejection").status_code == 404
    assert h["student"].get(f"/api/v1/records/{rec.id}/changes-since-rejection").status_code == 403


def test_a_field_changed_and_changed_back_is_not_listed(app, school) -> None:
    h = _history(app)
    rec = h["record"]
    h["counselor"].post(f"/api/v1/records/{rec.id}/review", {"decision": "reject", "comment": "再核对"})
    client, token = h["student"], h["token"]
    assert _put(client, token, "other", {**OTHER, "phone": "13700137000"}).status_code == 200
    assert _put(client, token, "other", {**OTHER, "phone": "13900139000"}).status_code == 200  # back
    assert _put(client, token, "other", {**OTHER, "phone": "13900139000", "email": "new@example.com"}).status_code == 200
    assert _submit(client, token).status_code == 200
    body = h["counselor"].get(f"/api/v1/records/{rec.id}/changes-since-rejection").get_json()
    assert body["rejection"]["comment"] == "再核对"  # the latest rejection
    assert [(c["field"], c["before"], c["after"]) for c in body["changes"]] == [
        ("other.email", "student@example.com", "new@example.com")]


# --- the audit page and API -------------------------------------------------------------------

@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_the_centre_filters_by_student_and_changed_field_and_sees_before_after(app, school) -> None:
    h = _history(app)
    rec = h["record"]
    centre = rv.login(app, "centre1")
    # the counselor approves; the centre edits 生源地 once more at its level
    assert h["counselor"].post(f"/api/v1/records/{rec.id}/review", {"decision": "approve"}).status_code == 200
    edit = centre.patch(f"/api/v1/records/{rec.id}", {"data": {"personal": {"origin_region": "440104"}}})
    assert edit.status_code == 200, edit.get_json()

    body = centre.get(f"/api/v1/audit?student={MAINLAND['学号']}&field=personal.origin_region").get_json()
    assert body["total"] == 3  # first filled, changed after the rejection, edited by the centre
    newest, older, first = body["items"]
    assert (newest["actor"], newest["action"], newest["action_label"]) == ("centre1", "edit", "编辑")
    assert [(c["label"], c["before"], c["after"]) for c in newest["changed"]] == [("生源所在地", "440103", "440104")]
    assert (older["action"], older["role"], first["action"]) == ("save_draft", "student", "save_draft")
    assert [(c["before"], c["after"]) for c in older["changed"]] == [("440106", "440103")]
    assert [(c["before"], c["after"]) for c in first["changed"] if c["field"] == "personal.origin_region"] == [
        (None, "440106")]
    assert body["chain"] == {"checked": 3, "ok": True, "summary": "本页 3 条事件校验通过", "broken": []}
    # by name too, and the rejection by level and action
    by_name = centre.get(f"/api/v1/audit?student={MAINLAND['姓名']}").get_json()
    assert by_name["total"] == sum(1 for _ in AuditEvent.select().where(AuditEvent.record == rec.id))
    rejected = centre.get("/api/v1/audit?action=review&level=二级").get_json()
    assert [(e["decision"], e["comment"], e["status_before"], e["status_after"]) for e in rejected["items"]] == [
        ("approve", "", "二级待审", "中心待审"), ("reject", REJECT_COMMENT, "二级待审", "不同意")]
    assert centre.get("/api/v1/audit?actor=counselor1").get_json()["total"] == 2

    page = centre.get(f"/audit?record={MAINLAND['学号']}&field=personal.origin_region").get_data(as_text=True)
    assert "本页 3 条事件校验通过" in page
    assert page.count('data-field="personal.origin_region"') == 3
    assert "440103" in page and "440104" in page and "生源所在地" in page
    assert "审计日志" in re.search(r'<nav class="topnav">(.*?)</nav>', page, re.S).group(1)


def test_id_numbers_in_recorded_changes_are_masked_on_the_page_the_api_and_the_export(app, school) -> None:
    h = _history(app)
    rec = h["record"]
    full = MAINLAND["证件号码"]
    with write_transaction():  # a writer that stored the full number (old rows, a careless writer)
        audit.append(audit.record_chain(rec.id), record=rec.id, school="10561", actor="legacy", actor_role="centre",
                     action="edit", data_changed={"personal.id_number": [full, full[:-1] + "0"]})
    centre = rv.login(app, "centre1")
    body = centre.get("/api/v1/audit?field=personal.id_number").get_json()
    assert body["total"] == 1
    change = body["items"][0]["changed"][0]
    assert (change["label"], change["before"]) == ("证件号码", mask_id_number(full))
    page = centre.get("/audit?field=personal.id_number").get_data(as_text=True)
    assert mask_id_number(full) in page and full not in page and full[:-1] + "0" not in page
    data = centre.get("/audit/export.xlsx?field=personal.id_number").data
    cells = [c for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True) for c in row if c]
    assert any(mask_id_number(full) in str(c) for c in cells) and not any(full in str(c) for c in cells)


def test_the_export_is_audited_before_its_first_byte_and_holds_the_filtered_events(app, school) -> None:
    h = _history(app)
    centre = rv.login(app, "centre1")
    exports_before = AuditEvent.select().where(AuditEvent.action == "export").count()
    response = centre.get("/audit/export.xlsx?field=other.phone", buffered=False)
    assert response.status_code == 200
    event = AuditEvent.select().where(AuditEvent.action == "export").order_by(AuditEvent.id.desc()).first()
    assert AuditEvent.select().where(AuditEvent.action == "export").count() == exports_before + 1
    assert (event.actor, event.school, event.data_changed["kind"]) == ("centre1", "10561", "audit_xlsx")
    assert event.data_changed["filters"] == {"field": "other.phone"}
    assert event.data_changed["full_id_number"] is False  # the trail's 证件号码 are masked, whoever reads it
    data = b"".join(response.response)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "时间（北京时间）" and rows[0][11] == "修改内容（修改前 → 修改后）"
    assert len(rows) == 3  # the student's first fill of the section, then the change after the rejection
    assert rows[1][2] == str(h["record"].id) and rows[1][11] == "手机号码：13800138000 → 13900139000"
    assert "手机号码：（空） → 13800138000" in rows[2][11].split("\n")
    # the JSON API's export takes the same filters
    api = centre.get(f"/api/v1/audit/export.xlsx?student={MAINLAND['学号']}&action=review")
    assert [r[7] for r in list(openpyxl.load_workbook(io.BytesIO(api.data)).active.iter_rows(values_only=True))[1:]] \
        == ["不通过"]


def test_scope_centre_own_school_admin_all_province_every_school_with_a_school_filter(app, school) -> None:
    h = _history(app)
    rec = h["record"]
    other = rv.login(app, "centre2", "10562")
    assert other.get(f"/api/v1/audit?record={rec.id}").get_json()["total"] == 0
    assert other.get(f"/api/v1/audit?student={MAINLAND['学号']}").get_json()["total"] == 0
    assert other.get(f"/api/v1/audit?school=10561&record={rec.id}").get_json()["total"] == 0  # school ignored
    mine = AuditEvent.select().where(AuditEvent.record == rec.id).count()
    for name in ("admin1", "sheng"):
        api = rv.login(app, name, None)
        assert api.get(f"/api/v1/audit?record={rec.id}").get_json()["total"] == mine
        assert api.get(f"/api/v1/audit?school=10562&record={rec.id}").get_json()["total"] == 0
        assert api.get(f"/api/v1/audit?school=10561&student={MAINLAND['学号']}").get_json()["total"] == mine
        page = api.get("/audit?school=10561").get_data(as_text=True)
        assert "本页" in page and 'name="school"' in page
    # the deployment's own chain is the admin's, not the province's
    assert rv.login(app, "sheng", None).get("/api/v1/audit?action=deploy").get_json()["total"] == 0
    assert rv.login(app, "admin1", None).get("/api/v1/audit?action=deploy").get_json()["total"] >= 1


PAGES = ("/audit", "/audit/export.xlsx", "/api/v1/audit", "/api/v1/audit/export.xlsx")


def test_counselors_and_students_get_404_on_the_page_the_api_and_the_export(app, school) -> None:
    h = _history(app)
    exports_before = AuditEvent.select().where(AuditEvent.action == "export").count()
    callers = {"counselor": h["counselor"].client, "student": h["student"]}
    for who, client in callers.items():
        for url in PAGES:
            r = client.get(url)
            assert r.status_code == 404, (who, url, r.status_code)
    nav = h["counselor"].get("/console/").get_data(as_text=True)
    assert "审计日志" not in nav
    assert AuditEvent.select().where(AuditEvent.action == "export").count() == exports_before
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/audit").status_code == 401
    assert anonymous.get("/audit").status_code == 302


# --- the chain's verdict on a page ------------------------------------------------------------

@pytest.mark.audit_tampered
def test_an_edited_event_and_one_whose_predecessor_was_deleted_are_named(app, school) -> None:
    h = _history(app)
    rec = h["record"]
    events = list(AuditEvent.select().where(AuditEvent.record == rec.id).order_by(AuditEvent.seq))
    rejection = next(e for e in events if e.decision == "reject")
    AuditEvent.update(comment="同意").where(AuditEvent.id == rejection.id).execute()  # bent in the database
    draft = events[-2]
    AuditEvent.delete().where(AuditEvent.id == events[-3].id).execute()  # its predecessor goes
    centre = rv.login(app, "centre1")
    body = centre.get(f"/api/v1/audit?record={rec.id}").get_json()
    chain = body["chain"]
    assert not chain["ok"] and chain["checked"] == len(events) - 1
    assert {b["event_id"] for b in chain["broken"]} == {rejection.id, draft.id}
    messages = {b["event_id"]: b["message"] for b in chain["broken"]}
    assert "被改动" in messages[rejection.id] and "缺失" in messages[draft.id]
    assert chain["summary"] == f"本页 {len(events) - 1} 条事件中 2 条校验未通过"
    page = centre.get(f"/audit?record={rec.id}").get_data(as_text=True)
    assert f'data-broken-event="{rejection.id}"' in page and f'data-broken-event="{draft.id}"' in page


# --- hostile input ----------------------------------------------------------------------------

BAD_API = [
    "since=not-a-date", "until=2021-13-45T00:00:00", "since=99999-01-01T00:00:00", "since=0001-01-01T00:00:00",
    "since=2021-06-02T00:00:00&until=2021-06-01T00:00:00", "field=personal.nope", "field=" + "x" * 5000,
    "student=" + "张" * 65, "actor=" + "a" * 100000, "record=0", "record=99999999999999999999", "record=abc",
    "school=<script>", "student=%00",
    "level=%F0%9F%98%80" * 40,
]
BAD_PAGE = [
    "from=not-a-date", "to=2021-02-30", "from=99999-01-01", "from=0001-01-01", "from=2021-06-02&to=2021-06-01",
    "field=personal.nope", "record=" + "张" * 65, "actor=" + "a" * 100000, "record=%00",
]


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_hostile_filters_are_4xx_with_a_chinese_message_never_500(app, school) -> None:
    centre = rv.login(app, "centre1")
    exports_before = AuditEvent.select().where(AuditEvent.action == "export").count()
    for query in BAD_API:
        for url in ("/api/v1/audit", "/api/v1/audit/export.xlsx"):
            r = centre.get(f"{url}?{query}")
            assert 400 <= r.status_code < 500, (url, query[:60], r.status_code)
            body = r.get_json()
            assert _chinese(body["message"]) and all(_chinese(m) for ms in body["details"].values() for m in ms), \
                (query[:60], body)
    for query in ("page=0", "page=99999999999", "per_page=100000", "per_page=0"):  # the list's own
        r = centre.get(f"/api/v1/audit?{query}")
        assert r.status_code == 422 and _chinese(str(r.get_json()["details"])), (query, r.get_json())
    for query in BAD_PAGE:
        for url in ("/audit", "/audit/export.xlsx"):
            r = centre.get(f"{url}?{query}")
            assert 400 <= r.status_code < 500, (url, query[:60], r.status_code)
            assert _chinese(r.get_data(as_text=True)), query[:60]
    assert AuditEvent.select().where(AuditEvent.action == "export").count() == exports_before  # refused first
    # bytes that are no UTF-8 reach the view as U+FFFD: nothing matches, nothing breaks
    for url in ("/audit?actor=%ED%A0%80", "/api/v1/audit?actor=%ED%A0%80&student=%FF"):
        assert centre.get(url).status_code == 200
    # what a page tolerates: a huge or bad page number falls back to the first page
    assert centre.get("/audit?page=99999999999&per_page=abc").status_code == 200


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_m0018_indexes_serve_the_newest_first_page_across_schools_and_by_actor(db) -> None:
    from service.db import database, is_sqlite
    from service.services.audit_trail import filters as trail

    names = {ix.name for ix in database.get_indexes("audit_event")}
    assert {"audit_event_created", "audit_event_actor_created", "audit_event_school_created_at_id"} <= names
    assert "audit_event_school_created_at" not in names  # m0019: replaced by the one with id
    if not is_sqlite():
        return  # the planner's choice on a near-empty PostgreSQL table says nothing
    province, centre = Actor("sheng", "province", None), Actor("centre1", "centre", "10561")
    for actor, filters, index in ((province, trail.TrailFilters(), "audit_event_created"),
                                  (province, trail.TrailFilters(actor="counselor1"), "audit_event_actor_created"),
                                  (centre, trail.TrailFilters(), "audit_event_school_created_at_id")):
        sql, params = trail.newest_first(trail.scoped_query(actor, filters)).paginate(1, 50).sql()
        plan = " ".join(str(row) for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert index in plan and "TEMP B-TREE" not in plan, plan


def test_counting_stops_at_the_cap_and_the_pages_go_on(app, school, monkeypatch) -> None:
    from service.services.audit_trail import filters as trail

    h = _history(app)
    events = AuditEvent.select().where(AuditEvent.record == h["record"].id).count()
    centre = rv.login(app, "centre1")
    assert centre.get(f"/api/v1/audit?student={MAINLAND['学号']}").get_json()["total_capped"] is False
    monkeypatch.setattr(trail, "COUNT_CAP", 3)
    body = centre.get(f"/api/v1/audit?student={MAINLAND['学号']}&per_page=2&page=3").get_json()
    assert (body["total"], body["total_capped"], len(body["items"])) == (3, True, 2)  # page 3 is past the count
    ids = [e["id"] for p in range(1, events) for e in
           centre.get(f"/api/v1/audit?student={MAINLAND['学号']}&per_page=2&page={p}").get_json()["items"]]
    assert len(ids) == len(set(ids)) == events  # every event, once, newest first
    page = centre.get(f"/audit?record={MAINLAND['学号']}&per_page=20").get_data(as_text=True)
    assert "超过 3 条" in page


def test_a_page_past_the_end_shows_the_last_one_and_a_bad_date_is_named_once(app, school) -> None:
    h = _history(app)
    centre = rv.login(app, "centre1")
    total = centre.get(f"/api/v1/audit?student={MAINLAND['学号']}&per_page=2").get_json()["total"]
    last = (total + 1) // 2
    page = centre.get(f"/audit?record={MAINLAND['学号']}&per_page=20&page=999999").get_data(as_text=True)
    assert f"第 {max(1, (total + 19) // 20)} / {max(1, (total + 19) // 20)} 页" in page and "本页没有事件" not in page
    for number in ("1000001", "99999999", "0", "-1"):  # every number is a page: past the end the last, else the first
        shown = centre.get(f"/audit?record={MAINLAND['学号']}&per_page=20&page={number}")
        assert shown.status_code == 200 and "本页没有事件" not in shown.get_data(as_text=True), number
    body = centre.get(f"/api/v1/audit?student={MAINLAND['学号']}&per_page=2&page={last + 50}").get_json()
    assert body["page"] == last and body["items"], body  # the API clamps the same way
    bad = centre.get("/audit?from=2026-13-45")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    message = re.search(r'id="audit-error">(.*?)</div>', text, re.S).group(1)
    assert "2026-13-45" in message and message.count("格式不正确") == 1, message
    assert h["record"].id


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_the_export_reads_in_chunks_and_holds_every_event_once_newest_first(app, school, monkeypatch) -> None:
    from service.services.audit_trail import export as trail_export

    _history(app)
    monkeypatch.setattr(trail_export, "CHUNK", 2)  # many chunks, some events sharing a timestamp's second
    centre = rv.login(app, "centre1")
    sheet = openpyxl.load_workbook(io.BytesIO(centre.get("/audit/export.xlsx").data)).active
    seqs = [(r[13], int(r[14])) for r in list(sheet.iter_rows(values_only=True))[1:]]
    expected = [(ev.chain_key, ev.seq) for ev in AuditEvent.select().where(AuditEvent.school == "10561")
                .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())]
    assert seqs == expected and len(expected) > 6


def test_the_province_sees_its_own_exports_and_a_school_sees_the_provinces_of_its_data(app, school) -> None:
    _history(app)
    sheng = rv.login(app, "sheng", None)
    assert sheng.get("/province/export.xlsx").status_code == 200  # every school's records: the system chain
    assert sheng.get("/analytics/export.xlsx?table=burndown&school=10561").status_code == 200
    assert sheng.get("/audit/export.xlsx?school=10561").status_code == 200
    own = sheng.get("/api/v1/audit?action=export&actor=sheng").get_json()
    kinds = sorted(e["changes"]["kind"] for e in own["items"])
    assert kinds == ["analytics_xlsx", "audit_xlsx", "province_xlsx"], own["items"]
    # the two exports of 10561's data are on 10561's chain: its centre sees who took them
    centre = rv.login(app, "centre1").get("/api/v1/audit?action=export&actor=sheng").get_json()
    assert sorted(e["changes"]["kind"] for e in centre["items"]) == ["analytics_xlsx", "audit_xlsx"]
    assert all(e["school_code"] == "10561" for e in centre["items"])
    # still nothing else of the deployment's own chain for the province
    assert sheng.get("/api/v1/audit?action=deploy").get_json()["total"] == 0
