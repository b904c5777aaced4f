"""Reviewer record endpoints: every search filter, the record view and its masking, edit, add, audit."""

from __future__ import annotations

from datetime import date

import pytest

from service.models import AuditEvent, ProcessInstance, Record
from service.services import audit
from service.validation.identity import make_resident_id, mask_id_number
from tests.support import reviewing as rv

BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
GZ_TIANHE, GZ_YUEXIU, SZ_FUTIAN, CHENGDU = "440106", "440104", "440304", "510104"


@pytest.fixture
def world(db):
    return rv.make_world()


def _ids(resp) -> set[int]:
    assert resp.status_code == 200, resp.get_json()
    return {item["id"] for item in resp.get_json()["items"]}


@BOTH_DATABASES
def test_each_search_filter(app, world) -> None:
    w = world
    r1 = rv.submitted(w, w.m1, name="欧阳明华", origin=GZ_TIANHE,
                      id_number=make_resident_id(GZ_TIANHE, date(1999, 3, 4), 123), student_no="1700101")
    r2 = rv.submitted(w, w.m2, name="张明", origin=GZ_YUEXIU,
                      id_number=make_resident_id(GZ_YUEXIU, date(1999, 5, 6), 124), student_no="1700102")
    r3 = rv.submitted(w, w.m3, name="李华", origin=SZ_FUTIAN,
                      id_number=make_resident_id(SZ_FUTIAN, date(1999, 7, 8), 125), student_no="1700203")
    r4 = rv.submitted(w, w.m3, name="王五", origin=CHENGDU,
                      id_number=make_resident_id(CHENGDU, date(2000, 1, 2), 126), student_no="1700204")
    r5 = rv.unsubmitted(w, w.m1)
    rv.approve(r2, "counselor")  # 中心待审
    other = rv.submitted(w, w.other_major, name="张明")  # another school: never listed
    rv.user("centre", "centre", w.school)
    api = rv.login(app, "centre")
    everyone = {r1.id, r2.id, r3.id, r4.id, r5.id}
    assert _ids(api.get("/api/v1/records")) == everyone
    assert api.get("/api/v1/records").get_json()["total"] == 5
    # 姓名 as a substring, anywhere in the name
    assert _ids(api.get("/api/v1/records?q=明")) == {r1.id, r2.id}
    assert _ids(api.get("/api/v1/records?q=明华")) == {r1.id}
    assert _ids(api.get("/api/v1/records?q=阳明")) == {r1.id}
    assert other.id not in _ids(api.get("/api/v1/records?q=张明"))
    # 学号 exactly or by prefix
    assert _ids(api.get("/api/v1/records?q=1700101")) == {r1.id}
    assert _ids(api.get("/api/v1/records?q=17001")) == {r1.id, r2.id}
    assert _ids(api.get("/api/v1/records?q=700101")) == set()  # not a prefix
    # 证件号码 exactly or by prefix, lower-case x accepted
    assert _ids(api.get(f"/api/v1/records?q={r3.id_number}")) == {r3.id}
    assert _ids(api.get(f"/api/v1/records?q={r4.id_number[:10]}")) == {r4.id}
    assert _ids(api.get(f"/api/v1/records?q={r4.id_number.lower()}")) == {r4.id}
    # 生源地 by code prefix: province, city, county
    assert _ids(api.get("/api/v1/records?origin_region=44")) == {r1.id, r2.id, r3.id}
    assert _ids(api.get("/api/v1/records?origin_region=4401")) == {r1.id, r2.id}
    assert _ids(api.get(f"/api/v1/records?origin_region={GZ_TIANHE}")) == {r1.id}
    assert _ids(api.get("/api/v1/records?origin_region=51")) == {r4.id}
    # 审核状态 / 上报状态 from the BPMN (repeatable)
    assert _ids(api.get("/api/v1/records?review_status=二级待审")) == {r1.id, r3.id, r4.id}
    assert _ids(api.get("/api/v1/records?review_status=中心待审")) == {r2.id}
    assert _ids(api.get("/api/v1/records?review_status=未提交&review_status=中心待审")) == {r2.id, r5.id}
    assert _ids(api.get("/api/v1/records?report_status=未上报")) == {r5.id}
    assert _ids(api.get("/api/v1/records?report_status=已提交")) == {r1.id, r2.id, r3.id, r4.id}
    # college, major, and filters combined
    assert _ids(api.get(f"/api/v1/records?college={w.c1.id}")) == {r1.id, r2.id, r5.id}
    assert _ids(api.get(f"/api/v1/records?major={w.m3.id}")) == {r3.id, r4.id}
    assert _ids(api.get(f"/api/v1/records?major={w.m3.id}&origin_region=44&review_status=二级待审")) == {r3.id}
    # masking in lists, paging, sorting
    listed = {i["id"]: i for i in api.get("/api/v1/records").get_json()["items"]}
    assert listed[r3.id]["id_number"] == mask_id_number(r3.id_number) != r3.id_number
    page = api.get("/api/v1/records?per_page=2&page=2&sort=-student_no").get_json()
    assert page["total"] == 5 and len(page["items"]) == 2
    by_no = sorted(everyone, key=lambda i: Record.get_by_id(i).student_no, reverse=True)
    assert [i["id"] for i in page["items"]] == by_no[2:4]


