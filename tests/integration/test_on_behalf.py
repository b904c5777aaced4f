"""Issue 10, dead end 1: a record a counselor adds (添加) must never get stuck.

Both halves of the original steps, replayed through the HTTP API: the student binds onto the added
record (the account is attached, the counselor's data and the status kept), and, while the student
has no account, a rejected added record is 代为提交 by a reviewer and moves to the next level.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from service.models import AuditEvent, ProcessInstance, Record, User
from service.services import audit
from tests.conftest import DEFAULT_BPMN, TEST_SECRET_KEY
from tests.support import reviewing as rv

STUDENT_PASSWORD = "student-pass-1"
BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def world(db):
    w = rv.make_world()
    rv.user("counselor1", "counselor", w.school, colleges=(w.c1,))
    rv.user("counselor2", "counselor", w.school, colleges=(w.c2,))
    rv.user("centre", "centre", w.school)
    return w


def add_data(w: rv.World) -> dict[str, Any]:
    """What a counselor types into 添加 (the roster supplies the identity fields)."""
    report, _ = rv.report_for(w, w.m1)
    return {"personal": {k: v for k, v in report["personal"].items()
                         if k not in ("name", "gender", "id_type", "id_number")}, "other": report["other"]}


def added_record(app: Any, w: rv.World) -> tuple[Any, dict[str, Any]]:
    """counselor1 → 添加 → a roster 学号 → submit: returns the roster row and the record as the API shows it."""
    student = rv.roster_student(w, w.m1)
    api = rv.login(app, "counselor1")
    r = api.post("/api/v1/records", json={"student_no": student.student_no, "data": add_data(w)})
    assert r.status_code == 201, r.get_json()
    return student, r.get_json()["record"]


def bind(app: Any, student: Any) -> Any:
    """实名认证 + 学籍绑定 as the student does it, in a fresh browser session."""
    client = app.test_client()
    body: dict[str, Any] = {"category": student.category, "school_code": "10561",
                            "student_no": student.student_no, "name": student.name, "id_type": student.id_type,
                            "id_number": student.id_number, "password": STUDENT_PASSWORD}
    if student.category == "mainland":
        verified = client.post("/api/v1/student/verify-identity",
                               json={"name": student.name, "id_number": student.id_number})
        assert verified.status_code == 200, verified.get_json()
        body["verification_token"] = verified.get_json()["verification_token"]
    return client, client.post("/api/v1/student/bind", json=body)


def events(record_id: int) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.record == record_id).order_by(AuditEvent.seq))


def cli_audit_verify(settings: Any) -> subprocess.CompletedProcess:
    """`gradflow audit verify` as the operator runs it, on this test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADFLOW_")}
    env.update(GRADFLOW_DATABASE_URL=settings.resolved_database_url, GRADFLOW_SECRET_KEY=TEST_SECRET_KEY,
               GRADFLOW_PROCESS=str(DEFAULT_BPMN), GRADFLOW_INSTANCE_PATH=settings.instance_path)
    return subprocess.run([sys.executable, "-m", "service.cli", "audit", "verify"], env=env,
                          capture_output=True, text=True, timeout=120)


