"""Issue 14, conformance: `gradflow audit conform` replays each record's events against its BPMN.

Histories are written over HTTP (students bind, fill and submit; the counselor and the centre
review; a rejection and a resubmission), then broken the way someone with database access would:
an event deleted, a status edited, a pending task moved, and well-hashed events appended that the
diagram forbids. The chain check passes on the last ones; conformance must still name them.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from service.db import database, write_transaction
from service.models import AuditEvent, College, ProcessInstance, Record
from service.services import audit, processes, roster
from service.services.actors import ADMIN_ROLE, Actor
from service.services.conformance.run import conform
from tests.support import accounts as acc
from tests.support import factories as f
from tests.support import roster_files as rf

pytestmark = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)

PASSWORD = "student-pass-1"
ROWS = [rf.student(n) for n in (1, 2, 4, 5)]  # 计算机学院
PERSONAL = {"ethnicity": "01", "political": "03", "origin_region": "440106", "urban_rural": "1", "hardship": "0"}
OTHER = {"hukou_moved": False, "archive_moved": True, "current_hukou_region": "440106", "phone": "13800138000",
         "email": "student@example.com", "home_address": "广州市天河区五山路1号"}


class Student:
    def __init__(self, app, row: dict) -> None:
        self.client, self.row, self.token = app.test_client(), row, ""

    def bind_fill_submit(self) -> None:
        verified = self.client.post("/api/v1/student/verify-identity",
                                    json={"name": self.row["姓名"], "id_number": self.row["证件号码"]})
        r = self.client.post("/api/v1/student/bind", json={
            "category": "mainland", "school_code": "10561", "student_no": self.row["学号"], "name": self.row["姓名"],
            "id_type": "01", "id_number": self.row["证件号码"], "password": PASSWORD,
            "verification_token": verified.get_json()["verification_token"]})
        assert r.status_code == 201, r.get_json()
        self.token = r.get_json()["csrf_token"]
        for section, body in (("school", {"normal_type": "2"}), ("personal", PERSONAL), ("other", OTHER)):
            assert self.put(section, body).status_code == 200
        self.submit()

    def put(self, section: str, body: dict):
        return self.client.put(f"/api/v1/student/report/{section}", json=body, headers={"X-CSRF-Token": self.token})

    def submit(self) -> None:
        r = self.client.post("/api/v1/student/report/submit", headers={"X-CSRF-Token": self.token})
        assert r.status_code == 200, r.get_json()

    @property
    def record(self) -> Record:
        return Record.get(Record.student_no == self.row["学号"])


class Reviewer:
    def __init__(self, app, username: str) -> None:
        self.client = app.test_client()
        self.token = acc.login(self.client, username, "10561")

    def review(self, record: Record, decision: str, comment: str = "") -> None:
        r = self.client.post(f"/api/v1/records/{record.id}/review", json={"decision": decision, "comment": comment},
                             headers={"X-CSRF-Token": self.token})
        assert r.status_code == 200, r.get_json()


@pytest.fixture
def history(app):
    """Four students over HTTP: one complete (after a rejection and a resubmission), one at the
    centre, one rejected, one waiting for its counselor."""
    school = f.school()
    roster.import_roster(rf.xlsx_bytes(ROWS), "r.xlsx", school_code="10561", year=2021,
                         actor=Actor(username="ops", role=ADMIN_ROLE, school_code=None))
    acc.make_user("counselor1", "counselor", "10561", colleges=[c.name for c in College.select().where(
        College.school == school)])
    acc.make_user("centre1", "centre", "10561")
    students = [Student(app, row) for row in ROWS]
    for s in students:
        s.bind_fill_submit()
    counselor, centre = Reviewer(app, "counselor1"), Reviewer(app, "centre1")
    done, at_centre, rejected, waiting = (s.record for s in students)
    counselor.review(done, "reject", "生源地有误")
    students[0].put("personal", {**PERSONAL, "origin_region": "440104"})
    students[0].submit()
    for rec in (done, at_centre):
        counselor.review(rec, "approve")
    centre.review(done, "approve")
    counselor.review(rejected, "reject", "请补充材料")
    assert ProcessInstance.get(ProcessInstance.record == done.id).completed
    assert audit.verify().ok
    return {"done": done, "at_centre": at_centre, "rejected": rejected, "waiting": waiting}


def _kinds(record_id: int) -> set[str]:
    return {x.kind for x in conform().findings if x.record_id == record_id}


def _events(record: Record) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.record == record.id).order_by(AuditEvent.seq))


def test_histories_made_through_the_api_conform(history):
    result = conform()
    assert result.ok, result.as_dict()["findings"]
    assert result.records == 4
    assert result.events == sum(len(_events(r)) for r in history.values())


def _cli(settings, monkeypatch, *args: str):
    """`gradflow audit conform …` on the test's database, as an operator runs it."""
    from service.cli import main
    from service.config import get_settings

    for name, value in (("DATABASE_URL", settings.database_url), ("SECRET_KEY", settings.secret_key),
                        ("AUDIT_KEY", settings.audit_key), ("PROCESS", settings.process),
                        ("INSTANCE_PATH", settings.instance_path)):
        monkeypatch.setenv(f"GRADFLOW_{name}", value)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, ["audit", "conform", *args])
    finally:
        get_settings.cache_clear()
        audit.use_key(settings)


def test_cli_reports_ok_and_exits_zero(history, settings, monkeypatch):
    out = _cli(settings, monkeypatch, "--school", "10561")
    assert out.exit_code == 0, out.output
    assert "conformance ok: 4 records" in out.output