def test_status_copy_follows_the_instance(app, world) -> None:
    """The search columns are kept by triggers: every transition is visible to the status filter."""
    from service.db import database

    rec = rv.submitted(world, world.m1)
    rv.approve(rec, "counselor")
    row = database.execute_sql("SELECT review_status, report_status FROM record WHERE id = ?", (rec.id,)).fetchone()
    inst = ProcessInstance.get(ProcessInstance.record == rec.id)
    assert row == (inst.status, inst.report_status) == ("中心待审", "已提交")


@pytest.mark.parametrize("query", [
    "page=-1", "page=0", "per_page=1000000000", "per_page=0", "sort=garbage", "sort=-", "review_status=bogus",
    "report_status=x", "origin_region=abc", "origin_region=4401011", "college=x", "major=-3", "page=abc",
    "college=99999999999999999999",
])
def test_bad_list_input_is_422_not_500(app, world, query) -> None:
    rv.user("centre", "centre", world.school)
    r = rv.login(app, "centre").get(f"/api/v1/records?{query}")
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert set(body) == {"code", "message", "details"} and body["code"] == "invalid"


@pytest.mark.parametrize("q", ["张3", "a-1", "%", "_", "\\", "1 OR 1=1", "\x1f5\r"])
def test_odd_keywords_match_nothing_and_never_fail(app, world, q) -> None:
    """Found by schemathesis: digits mixed with other characters made an empty OR (a 500)."""
    rv.submitted(world, world.m1)
    rv.user("centre", "centre", world.school)
    r = rv.login(app, "centre").get("/api/v1/records", query_string={"q": q})
    assert r.status_code == 200 and r.get_json()["total"] == 0


@pytest.mark.parametrize("path", ["/api/v1/records/abc", "/api/v1/records/-1", "/api/v1/records/0",
                                  "/api/v1/records/99999999999999999999", "/api/v1/records/2147483648/history"])
def test_bad_record_ids_are_404(app, world, path) -> None:
    rv.user("centre", "centre", world.school)
    r = rv.login(app, "centre").get(path)
    assert r.status_code == 404
    assert set(r.get_json()) == {"code", "message", "details"}