@BOTH_DATABASES
def test_student_binds_onto_the_added_record_and_resubmits_after_a_rejection(app, world, settings) -> None:
    student, added = added_record(app, world)
    before = Record.get_by_id(added["id"])
    lock_before = ProcessInstance.get(ProcessInstance.record == added["id"]).lock_version
    client, bound = bind(app, student)
    assert bound.status_code == 201, bound.get_json()  # was 409 "该学号已绑定，请直接登录"
    me = client.get("/api/v1/auth/me").get_json()
    assert me["record_id"] == added["id"] and me["username"] == student.student_no
    record = Record.get_by_id(added["id"])
    assert record.user_id == User.get(User.username == student.student_no).id
    assert record.data == before.data and record.created_by == "counselor1"  # the counselor's data kept
    inst = ProcessInstance.get(ProcessInstance.record == added["id"])
    assert (inst.status, inst.lock_version) == ("二级待审", lock_before + 1)
    assert Record.select().where(Record.student_no == student.student_no).count() == 1
    bind_event = events(added["id"])[-1]
    assert (bind_event.action, bind_event.actor, bind_event.status_before, bind_event.status_after) == (
        "bind", student.student_no, "二级待审", "二级待审")
    # binding twice is still refused
    _, again = bind(app, student)
    assert again.status_code == 409 and again.get_json()["code"] == "already_bound"

    # the counselor rejects: the student (who has an account now) resubmits; 代为提交 is not offered
    counselor = rv.login(app, "counselor1")
    rejected = counselor.post(f"/api/v1/records/{added['id']}/review",
                              json={"decision": "reject", "comment": "请核对联系电话"})
    assert rejected.status_code == 200 and rejected.get_json()["status_after"] == "不同意"
    view = counselor.get(f"/api/v1/records/{added['id']}").get_json()
    assert view["editable"] and view["has_account"] and not view["submittable_on_behalf"]
    refused = counselor.post(f"/api/v1/records/{added['id']}/submit-on-behalf", json={})
    assert refused.status_code == 409 and refused.get_json()["code"] == "student_has_account"
    report = client.get("/api/v1/student/report").get_json()
    assert report["editable"] and report["review_status"] == "不同意"
    csrf = bound.get_json()["csrf_token"]
    resubmitted = client.post("/api/v1/student/report/submit", json={"lock_version": report["lock_version"]},
                              headers={"X-CSRF-Token": csrf})
    assert resubmitted.status_code == 200, resubmitted.get_json()
    assert ProcessInstance.get(ProcessInstance.record == added["id"]).status == "二级待审"
    assert audit.verify().ok


@BOTH_DATABASES
def test_rejected_added_record_is_submitted_on_behalf_and_moves_on(app, world, settings) -> None:
    student, added = added_record(app, world)
    counselor = rv.login(app, "counselor1")
    assert counselor.post(f"/api/v1/records/{added['id']}/review",
                          json={"decision": "reject", "comment": "请补充联系电话"}).status_code == 200
    view = counselor.get(f"/api/v1/records/{added['id']}").get_json()
    assert view["review_status"] == "不同意" and view["editable"] and view["submittable_on_behalf"]
    edited = counselor.patch(f"/api/v1/records/{added['id']}", json={"data": {"other": {"phone": "13600136000"}}})
    assert edited.status_code == 200, edited.get_json()
    version = edited.get_json()["record"]["lock_version"]

    stale = counselor.post(f"/api/v1/records/{added['id']}/submit-on-behalf", json={"version": version - 1})
    assert stale.status_code == 409 and stale.get_json()["code"] == "stale_version"
    done = counselor.post(f"/api/v1/records/{added['id']}/submit-on-behalf", json={"version": version})
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["status_before"], done.get_json()["status_after"]) == ("不同意", "二级待审")
    last = events(added["id"])[-1]
    assert (last.actor, last.actor_role, last.action, last.task, last.status_before, last.status_after) == (
        "counselor1", "counselor", "submit_on_behalf", "revise_report", "不同意", "二级待审")
    assert last.data_changed == {"on_behalf_of": student.student_no}
    assert Record.get_by_id(added["id"]).data["other"]["phone"] == "13600136000"
    again = counselor.post(f"/api/v1/records/{added['id']}/submit-on-behalf", json={})
    assert again.status_code == 409 and again.get_json()["code"] == "not_awaiting_student"

    # on through the chain; the centre (also named in on_behalf_roles) may do it after its own 不通过
    assert counselor.post(f"/api/v1/records/{added['id']}/review", json={"decision": "approve"}).status_code == 200
    centre = rv.login(app, "centre")
    assert centre.post(f"/api/v1/records/{added['id']}/review",
                       json={"decision": "reject", "comment": "毕业去向有误"}).status_code == 200
    by_centre = centre.post(f"/api/v1/records/{added['id']}/submit-on-behalf", json={})
    assert by_centre.status_code == 200 and by_centre.get_json()["status_after"] == "二级待审"
    history = counselor.get(f"/api/v1/records/{added['id']}/history").get_json()["items"]
    assert [h["action"] for h in history].count("submit_on_behalf") == 2
    assert audit.verify().ok
    if settings.resolved_database_url.startswith("sqlite"):
        verified = cli_audit_verify(settings)
        assert verified.returncode == 0 and "audit chain ok" in verified.stdout, verified.stderr

    # the student binds late: the record, now at 二级待审 again, is theirs; 代为提交 is gone for good
    student_client, bound = bind(app, student)
    assert bound.status_code == 201, bound.get_json()
    own = student_client.get("/api/v1/student/report").get_json()
    assert [h["action"] for h in own["review_history"]].count("submit_on_behalf") == 2
    assert "二级用户（辅导员） 代为提交" in student_client.get("/student/").get_data(as_text=True)
    assert counselor.post(f"/api/v1/records/{added['id']}/review",
                          json={"decision": "reject", "comment": "再次核对"}).status_code == 200
    assert not counselor.get(f"/api/v1/records/{added['id']}").get_json()["submittable_on_behalf"]