@pytest.mark.audit_tampered
def test_a_deleted_event_is_a_gap_in_the_history(history):
    done = history["done"]
    approval = next(ev for ev in _events(done) if ev.decision == "approve" and ev.actor_role == "counselor")
    database.execute_sql(f"DELETE FROM audit_event WHERE id = {int(approval.id)}")
    assert not audit.verify().ok  # the chain sees it too
    findings = [x for x in conform().findings if x.record_id == done.id]
    assert [x.kind for x in findings] == ["gap"]
    assert "中心待审" in findings[0].message and "二级待审" in findings[0].message


@pytest.mark.audit_tampered
def test_a_status_edited_in_the_database_disagrees_with_history_and_engine(history):
    waiting = history["waiting"]
    database.execute_sql(f"UPDATE process_instance SET status = '完成' WHERE record_id = {int(waiting.id)}")
    kinds = _kinds(waiting.id)
    assert {"stored_status", "engine_state"} <= kinds
    assert audit.verify().ok  # nothing in a chain changed: only conformance can tell


@pytest.mark.audit_tampered
def test_the_record_rows_status_copy_edited_alone_is_reported(history):
    rec = history["at_centre"]
    database.execute_sql(f"UPDATE record SET review_status = '完成' WHERE id = {int(rec.id)}")
    assert _kinds(rec.id) == {"record_status"}


@pytest.mark.audit_tampered
def test_a_pending_task_moved_to_another_level_is_reported(history):
    rec = history["waiting"]
    database.execute_sql("UPDATE pending_task SET task_name = 'review_centre', status = '中心待审' "
                         f"WHERE record_id = {int(rec.id)}")
    assert "pending_tasks" in _kinds(rec.id)


def _append(record: Record, **values) -> None:
    """A well-hashed event at the end of the record's chain, as anyone with the key could write."""
    inst = ProcessInstance.get(ProcessInstance.record == record.id)
    _, definition = processes.active_definition("10561")
    with write_transaction():
        audit.append(audit.record_chain(record.id), record=record.id, instance=inst.id, school="10561",
                     process_version=definition.sha256, **values)


@pytest.mark.audit_tampered
def test_a_completion_without_the_centres_approval_verifies_but_does_not_conform(history):
    rec = history["at_centre"]
    # The counselor "approves" a second time, straight to 完成, and the instance is set to match.
    _append(rec, actor="counselor1", actor_role="counselor", action="review", task="review_level2", level="二级",
            decision="approve", status_before="中心待审", status_after="完成")
    database.execute_sql(f"UPDATE process_instance SET status = '完成', completed = {database.param} "
                         f"WHERE record_id = {int(rec.id)}", (True,))
    assert audit.verify().ok, "the forged event is hashed with the key: the chain holds"
    findings = [x for x in conform().findings if x.record_id == rec.id]
    kinds = {x.kind for x in findings}
    assert {"not_reached", "forbidden"} <= kinds
    forbidden = next(x for x in findings if x.kind == "forbidden")
    assert "完成" in forbidden.message and "中心待审" in forbidden.message  # what the diagram allows instead


@pytest.mark.audit_tampered
def test_a_review_at_a_level_not_reached_verifies_but_does_not_conform(history):
    rec = history["waiting"]
    _append(rec, actor="centre1", actor_role="centre", action="review", task="review_centre", level="中心",
            decision="approve", status_before="二级待审", status_after="完成")
    assert audit.verify().ok
    kinds = _kinds(rec.id)
    assert "not_reached" in kinds and "stored_status" in kinds


@pytest.mark.audit_tampered
def test_a_review_by_another_lane_is_reported(history):
    rec = history["waiting"]
    _append(rec, actor="centre1", actor_role="centre", action="review", task="review_level2", level="二级",
            decision="reject", comment="越级驳回", status_before="二级待审", status_after="不同意")
    assert "wrong_role" in _kinds(rec.id)


@pytest.mark.audit_tampered
def test_a_status_change_that_is_no_task_is_reported(history):
    rec = history["rejected"]
    _append(rec, actor="centre1", actor_role="centre", action="edit", status_before="不同意", status_after="中心待审")
    assert "untasked_change" in _kinds(rec.id)


@pytest.mark.audit_tampered
def test_cli_fails_naming_each_finding_and_json_counts_them(history, settings, monkeypatch):
    rec = history["waiting"]
    database.execute_sql(f"UPDATE process_instance SET status = '完成' WHERE record_id = {int(rec.id)}")
    out = _cli(settings, monkeypatch)
    assert out.exit_code == 1
    assert f"record {rec.id} (10561) stored_status" in out.output
    data = json.loads(_cli(settings, monkeypatch, "--json").stdout)
    assert data["nonconforming"] == 1 and data["by_kind"]["stored_status"] == 1
    unknown = _cli(settings, monkeypatch, "--school", "99999")
    assert unknown.exit_code != 0 and "不存在" in unknown.output


def test_a_school_filter_checks_only_that_school(history):
    assert conform(school="10561").records == 4
    assert conform(school="10562").records == 0


@pytest.mark.parametrize("school", ["1\x0056", "x" * 5000, "\ud800", "10561'; DROP TABLE record; --"])
def test_cli_hostile_school_is_a_chinese_refusal_not_a_traceback(history, settings, monkeypatch, school):
    out = _cli(settings, monkeypatch, "--school", school)
    assert out.exit_code == 1 and out.exception is None or isinstance(out.exception, SystemExit), out.exception
    assert "学校代码" in out.output and "Traceback" not in out.output
    assert Record.select().count() == 4