def test_record_view_masks_and_full_number_is_audited(app, world) -> None:
    rec = rv.submitted(world, world.m1)
    rv.user("centre", "centre", world.school)
    rv.user("c1", "counselor", world.school, colleges=(world.c1,))
    centre, counselor = rv.login(app, "centre"), rv.login(app, "c1")
    body = counselor.get(f"/api/v1/records/{rec.id}").get_json()
    assert body["id_number"] == mask_id_number(rec.id_number) and body["id_number_masked"]
    assert body["data"]["personal"]["id_number"] == mask_id_number(rec.id_number)
    assert body["review_status"] == "二级待审" and body["editable"] and body["reviewable"]
    assert counselor.get(f"/api/v1/records/{rec.id}?full_id=true").status_code == 403
    views = AuditEvent.select().where((AuditEvent.record == rec.id) & (AuditEvent.action == "view_id_number"))
    assert views.count() == 0
    assert centre.get(f"/api/v1/records/{rec.id}").get_json()["id_number"] != rec.id_number
    full = centre.get(f"/api/v1/records/{rec.id}?full_id=true").get_json()
    assert full["id_number"] == rec.id_number and full["data"]["personal"]["id_number"] == rec.id_number
    assert [(e.actor, e.actor_role) for e in views] == [("centre", "centre")]
    assert audit.verify().ok


def test_edit_audits_every_changed_field_then_is_refused_once_complete(app, world) -> None:
    rec = rv.submitted(world, world.m1)
    rv.user("c1", "counselor", world.school, colleges=(world.c1,))
    rv.user("centre", "centre", world.school)
    api = rv.login(app, "c1")
    lock = api.get(f"/api/v1/records/{rec.id}").get_json()["lock_version"]
    masked = mask_id_number(rec.id_number)
    old_phone = rec.data["other"]["phone"]
    r = api.patch(f"/api/v1/records/{rec.id}", json={"lock_version": lock, "data": {
        "other": {"phone": "13800138000", "remark": "辅导员核对后修改"},
        "personal": {"id_number": masked, "political": "01"}}})
    assert r.status_code == 200, r.get_json()
    changed = r.get_json()["changed"]
    assert changed["other.phone"] == [old_phone, "13800138000"]
    assert changed["other.remark"] == [None, "辅导员核对后修改"]
    assert "personal.id_number" not in changed  # the masked number sent back means "unchanged"
    stored = Record.get_by_id(rec.id).data
    assert stored["other"]["phone"] == "13800138000" and stored["personal"]["id_number"] == rec.id_number
    edit = AuditEvent.get((AuditEvent.record == rec.id) & (AuditEvent.action == "edit"))
    assert edit.actor == "c1" and edit.data_changed == changed
    # a stale lock_version is refused; an invalid value is a 422 keyed by field
    assert api.patch(f"/api/v1/records/{rec.id}", json={"lock_version": lock, "data": {
        "other": {"phone": "13900139000"}}}).status_code == 409
    bad = api.patch(f"/api/v1/records/{rec.id}", json={"data": {"other": {"email": "not-an-email"}}})
    assert bad.status_code == 422 and "other.email" in bad.get_json()["details"]
    ro = api.patch(f"/api/v1/records/{rec.id}", json={"data": {"school": {"student_no": "999"}}})
    assert ro.status_code == 422 and "school.student_no" in ro.get_json()["details"]
    # a new id number is stored in full, audited masked
    new_id = make_resident_id(rec.id_number[:6], date(1999, 9, 9), 2 if rec.data["personal"]["gender"] == "2" else 1)
    r = api.patch(f"/api/v1/records/{rec.id}", json={"data": {"personal": {"id_number": new_id}}})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["changed"]["personal.id_number"] == [masked, mask_id_number(new_id)]
    assert Record.get_by_id(rec.id).id_number == new_id
    # once 完成, no more edits (409), and nothing is written
    rv.approve(rec, "counselor")
    rv.approve(rec, "centre")
    before = AuditEvent.select().where(AuditEvent.record == rec.id).count()
    r = rv.login(app, "centre").patch(f"/api/v1/records/{rec.id}", json={"data": {"other": {"remark": "x"}}})
    assert r.status_code == 409 and r.get_json()["code"] == "record_completed"
    assert AuditEvent.select().where(AuditEvent.record == rec.id).count() == before
    history = api.get(f"/api/v1/records/{rec.id}/history").get_json()["items"]
    edits = [h for h in history if h["action"] == "edit"]
    assert len(edits) == 2 and "other.phone" in edits[0]["edited_fields"]
    assert audit.verify().ok