def test_on_behalf_runs_the_students_submit_checks(app, world) -> None:
    _, added = added_record(app, world)
    counselor = rv.login(app, "counselor1")
    assert counselor.post(f"/api/v1/records/{added['id']}/review",
                          json={"decision": "reject", "comment": "缺联系电话"}).status_code == 200
    record = Record.get_by_id(added["id"])
    data = dict(record.data)
    data["other"] = {k: v for k, v in data["other"].items() if k != "phone"}
    Record.update(data=data).where(Record.id == record.id).execute()  # a report the student's submit refuses
    lock = ProcessInstance.get(ProcessInstance.record == record.id).lock_version
    refused = counselor.post(f"/api/v1/records/{added['id']}/submit-on-behalf", json={})
    assert refused.status_code == 422 and refused.get_json()["code"] == "report_invalid"
    assert "other.phone" in refused.get_json()["details"]
    inst = ProcessInstance.get(ProcessInstance.record == record.id)
    assert (inst.status, inst.lock_version) == ("不同意", lock)
    assert events(record.id)[-1].action == "review"


def test_on_behalf_is_refused_where_it_does_not_apply(app, world) -> None:
    _, added = added_record(app, world)
    counselor = rv.login(app, "counselor1")
    pending = counselor.post(f"/api/v1/records/{added['id']}/submit-on-behalf", json={})
    assert pending.status_code == 409 and pending.get_json()["code"] == "not_awaiting_student"
    assert not counselor.get(f"/api/v1/records/{added['id']}").get_json()["submittable_on_behalf"]
    # a record the student has not yet submitted for the first time: the first fill has no on_behalf_roles
    fresh = rv.unsubmitted(world, world.m1)
    first_fill = counselor.post(f"/api/v1/records/{fresh.id}/submit-on-behalf", json={})
    assert first_fill.status_code == 403 and first_fill.get_json()["code"] == "on_behalf_not_allowed"
    # completed
    done = rv.submitted(world, world.m1)
    rv.approve(done, "counselor")
    rv.approve(done, "centre")
    finished = counselor.post(f"/api/v1/records/{done.id}/submit-on-behalf", json={})
    assert finished.status_code == 409 and finished.get_json()["code"] == "record_completed"
    for bad in ({"version": "x"}, {"version": 0}, {"version": 2**40}, {"unknown": 1}, []):
        r = counselor.post(f"/api/v1/records/{added['id']}/submit-on-behalf", json=bad)
        assert r.status_code == 422, (bad, r.status_code)
    assert counselor.post("/api/v1/records/99999999999/submit-on-behalf", json={}).status_code == 404


# -- the console -----------------------------------------------------------------------------------

