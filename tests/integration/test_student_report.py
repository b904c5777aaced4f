"""The student's report over HTTP: drafts, read-only roster fields, submit, rejection, resubmit, rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.config import load_settings
from service.errors import PermissionDenied
from service.models import ProcessInstance, Record, User
from service.services import roster, student_report
from service.services.actors import ADMIN_ROLE, Actor, actor_for_user
from service.services.transitions import complete_task
from tests.support import factories as f
from tests.support import roster_files as rf

PASSWORD = "student-pass-1"
MAINLAND = rf.student(1)
HMT = rf.hmt_student(2)
DIRECTED = rf.student(3, **{"培养方式": "定向"})

PERSONAL = {"ethnicity": "01", "political": "03", "origin_region": "440106", "urban_rural": "1", "hardship": "0"}
OTHER = {"hukou_moved": False, "archive_moved": True, "current_hukou_region": "440106", "phone": "13800138000",
         "email": "student@example.com", "home_address": "广州市天河区五山路1号"}


@pytest.fixture
def roster_db(db):
    f.school()
    roster.import_roster(rf.xlsx_bytes([MAINLAND, HMT, DIRECTED]), "r.xlsx", school_code="10561", year=2021,
                         actor=Actor(username="ops", role=ADMIN_ROLE, school_code=None))
    return db


def _bind(client, row: dict, category: str = "mainland") -> str:
    token = ""
    if category == "mainland":
        token = client.post("/api/v1/student/verify-identity",
                            json={"name": row["姓名"], "id_number": row["证件号码"]}).get_json()["verification_token"]
    response = client.post("/api/v1/student/bind", json={
        "category": category, "school_code": "10561", "student_no": row["学号"], "name": row["姓名"],
        "id_type": "01" if category == "mainland" else "02", "id_number": row["证件号码"], "password": PASSWORD,
        "verification_token": token})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["csrf_token"]


def _put(client, token: str, section: str, body):
    return client.put(f"/api/v1/student/report/{section}", json=body, headers={"X-CSRF-Token": token})


def _submit(client, token: str):
    return client.post("/api/v1/student/report/submit", headers={"X-CSRF-Token": token})


def _counselor() -> Actor:
    return f.actor("counselor", f.school())


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_bind_draft_submit_reject_revise_resubmit(client, roster_db) -> None:
    token = _bind(client, MAINLAND)
    report = client.get("/api/v1/student/report").get_json()
    assert (report["review_status"], report["report_status"], report["editable"]) == ("未提交", "未上报", True)
    assert report["data"]["school"]["student_no"] == MAINLAND["学号"]
    assert report["labels"]["school"]["education_level"] == "本科生毕业"
    assert report["labels"]["personal"]["gender"] == "男"
    assert {"student_no", "college", "major", "exam_no", "education_level"} <= set(report["read_only_fields"]["school"])
    assert set(report["read_only_fields"]["personal"]) == {"name", "gender", "id_type", "id_number"}
    assert report["latest_rejection"] is None and report["review_history"] == []
    lock = report["lock_version"]

    # roster fields: changing one is refused, sending it back unchanged is fine
    refused = _put(client, token, "personal", {"name": "改名", **PERSONAL})
    assert refused.status_code == 422 and refused.get_json()["code"] == "read_only_field"
    assert list(refused.get_json()["details"]) == ["personal.name"]
    saved = _put(client, token, "personal", {"name": MAINLAND["姓名"], "id_number": MAINLAND["证件号码"].lower(),
                                             "ethnicity": "01"})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["lock_version"] == lock + 1

    # a malformed value is never stored; the error names its field path
    bad = _put(client, token, "other", {**OTHER, "phone": "12345", "email": "not-mail"})
    assert bad.status_code == 422
    assert set(bad.get_json()["details"]) == {"other.phone", "other.email"}
    assert client.get("/api/v1/student/report").get_json()["data"]["other"] == {}

    # submit with sections still incomplete: 422 with field paths
    failed = _submit(client, token)
    assert failed.status_code == 422 and failed.get_json()["code"] == "report_invalid"
    details = failed.get_json()["details"]
    assert {"school.normal_type", "personal.political", "other.email", "other.current_hukou_region"} <= set(details)
    assert "personal.ethnicity" not in details  # saved in the draft

    assert _put(client, token, "school", {"normal_type": "2"}).status_code == 200
    assert _put(client, token, "personal", PERSONAL).status_code == 200
    assert _put(client, token, "other", OTHER).status_code == 200
    submitted = _submit(client, token)
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["review_status"] == "二级待审" and submitted.get_json()["report_status"] == "已提交"
    record = Record.get(Record.student_no == MAINLAND["学号"])
    assert record.submitted_at is not None and record.origin_region == "440106"
    assert record.data["other"]["hukou_moved"] is False

    # pending review: no edits, no second submit
    locked = _put(client, token, "other", OTHER)
    assert locked.status_code == 409 and locked.get_json()["code"] == "pending_review"
    assert _submit(client, token).status_code == 409

    complete_task(record.id, _counselor(), decision="reject", comment="生源所在地请填写户籍所在区县")
    report = client.get("/api/v1/student/report").get_json()
    assert (report["review_status"], report["editable"]) == ("不同意", True)
    assert report["latest_rejection"]["comment"] == "生源所在地请填写户籍所在区县"
    assert [(h["action"], h["decision"], h["status_after"]) for h in report["review_history"]] == [
        ("submit", "", "二级待审"), ("review", "reject", "不同意")]
    assert report["review_history"][1]["role_label"] == "二级用户（辅导员）"

    assert _put(client, token, "personal", {**PERSONAL, "origin_region": "440103"}).status_code == 200
    again = _submit(client, token)
    assert again.status_code == 200 and again.get_json()["review_status"] == "二级待审"
    assert Record.get_by_id(record.id).origin_region == "440103"
    assert ProcessInstance.get(ProcessInstance.record == record.id).status == "二级待审"


def test_hmt_student_current_hukou_region_is_refused(client, roster_db) -> None:
    token = _bind(client, HMT, "hmt")
    report = client.get("/api/v1/student/report").get_json()
    assert report["category"] == "hmt" and report["labels"]["personal"]["id_type"] == "港澳居民来往内地通行证"
    assert _put(client, token, "school", {"normal_type": "2"}).status_code == 200
    assert _put(client, token, "personal", {**PERSONAL, "origin_region": "810000"}).status_code == 200
    draft = _put(client, token, "other", {**OTHER, "phone": "+85291234567"})
    assert draft.status_code == 200
    assert "other.current_hukou_region" in draft.get_json()["warnings"]  # a draft only warns
    refused = _submit(client, token)
    assert refused.status_code == 422
    assert list(refused.get_json()["details"]) == ["other.current_hukou_region"]
    assert _put(client, token, "other", {**OTHER, "phone": "+85291234567", "current_hukou_region": ""}).status_code == 200
    assert _submit(client, token).get_json()["review_status"] == "二级待审"


def test_directed_student_needs_the_directed_unit(client, roster_db) -> None:
    token = _bind(client, DIRECTED)
    assert client.get("/api/v1/student/report").get_json()["data"]["school"]["training_mode"] == "2"
    for section, body in (("school", {"normal_type": "2"}), ("personal", PERSONAL), ("other", OTHER)):
        assert _put(client, token, section, body).status_code == 200
    refused = _submit(client, token)
    assert refused.status_code == 422 and list(refused.get_json()["details"]) == ["school.directed_unit"]
    # training_mode comes from the roster: the student cannot switch it to dodge the rule
    dodge = _put(client, token, "school", {"normal_type": "2", "training_mode": "1"})
    assert dodge.status_code == 422 and "school.training_mode" in dodge.get_json()["details"]
    assert _put(client, token, "school", {"normal_type": "2", "directed_unit": "广东省教育厅"}).status_code == 200
    assert _submit(client, token).status_code == 200


def test_deadline_refuses_submission(roster_db, settings, client) -> None:
    _bind(client, MAINLAND)
    user = User.get(User.username == MAINLAND["学号"])
    actor = actor_for_user(user)
    for section, body in (("school", {"normal_type": "2"}), ("personal", PERSONAL), ("other", OTHER)):
        student_report.save_section(actor, section, body)
    closed = load_settings(environ={}, deadline="2020-11-05T12:00+08:00")
    with pytest.raises(PermissionDenied) as caught:
        student_report.submit(actor, closed, now=datetime(2020, 11, 5, 4, 0, 1, tzinfo=UTC))
    assert caught.value.code == "deadline_passed"
    result = student_report.submit(actor, closed, now=datetime(2020, 11, 5, 3, 59, tzinfo=UTC))
    assert result.status_after == "二级待审"


def test_bad_requests_are_4xx(client, roster_db) -> None:
    assert client.get("/api/v1/student/report").status_code == 401
    token = _bind(client, MAINLAND)
    assert client.put("/api/v1/student/report/other", json=OTHER).status_code == 403  # no CSRF header
    assert _put(client, token, "nonsense", {}).status_code == 404
    assert _put(client, token, "other", ["x"]).status_code == 422
    unknown = _put(client, token, "other", {"hobby": "chess"})
    assert unknown.status_code == 422 and "other.hobby" in unknown.get_json()["details"]
    wrong_type = _put(client, token, "school", {"duration_years": "four"})
    assert wrong_type.status_code == 422
    response = client.put("/api/v1/student/report/other", data="{", content_type="application/json",
                          headers={"X-CSRF-Token": token})
    assert response.status_code == 422
    stale = client.put("/api/v1/student/report/other", json=OTHER, headers={"X-CSRF-Token": token, "If-Match": "99"})
    assert stale.status_code == 409 and stale.get_json()["code"] == "stale_version"


def test_reviewers_cannot_use_the_student_report(client, roster_db) -> None:
    from tests.support.accounts import login, make_user

    make_user("coun1", "counselor", "10561")
    login(client, "coun1", "10561")
    assert client.get("/api/v1/student/report").status_code == 403


def test_code_tables_for_the_forms(client, db) -> None:
    tables = client.get("/api/v1/codes").get_json()["tables"]
    by_name = {t["name"]: t for t in tables}
    assert by_name["ethnicity"]["rows"] == 58 and by_name["gender"]["title"] == "性别"
    assert by_name["region"]["hierarchical"] and not by_name["gender"]["hierarchical"]
    gender = client.get("/api/v1/codes/gender").get_json()
    assert gender["rows"] == [{"code": "1", "label": "男", "parent": None}, {"code": "2", "label": "女", "parent": None}]
    provinces = client.get("/api/v1/codes/region?parent=").get_json()["rows"]
    assert {"code": "440000", "label": "广东省", "parent": None} in provinces
    assert {"810000", "820000", "830000"} <= {r["code"] for r in provinces}
    cities = client.get("/api/v1/codes/region?parent=440000").get_json()["rows"]
    assert {"code": "440100", "label": "广州市", "parent": "440000"} in cities
    assert all(r["parent"] == "440000" for r in cities)
    assert client.get("/api/v1/codes/nonsense").status_code == 404