def test_edit_refused_before_the_student_submits(app, world) -> None:
    rec = rv.unsubmitted(world, world.m1)
    rv.user("c1", "counselor", world.school, colleges=(world.c1,))
    r = rv.login(app, "c1").patch(f"/api/v1/records/{rec.id}", json={"data": {"other": {"remark": "x"}}})
    assert r.status_code == 409 and r.get_json()["code"] == "not_editable"


def test_edit_allowed_after_rejection(app, world) -> None:
    rec = rv.submitted(world, world.m1)
    rv.user("c1", "counselor", world.school, colleges=(world.c1,))
    api = rv.login(app, "c1")
    assert api.post(f"/api/v1/records/{rec.id}/review", json={"decision": "reject", "comment": "电话有误"}).status_code == 200
    r = api.patch(f"/api/v1/records/{rec.id}", json={"data": {"other": {"phone": "13600136000"}}})
    assert r.status_code == 200 and r.get_json()["record"]["review_status"] == "不同意"


def test_add_record_for_a_roster_student(app, world) -> None:
    w = world
    student = rv.roster_student(w, w.m1)
    rv.user("c1", "counselor", w.school, colleges=(w.c1,))
    api = rv.login(app, "c1")
    report, _ = rv.report_for(w, w.m1)
    data = {"personal": {k: v for k, v in report["personal"].items() if k not in ("name", "gender", "id_type",
                                                                                 "id_number")},
            "other": report["other"]}
    r = api.post("/api/v1/records", json={"student_no": student.student_no, "data": data})
    assert r.status_code == 201, r.get_json()
    rec = r.get_json()["record"]
    assert rec["review_status"] == "二级待审" and rec["report_status"] == "已提交" and rec["created_by"] == "c1"
    assert rec["data"]["school"]["student_no"] == student.student_no
    events = list(AuditEvent.select().where(AuditEvent.record == rec["id"]).order_by(AuditEvent.seq))
    assert [(e.action, e.actor, e.status_after) for e in events] == [
        ("create", "c1", "未提交"), ("add", "c1", "二级待审")]
    # once more: the student has a record now
    again = api.post("/api/v1/records", json={"student_no": student.student_no, "data": data})
    assert again.status_code == 409 and again.get_json()["code"] == "record_exists"
    # incomplete data is refused as the student's submit would be
    other = rv.roster_student(w, w.m2)
    bad = api.post("/api/v1/records", json={"student_no": other.student_no, "data": {}})
    assert bad.status_code == 422 and "other.phone" in bad.get_json()["details"]
    assert not Record.select().where(Record.student_no == other.student_no).exists()
    # ineligible, out of scope, unknown
    out = rv.roster_student(w, w.m1, eligible=False, exclusion_reason="外籍生源")
    r = api.post("/api/v1/records", json={"student_no": out.student_no, "data": data})
    assert r.status_code == 409 and r.get_json()["code"] == "not_eligible"
    elsewhere = rv.roster_student(w, w.m3)
    assert api.post("/api/v1/records", json={"student_no": elsewhere.student_no, "data": data}).status_code == 404
    assert api.post("/api/v1/records", json={"student_no": "nope", "data": data}).status_code == 404
    assert audit.verify().ok