def _form(api: rv.Api, record: dict[str, Any], **extra: str) -> dict[str, str]:
    return {"csrf_token": api.csrf or "", "lock_version": str(record["lock_version"]), **extra}


def test_console_offers_on_behalf_only_where_allowed_and_asks_for_confirmation(app, world) -> None:
    _, added = added_record(app, world)
    counselor = rv.login(app, "counselor1")
    page = counselor.get(f"/console/records/{added['id']}").get_data(as_text=True)
    assert "代为提交" not in page  # 二级待审: the counselor reviews it, nothing to submit
    assert counselor.post(f"/api/v1/records/{added['id']}/review",
                          json={"decision": "reject", "comment": "请核对"}).status_code == 200
    page = counselor.get(f"/console/records/{added['id']}").get_data(as_text=True)
    assert 'id="on-behalf-form"' in page and 'name="confirm" value="1" required' in page
    record = counselor.get(f"/api/v1/records/{added['id']}").get_json()
    url = f"/console/records/{added['id']}/submit-on-behalf"

    unconfirmed = counselor.client.post(url, data=_form(counselor, record), follow_redirects=True)
    assert unconfirmed.status_code == 200 and "请勾选确认后再代为提交" in unconfirmed.get_data(as_text=True)
    assert ProcessInstance.get(ProcessInstance.record == added["id"]).status == "不同意"
    no_csrf = counselor.client.post(url, data={"confirm": "1", "lock_version": str(record["lock_version"])})
    assert no_csrf.status_code in (400, 403)
    assert ProcessInstance.get(ProcessInstance.record == added["id"]).status == "不同意"

    done = counselor.client.post(url, data=_form(counselor, record, confirm="1"), follow_redirects=True)
    assert done.status_code == 200 and "已代学生提交：不同意 → 二级待审" in done.get_data(as_text=True)
    assert events(added["id"])[-1].action == "submit_on_behalf"
    history = counselor.get(f"/console/records/{added['id']}?tab=history").get_data(as_text=True)
    assert "代为提交" in history
    # posting the stale form again is a message on the record page, not a second step
    stale = counselor.client.post(url, data=_form(counselor, record, confirm="1"), follow_redirects=True)
    assert stale.status_code == 200 and "该记录当前不在学生修改环节，无需代为提交" in stale.get_data(as_text=True)
    assert 'id="on-behalf-form"' not in stale.get_data(as_text=True)
    assert [e.action for e in events(added["id"])].count("submit_on_behalf") == 1


@pytest.mark.parametrize("who, expected", [
    ("counselor1", 302), ("counselor2", 404), ("centre", 302), ("other_school", 404), ("student", 403),
    ("admin", 403), (None, 302),
])
def test_console_on_behalf_authorization(app, world, who: str | None, expected: int) -> None:
    _, added = added_record(app, world)
    rv.reject(Record.get_by_id(added["id"]), "counselor", "请核对")
    rv.user("other_school", "centre", world.other_school)
    rv.user("admin", "admin", None)
    rv.user("student", "student", world.school)
    school = {"other_school": "10562", "admin": None}.get(who or "", "10561")
    api = rv.login(app, who, school)
    record = Record.get_by_id(added["id"])
    lock = ProcessInstance.get(ProcessInstance.record == record.id).lock_version
    r = api.client.post(f"/console/records/{record.id}/submit-on-behalf",
                        data={"csrf_token": api.csrf or "", "lock_version": str(lock), "confirm": "1"})
    assert r.status_code == expected, (who, r.status_code)
    moved = ProcessInstance.get(ProcessInstance.record == record.id).status == "二级待审"
    assert moved is (who in ("counselor1", "centre")), who
    if who is None:
        assert "/login" in r.headers["Location"]


