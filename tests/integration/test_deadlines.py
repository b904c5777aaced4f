"""The centre-managed deadline (issue 10 item 3), replayed over HTTP like the original report:

the deadline passes → students can no longer save a draft, submit or bind (4xx, nothing written)
and their pages show a read-only banner; a rejected record can be resubmitted inside the
resubmission window and not after it; extensions per college / per student apply only to them;
every change is audited and the audit chains verify.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.models import (
    AuditEvent,
    DeadlineExtension,
    ProcessInstance,
    Record,
    RosterStudent,
    SchoolDeadline,
    User,
)
from service.services import audit, roster
from service.services.actors import ADMIN_ROLE, Actor
from service.services.transitions import complete_task
from tests.support import accounts as acc
from tests.support import factories as f
from tests.support import roster_files as rf

PASSWORD = "student-pass-1"
CS = [rf.student(n) for n in (1, 2, 4, 5, 7)]  # 计算机学院
MATH = [rf.student(n) for n in (3, 6, 9)]  # 数学学院
HMT = rf.hmt_student(8)  # 计算机学院, binds without the identity check
PERSONAL = {"ethnicity": "01", "political": "03", "origin_region": "440106", "urban_rural": "1", "hardship": "0"}
OTHER = {"hukou_moved": False, "archive_moved": True, "current_hukou_region": "440106", "phone": "13800138000",
         "email": "student@example.com", "home_address": "广州市天河区五山路1号"}


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).astimezone().isoformat(timespec="seconds")


@pytest.fixture
def school(db):
    f.school()
    roster.import_roster(rf.xlsx_bytes([*CS, *MATH, HMT]), "r.xlsx", school_code="10561", year=2021,
                         actor=Actor(username="ops", role=ADMIN_ROLE, school_code=None))
    acc.make_user("centre1", "centre", "10561")
    return db


class Student:
    def __init__(self, app, row: dict) -> None:
        self.client, self.row = app.test_client(), row
        self.token = ""

    def verify(self) -> str:
        return self.client.post("/api/v1/student/verify-identity",
                                json={"name": self.row["姓名"], "id_number": self.row["证件号码"]}
                                ).get_json()["verification_token"]

    def bind(self):
        response = self.client.post("/api/v1/student/bind", json={
            "category": "mainland", "school_code": "10561", "student_no": self.row["学号"], "name": self.row["姓名"],
            "id_type": "01", "id_number": self.row["证件号码"], "password": PASSWORD,
            "verification_token": self.verify()})
        if response.status_code == 201:
            self.token = response.get_json()["csrf_token"]
        return response

    def put(self, section: str, body: dict):
        return self.client.put(f"/api/v1/student/report/{section}", json=body, headers={"X-CSRF-Token": self.token})

    def fill(self) -> None:
        for section, body in (("school", {"normal_type": "2"}), ("personal", PERSONAL), ("other", OTHER)):
            assert self.put(section, body).status_code == 200

    def submit(self):
        return self.client.post("/api/v1/student/report/submit", headers={"X-CSRF-Token": self.token})

    def report(self) -> dict:
        return self.client.get("/api/v1/student/report").get_json()

    @property
    def record(self) -> Record:
        return Record.get(Record.student_no == self.row["学号"])


class Centre:
    def __init__(self, app) -> None:
        self.client = app.test_client()
        self.token = acc.login(self.client, "centre1", "10561")

    def put(self, **body):
        return self.client.put("/api/v1/deadline", json=body, headers={"X-CSRF-Token": self.token})

    def extend(self, **body):
        return self.client.post("/api/v1/deadline/extensions", json=body, headers={"X-CSRF-Token": self.token})

    def remove(self, ext_id: int):
        return self.client.delete(f"/api/v1/deadline/extensions/{ext_id}", headers={"X-CSRF-Token": self.token})


def _reject(record: Record) -> None:
    complete_task(record.id, f.actor("counselor", f.school()), decision="reject", comment="请核对生源所在地")


def _college_id(row: dict) -> int:
    return RosterStudent.get(RosterStudent.student_no == row["学号"]).college_id


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_deadline_passes_then_nothing_is_written_and_rejected_records_get_the_window(app, school) -> None:
    centre = Centre(app)
    drafting, rejected, late_binder = Student(app, CS[0]), Student(app, CS[1]), Student(app, CS[2])
    assert drafting.bind().status_code == 201
    drafting.put("school", {"normal_type": "2"})
    assert rejected.bind().status_code == 201
    rejected.fill()
    assert rejected.submit().status_code == 200
    _reject(rejected.record)
    assert drafting.report()["editing_open"] is True and drafting.report()["deadline"] is None

    # The centre sets the deadline in the past (in Beijing time, as the page would).
    set_ = centre.put(deadline=(datetime.now(UTC) - timedelta(hours=1)).astimezone().isoformat())
    assert set_.status_code == 200, set_.get_json()
    assert set_.get_json()["source"] == "school" and set_.get_json()["deadline_passed"] is True

    # A draft, a submit and a bind are refused with a Chinese 403, and nothing is written.
    before = (drafting.record.data, ProcessInstance.get(ProcessInstance.record == drafting.record.id).lock_version)
    events_before = AuditEvent.select().count()
    refused = drafting.put("personal", PERSONAL)
    assert refused.status_code == 403 and refused.get_json()["code"] == "deadline_passed"
    assert "截止" in refused.get_json()["message"]
    refused = drafting.submit()
    assert refused.status_code == 403 and refused.get_json()["code"] == "deadline_passed"
    bind = late_binder.bind()
    assert bind.status_code == 403 and bind.get_json()["code"] == "binding_closed"
    assert "截止" in bind.get_json()["message"]
    assert not User.select().where(User.username == CS[2]["学号"]).exists()
    assert not Record.select().where(Record.student_no == CS[2]["学号"]).exists()
    assert (drafting.record.data, ProcessInstance.get(ProcessInstance.record == drafting.record.id).lock_version) \
        == before
    assert AuditEvent.select().count() == events_before

    # The report says why; the pages show the banner and render read-only.
    report = drafting.report()
    assert (report["editable"], report["editing_open"], report["editing_state"]) == (False, False, "deadline_passed")
    assert report["closed_reason"]["code"] == "deadline_passed" and "截止" in report["closed_reason"]["message"]
    home = drafting.client.get("/student/").get_data(as_text=True)
    assert 'id="deadline-banner"' in home and "填报已截止" in home and "填写生源信息" not in home
    page = drafting.client.get("/student/report/personal").get_data(as_text=True)
    assert 'id="deadline-banner"' in page and 'id="report-form"' not in page and "保存草稿" not in page
    posted = drafting.client.post("/student/report/personal", data={
        "csrf_token": drafting.token, "action": "save", "personal.ethnicity": "02"})
    assert posted.status_code == 403 and "截止" in posted.get_data(as_text=True)
    assert drafting.record.data == before[0]

    # The rejected record: refused without a window, then open inside the resubmission window.
    assert rejected.report()["editing_open"] is False
    assert rejected.put("personal", PERSONAL).status_code == 403
    window = centre.put(deadline=set_.get_json()["deadline"], resubmit_until=iso(timedelta(hours=2)))
    assert window.status_code == 200, window.get_json()
    report = rejected.report()
    assert (report["editable"], report["editing_state"]) == (True, "resubmit_window")
    assert 'id="deadline-banner"' in rejected.client.get("/student/").get_data(as_text=True)
    assert rejected.put("personal", {**PERSONAL, "origin_region": "440103"}).status_code == 200
    assert drafting.put("personal", PERSONAL).status_code == 403  # never submitted: no window for it
    resubmitted = rejected.submit()
    assert resubmitted.status_code == 200 and resubmitted.get_json()["review_status"] == "二级待审"

    # Rejected again, after the window closed: refused.
    _reject(rejected.record)
    assert centre.put(deadline=set_.get_json()["deadline"],
                      resubmit_until=iso(timedelta(minutes=-1))).status_code == 200
    assert rejected.put("personal", PERSONAL).status_code == 403
    late = rejected.submit()
    assert late.status_code == 403 and late.get_json()["code"] == "deadline_passed"
    assert "重新提交期限" in late.get_json()["message"]

    # Every change is audited on the school chain, and the chains verify.
    changes = list(AuditEvent.select().where((AuditEvent.chain_key == "school:10561")
                                             & (AuditEvent.action == "deadline_set")).order_by(AuditEvent.seq))
    assert len(changes) == 3 and all(e.actor == "centre1" and e.actor_role == "centre" for e in changes)
    assert changes[0].data_changed["deadline"][0] is None and "resubmit_until" in changes[1].data_changed
    assert audit.verify().ok


def test_extensions_apply_only_to_their_college_or_student(app, school) -> None:
    centre = Centre(app)
    cs_a, cs_b, math_a, math_late = (Student(app, CS[0]), Student(app, CS[1]), Student(app, MATH[0]),
                                     Student(app, MATH[1]))
    for s in (cs_a, cs_b, math_a):
        assert s.bind().status_code == 201
    past = iso(timedelta(hours=-3))
    assert centre.put(deadline=past).status_code == 200

    college = centre.extend(college_id=_college_id(CS[0]), until=iso(timedelta(days=2)), reason="实习集中返校晚")
    assert college.status_code == 201, college.get_json()
    assert college.get_json()["kind"] == "college" and college.get_json()["college_name"] == "计算机学院"
    own = centre.extend(student_no=MATH[1]["学号"], until=iso(timedelta(days=1)), reason="因病住院")
    assert own.status_code == 201, own.get_json()

    # 计算机学院 students are open again; 数学学院 students are not, except the one with their own extension.
    assert cs_a.report()["deadline_source"] == "college" and cs_a.report()["editing_open"] is True
    cs_a.fill()
    assert cs_a.submit().status_code == 200
    assert cs_b.put("school", {"normal_type": "2"}).status_code == 200
    assert math_a.put("school", {"normal_type": "2"}).status_code == 403
    assert math_a.report()["deadline_source"] == "school"
    assert math_late.bind().status_code == 201  # their own extension reopens binding for them only
    assert math_late.report()["deadline_source"] == "student"
    assert Student(app, MATH[2]).bind().status_code == 403
    assert Student(app, CS[2]).bind().status_code == 201  # the college's extension covers binding too

    # A second extension for the same college is refused; list, remove, and the college closes again.
    again = centre.extend(college_id=_college_id(CS[0]), until=iso(timedelta(days=3)), reason="再次延期")
    assert again.status_code == 409
    listed = centre.client.get("/api/v1/deadline/extensions").get_json()["items"]
    assert {(e["kind"], e["student_no"]) for e in listed} == {("college", ""), ("student", MATH[1]["学号"])}
    assert centre.remove(college.get_json()["id"]).status_code == 204
    assert centre.remove(college.get_json()["id"]).status_code == 404
    assert cs_b.put("school", {"normal_type": "2"}).status_code == 403

    actions = [e.action for e in AuditEvent.select().where(AuditEvent.chain_key == "school:10561")
               .order_by(AuditEvent.seq)]
    assert actions[-4:] == ["deadline_set", "deadline_extension_add", "deadline_extension_add",
                            "deadline_extension_remove"]
    student_event = next(e for e in AuditEvent.select().where((AuditEvent.action == "deadline_extension_add")
                                                              & (AuditEvent.chain_key == "school:10561"))
                         if e.data_changed.get("kind") == "student")
    assert student_event.data_changed["student_no"] == MATH[1]["学号"]
    assert student_event.data_changed["reason"] == [None, "因病住院"]
    assert audit.verify().ok


def test_default_setting_applies_until_the_centre_sets_one(app, school, settings) -> None:
    from dataclasses import replace

    from service import create_app

    closed = create_app(replace(settings, deadline="2020-11-05T12:00+08:00"))
    centre = Centre(closed)
    got = centre.client.get("/api/v1/deadline").get_json()
    assert got["source"] == "default" and got["deadline"] == "2020-11-05T04:00:00+00:00" and got["deadline_passed"]
    assert Student(closed, CS[0]).bind().status_code == 403
    assert centre.put(deadline=iso(timedelta(days=5))).get_json()["source"] == "school"
    assert Student(closed, CS[0]).bind().status_code == 201
    kept = centre.put(resubmit_until=iso(timedelta(days=9)))  # an omitted setting stays as it was
    assert kept.status_code == 200 and kept.get_json()["source"] == "school" and kept.get_json()["resubmit_until"]
    cleared = centre.put(deadline=None)
    assert cleared.status_code == 200 and cleared.get_json()["source"] == "default"
    assert SchoolDeadline.get_by_id("10561").deadline is None
    assert SchoolDeadline.get_by_id("10561").resubmit_until is not None


@pytest.mark.parametrize("body", [
    {"deadline": "not a date"}, {"deadline": "1999-12-31T23:00+00:00"}, {"deadline": "2101-01-01T00:00+08:00"},
    {"deadline": "2020-11-05T12:00\x00+08:00"}, {"deadline": 12}, {"deadline": "9" * 500},
    {"resubmit_until": "2020-13-45T99:99"}, {"deadline": "0001-01-01T00:00+14:00"},
])
def test_hostile_deadlines_are_422_in_chinese(app, school, body) -> None:
    response = Centre(app).put(**body)
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()) == {"code", "message", "details"}
    assert any("\u4e00" <= c <= "\u9fff" for c in response.get_json()["message"])
    assert SchoolDeadline.select().count() == 0


@pytest.mark.parametrize("body", [
    {"college_id": None, "student_no": None, "until": "2030-01-01T00:00+08:00", "reason": "x"},
    {"student_no": "2017000001", "until": "2030-01-01T00:00+08:00", "reason": "长" * 201},
    {"student_no": "2017000001", "until": "2030-01-01T00:00+08:00", "reason": "a\x00b"},
    {"student_no": "2017000001", "until": "2030-01-01T00:00+08:00", "reason": "   "},
    {"student_no": "2017000001", "until": "someday", "reason": "因病"},
    {"student_no": "2017000001", "until": "2200-01-01T00:00+08:00", "reason": "因病"},
    {"student_no": "20170\x0000001", "until": "2030-01-01T00:00+08:00", "reason": "因病"},
    {"student_no": "2017000001", "until": "2030-01-01T00:00+08:00", "reason": "长" * 20_000},
])
def test_hostile_extensions_are_422(app, school, body) -> None:
    response = Centre(app).extend(**body)
    assert response.status_code == 422, response.get_json()
    assert any("\u4e00" <= c <= "\u9fff" for c in response.get_json()["message"])
    assert DeadlineExtension.select().count() == 0


def test_unknown_college_or_student_and_other_schools_are_404(app, school) -> None:
    from service.models import College

    other = f.school("10562", "广州大学")
    foreign = f.college(other, "外校学院")
    centre = Centre(app)
    assert centre.extend(college_id=foreign.id, until=iso(timedelta(days=1)), reason="r").status_code == 404
    assert centre.extend(college_id=2**31 - 1, until=iso(timedelta(days=1)), reason="r").status_code == 404
    assert centre.extend(student_no="19990000000", until=iso(timedelta(days=1)), reason="r").status_code == 404
    with_other = DeadlineExtension.create(school=other, kind="college", college=foreign, target=str(foreign.id),
                                          until=datetime(2030, 1, 1), reason="外校")
    assert centre.remove(with_other.id).status_code == 404
    assert DeadlineExtension.get_by_id(with_other.id).reason == "外校"
    assert College.select().count() >= 3


def test_centre_pages_set_deadline_and_extensions(app, school) -> None:
    centre = Centre(app)
    page = centre.client.get("/centre/deadline")
    assert page.status_code == 200 and "填报截止时间" in page.get_data(as_text=True)
    saved = centre.client.post("/centre/deadline", data={
        "csrf_token": centre.token, "deadline_date": "2020-11-05", "deadline_time": "12:00",
        "resubmit_date": "2020-11-10", "resubmit_time": "18:00"})
    assert saved.status_code == 302
    row = SchoolDeadline.get_by_id("10561")
    assert row.deadline == datetime(2020, 11, 5, 4, 0) and row.resubmit_until == datetime(2020, 11, 10, 10, 0)
    text = centre.client.get("/centre/deadline").get_data(as_text=True)
    assert "2020-11-05 12:00" in text and 'value="2020-11-05"' in text and 'value="12:00"' in text
    bad = centre.client.post("/centre/deadline", data={"csrf_token": centre.token, "deadline_date": "1899-01-01",
                                                       "deadline_time": "12:00"})
    assert bad.status_code == 422 and "年份应在" in bad.get_data(as_text=True)
    added = centre.client.post("/centre/deadline/extensions", data={
        "csrf_token": centre.token, "kind": "college", "college_id": str(_college_id(MATH[0])),
        "until_date": "2099-11-20", "until_time": "12:00", "reason": "毕业设计答辩推迟"})
    assert added.status_code == 302
    long_reason = centre.client.post("/centre/deadline/extensions", data={
        "csrf_token": centre.token, "kind": "student", "student_no": CS[0]["学号"],
        "until_date": "2020-11-20", "until_time": "12:00", "reason": "长" * 201})
    assert long_reason.status_code == 422 and "200" in long_reason.get_data(as_text=True)
    assert centre.client.post("/centre/deadline", data={"deadline_date": "2020-11-05"}).status_code == 403  # CSRF
    dashboard = centre.client.get("/centre/dashboard").get_data(as_text=True)
    assert "2020-11-05 12:00" in dashboard and "毕业设计答辩推迟" in dashboard and "/centre/deadline" in dashboard
    ext = DeadlineExtension.get()
    assert centre.client.post(f"/centre/deadline/extensions/{ext.id}/delete",
                              data={"csrf_token": centre.token}).status_code == 302
    assert DeadlineExtension.select().count() == 0
    nav = centre.client.get("/centre/dashboard").get_data(as_text=True)
    assert 'href="/centre/deadline"' in nav
    assert audit.verify().ok


def test_the_migration_is_a_step_of_its_own(db) -> None:
    from service.migrations import STEPS, pending, upgrade
    from service.models import ALL_MODELS

    assert "m0006_deadlines" in STEPS and pending(db) == [] and upgrade(db) == []
    assert SchoolDeadline not in ALL_MODELS and DeadlineExtension not in ALL_MODELS
    assert {"school_deadline", "deadline_extension"} <= set(db.get_tables())


def test_the_bind_page_says_binding_is_closed(app, school) -> None:
    import re

    assert Centre(app).put(deadline=iso(timedelta(minutes=-5))).status_code == 200
    client = app.test_client()
    form = client.get("/student/bind?category=hmt").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/student/bind?category=hmt", data={
        "csrf_token": token, "school_code": "10561", "student_no": HMT["学号"], "name": HMT["姓名"],
        "id_type": "02", "id_number": HMT["证件号码"], "password": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 403
    assert "学籍绑定已截止" in response.get_data(as_text=True)
    assert not User.select().where(User.username == HMT["学号"]).exists()