def test_history_lists_reviews_with_levels_and_comments(app, world) -> None:
    rec = rv.submitted(world, world.m1)
    rv.user("c1", "counselor", world.school, colleges=(world.c1,))
    api = rv.login(app, "c1")
    api.post(f"/api/v1/records/{rec.id}/review", json={"decision": "reject", "comment": "生源地有误"})
    items = api.get(f"/api/v1/records/{rec.id}/history").get_json()["items"]
    review = items[-1]
    assert review["actor"] == "c1" and review["role"] == "counselor" and review["level"] == "二级"
    assert review["role_label"] == "二级用户（辅导员）" and review["decision"] == "reject"
    assert (review["status_before"], review["status_after"], review["comment"]) == ("二级待审", "不同意", "生源地有误")
    assert [i["action"] for i in items] == ["create", "submit", "review"]


def test_audit_query_is_scoped_and_filtered(app, world) -> None:
    a = rv.submitted(world, world.m1)
    b = rv.submitted(world, world.other_major)
    rv.user("centre", "centre", world.school)
    rv.user("c1", "counselor", world.school, colleges=(world.c1,))
    rv.user("root", "admin", None)
    centre = rv.login(app, "centre")
    rv.login(app, "c1").post(f"/api/v1/records/{a.id}/review", json={"decision": "approve"})
    body = centre.get("/api/v1/audit").get_json()
    assert {i["record_id"] for i in body["items"]} == {a.id} and body["total"] == 3
    assert [i["action"] for i in centre.get("/api/v1/audit?action=review").get_json()["items"]] == ["review"]
    assert centre.get("/api/v1/audit?actor=c1").get_json()["total"] == 1
    assert centre.get(f"/api/v1/audit?record={b.id}").get_json()["total"] == 0  # other school
    assert centre.get("/api/v1/audit?since=2000-01-01T00:00:00&until=2000-01-02T00:00:00").get_json()["total"] == 0
    assert centre.get("/api/v1/audit?since=2030-01-01T00:00:00&until=2000-01-02T00:00:00").status_code == 422
    assert rv.login(app, "c1").get("/api/v1/audit").status_code == 404  # the trail is not the counselor's
    admin = rv.login(app, "root", None)
    assert admin.get(f"/api/v1/audit?record={b.id}").get_json()["total"] == 2


def test_add_page_masks_the_id_number_and_reports_an_existing_record_first(app, world) -> None:
    """Issue 10 item 4: 添加 showed a counselor the full 证件号码 of any in-scope roster student."""
    from service.validation.identity import mask_id_number

    w = world
    student = rv.roster_student(w, w.m1)
    rv.user("c1", "counselor", w.school, colleges=(w.c1,))
    api = rv.login(app, "c1")
    events_before = AuditEvent.select().count()
    page = api.get(f"/console/records/new?student_no={student.student_no}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert student.id_number not in html and mask_id_number(student.id_number) in html
    assert AuditEvent.select().count() == events_before
    # the form posts the masked number back: the record gets the roster's full number
    report, _ = rv.report_for(w, w.m1)
    form = {"csrf_token": api.csrf, "student_no": student.student_no}
    for section in ("school", "personal", "other"):
        for k, v in (report[section] or {}).items():
            form[f"{section}.{k}"] = "" if v is None else str(v)
    form["personal.id_number"] = mask_id_number(student.id_number)
    for k in ("name", "gender", "id_type"):
        form[f"personal.{k}"] = str(getattr(student, k))
    for k in ("school_code", "student_no", "college", "major", "major_code", "class_name", "exam_no"):
        form.pop(f"school.{k}", None)
    posted = api.client.post("/console/records/new", data=form)
    assert posted.status_code in (200, 302), posted.get_data(as_text=True)[:500]
    rec = Record.get_or_none(Record.student_no == student.student_no)
    assert rec is not None, posted.get_data(as_text=True)[:800]
    assert rec.id_number == student.id_number  # the roster's number, not the mask
    again = api.get(f"/console/records/new?student_no={student.student_no}").get_data(as_text=True)
    assert "该学生已有生源信息记录" in again and 'name="personal.name"' not in again