def test_deadlines_apply_to_binding_onto_an_added_record_and_to_on_behalf(app, world, settings) -> None:
    from datetime import UTC, datetime, timedelta

    from service.services.deadlines import store as deadlines

    student, added = added_record(app, world)
    counselor = rv.login(app, "counselor1")
    assert counselor.post(f"/api/v1/records/{added['id']}/review",
                          json={"decision": "reject", "comment": "请核对"}).status_code == 200
    centre = rv.reviewer("centre", world.school)
    deadlines.set_deadline(centre, settings, deadline=datetime.now(UTC) - timedelta(hours=1))
    before = (Record.get_by_id(added["id"]).user_id, len(events(added["id"])))
    _, late = bind(app, student)
    assert late.status_code == 403 and late.get_json()["code"] == "binding_closed"
    refused = counselor.post(f"/api/v1/records/{added['id']}/submit-on-behalf", json={})
    assert refused.status_code == 403 and refused.get_json()["code"] == "deadline_passed"
    assert (Record.get_by_id(added["id"]).user_id, len(events(added["id"]))) == before
    assert not counselor.get(f"/api/v1/records/{added['id']}").get_json()["submittable_on_behalf"]
    assert 'id="on-behalf-form"' not in counselor.get(f"/console/records/{added['id']}").get_data(as_text=True)
    # the resubmission window the centre opens for rejected records opens 代为提交 as well
    deadlines.set_deadline(centre, settings, resubmit_until=datetime.now(UTC) + timedelta(days=1))
    assert counselor.get(f"/api/v1/records/{added['id']}").get_json()["submittable_on_behalf"]
    done = counselor.post(f"/api/v1/records/{added['id']}/submit-on-behalf", json={})
    assert done.status_code == 200 and done.get_json()["status_after"] == "二级待审"


@BOTH_DATABASES
def test_concurrent_on_behalf_and_binding_leave_one_consistent_story(app, world, settings) -> None:
    """Two reviewers 代为提交 while the student binds, all at once: at most one on-behalf step lands,
    nothing fails with anything but a 409, and the record's chain verifies."""
    import threading

    from service.errors import GradflowError
    from service.services import binding, identity
    from service.services.on_behalf.submit import submit_on_behalf

    student, added = added_record(app, world)
    rv.reject(Record.get_by_id(added["id"]), "counselor", "请核对")
    token = identity.verify_identity(student.name, student.id_number, settings) \
        if student.category == "mainland" else ""
    request = binding.BindRequest(category=student.category, school_code="10561", student_no=student.student_no,
                                  name=student.name, id_type=student.id_type, id_number=student.id_number,
                                  password=STUDENT_PASSWORD, verification_token=token)
    actors = [rv.reviewer("counselor", world.school, college_ids=frozenset({world.c1.id})),
              rv.reviewer("centre", world.school)]
    barrier = threading.Barrier(3)
    outcomes: dict[str, Any] = {}

    def run(name: str, work: Any) -> None:
        barrier.wait()
        try:
            outcomes[name] = work()
        except GradflowError as exc:
            outcomes[name] = exc
        except Exception as exc:  # noqa: BLE001 - recorded, asserted below
            outcomes[name] = ("unexpected", exc)

    threads = [threading.Thread(target=run, args=(f"on_behalf_{i}", lambda a=a: submit_on_behalf(a, added["id"], settings)))
               for i, a in enumerate(actors)]
    threads.append(threading.Thread(target=run, args=("bind", lambda: binding.bind(request, settings))))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(isinstance(v, tuple) for v in outcomes.values()), outcomes
    failures = [v for v in outcomes.values() if isinstance(v, GradflowError)]
    assert all(f.status == 409 for f in failures), [(f.code, f.message) for f in failures]
    actions = [e.action for e in events(added["id"])]
    landed = [k for k in ("on_behalf_0", "on_behalf_1") if not isinstance(outcomes[k], GradflowError)]
    assert len(landed) == actions.count("submit_on_behalf") <= 1
    if not isinstance(outcomes["bind"], GradflowError) and landed:
        assert actions.index("submit_on_behalf") < actions.index("bind")  # acted for a student without account
    status = ProcessInstance.get(ProcessInstance.record == added["id"]).status
    assert status == ("二级待审" if landed else "不同意")
    assert audit.verify().ok
