"""Single and batch review: decisions, conflicts, skip reasons, the majors sidebar."""

from __future__ import annotations

import pytest

from service.models import AuditEvent, PendingTask, ProcessInstance
from service.services import audit
from service.services.reviews import review_batch
from tests.conftest import THREE_LEVEL_BPMN
from tests.support import reviewing as rv

BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def world(db):
    return rv.make_world()


def _status(rec) -> str:
    return ProcessInstance.get(ProcessInstance.record == rec.id).status


def test_single_review_approve_reject_and_conflicts(app, world) -> None:
    a, b = rv.submitted(world, world.m1), rv.submitted(world, world.m1)
    rv.user("c1", "counselor", world.school, colleges=(world.c1,))
    rv.user("c1b", "counselor", world.school, colleges=(world.c1,))
    rv.user("centre", "centre", world.school)
    api, rival, centre = rv.login(app, "c1"), rv.login(app, "c1b"), rv.login(app, "centre")

    # the centre cannot act on a record waiting for the counselor
    r = centre.post(f"/api/v1/records/{a.id}/review", json={"decision": "approve"})
    assert r.status_code == 409 and r.get_json()["code"] == "not_pending_at_your_level"
    # a rejection needs a comment
    r = api.post(f"/api/v1/records/{a.id}/review", json={"decision": "reject", "comment": "  "})
    assert r.status_code == 422 and "comment" in r.get_json()["details"]
    assert api.post(f"/api/v1/records/{a.id}/review", json={"decision": "maybe"}).status_code == 422
    # the version read is stale once someone else acted
    version = api.get(f"/api/v1/records/{a.id}").get_json()["lock_version"]
    r = rival.post(f"/api/v1/records/{a.id}/review", json={"decision": "approve", "version": version})
    assert r.status_code == 200 and r.get_json()["status_after"] == "中心待审"
    r = api.post(f"/api/v1/records/{a.id}/review", json={"decision": "approve", "version": version})
    assert r.status_code == 409 and r.get_json()["code"] == "stale_version"
    r = api.post(f"/api/v1/records/{a.id}/review", json={"decision": "approve"})
    assert r.status_code == 409 and r.get_json()["code"] == "not_pending_at_your_level"
    # the centre finishes it; a rejection goes back to the student with the comment
    r = centre.post(f"/api/v1/records/{a.id}/review", json={"decision": "approve"})
    assert r.get_json()["status_after"] == "完成" and _status(a) == "完成"
    r = api.post(f"/api/v1/records/{b.id}/review", json={"decision": "reject", "comment": "请核对手机号码"})
    assert r.status_code == 200 and r.get_json()["status_after"] == "不同意"
    ev = AuditEvent.select().where((AuditEvent.record == b.id) & (AuditEvent.action == "review")).get()
    assert (ev.decision, ev.comment, ev.level, ev.actor) == ("reject", "请核对手机号码", "二级", "c1")
    assert audit.verify().ok


def test_single_review_out_of_scope_is_404(app, world) -> None:
    rec = rv.submitted(world, world.m3)  # college 2
    rv.user("c1", "counselor", world.school, colleges=(world.c1,))
    r = rv.login(app, "c1").post(f"/api/v1/records/{rec.id}/review", json={"decision": "approve"})
    assert r.status_code == 404 and _status(rec) == "二级待审"


@BOTH_DATABASES
def test_batch_by_selection_reports_each_skip_reason(app, world) -> None:
    w = world
    pending = [rv.submitted(w, w.m1) for _ in range(3)]
    already = rv.submitted(w, w.m1)
    rv.approve(already, "counselor")  # now 中心待审: already past the counselor
    done = rv.submitted(w, w.m2)
    rv.approve(done, "counselor")
    rv.approve(done, "centre")  # 完成
    not_yet = rv.unsubmitted(w, w.m1)  # 未提交: not at the counselor's level yet
    out = rv.submitted(w, w.m3)  # college 2: out of scope
    elsewhere = rv.submitted(w, w.other_major)  # other school
    rv.user("c1", "counselor", w.school, colleges=(w.c1,))
    api = rv.login(app, "c1")
    ids = [p.id for p in pending] + [already.id, done.id, not_yet.id, out.id, elsewhere.id, 987654]
    r = api.post("/api/v1/reviews/batch", json={"record_ids": ids, "decision": "approve"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["requested"], body["candidates"], body["succeeded"]) == (len(ids), 3, 3)
    reasons = {s["record_id"]: s["reason"] for s in body["skipped"]}
    assert reasons == {already.id: "already_reviewed", done.id: "already_reviewed", not_yet.id: "not_at_your_level",
                       out.id: "not_found", elsewhere.id: "not_found", 987654: "not_found"}
    assert body["status_after"] == {"中心待审": 3}
    assert [_status(p) for p in pending] == ["中心待审"] * 3
    assert (_status(out), _status(elsewhere), _status(not_yet)) == ("二级待审", "二级待审", "未提交")
    # repeating the call changes nothing: every record is now skipped as already reviewed
    again = api.post("/api/v1/reviews/batch", json={"record_ids": [p.id for p in pending], "decision": "approve"})
    assert again.get_json()["succeeded"] == 0
    assert {s["reason"] for s in again.get_json()["skipped"]} == {"already_reviewed"}
    assert audit.verify().ok


def test_batch_answers_alike_for_out_of_scope_and_missing_ids(app, world) -> None:
    """The attack: a counselor of college 1 probes ids; `out_of_scope` used to say "this id exists in
    your school", `not_found` "it does not (or is another school's)". Now both get one answer."""
    w = world
    other_college = rv.submitted(w, w.m3)  # same school, college 2: not the counselor's
    other_school = rv.submitted(w, w.other_major)
    rv.user("c1", "counselor", w.school, colleges=(w.c1,))
    api = rv.login(app, "c1")
    probe = [other_college.id, other_school.id, 99_999_999]
    r = api.post("/api/v1/reviews/batch", json={"record_ids": probe, "decision": "approve"})
    assert r.status_code == 200
    answers = {s["record_id"]: (s["reason"], s["message"]) for s in r.get_json()["skipped"]}
    assert set(answers) == set(probe) and len(set(answers.values())) == 1
    assert answers[other_college.id] == ("not_found", "记录不存在")
    r = api.post("/api/v1/reviews/batch", json={"majors": [w.m3.id, w.other_major.id, 99_999_999],
                                                "decision": "approve"})
    answers_m = {s["major_id"]: (s["reason"], s["message"]) for s in r.get_json()["skipped"]}
    assert len(answers_m) == 3 and set(answers_m.values()) == {("not_found", "记录不存在")}
    assert (_status(other_college), _status(other_school)) == ("二级待审", "二级待审")  # nothing written


def test_batch_by_majors(app, world) -> None:
    w = world
    in_m1 = [rv.submitted(w, w.m1) for _ in range(4)]
    in_m2 = [rv.submitted(w, w.m2) for _ in range(2)]
    in_m3 = rv.submitted(w, w.m3)
    rejected_before = rv.submitted(w, w.m1)
    rv.user("c1", "counselor", w.school, colleges=(w.c1,))
    api = rv.login(app, "c1")
    api.post(f"/api/v1/records/{rejected_before.id}/review", json={"decision": "reject", "comment": "退回"})
    r = api.post("/api/v1/reviews/batch", json={"majors": [w.m1.id, w.m3.id, w.other_major.id],
                                                "decision": "reject", "comment": "请补充家庭地址"})
    body = r.get_json()
    assert r.status_code == 200 and body["succeeded"] == 4 and body["candidates"] == 4
    assert {(s["major_id"], s["reason"]) for s in body["skipped"]} == {
        (w.m3.id, "not_found"), (w.other_major.id, "not_found")}
    assert [_status(x) for x in in_m1] == ["不同意"] * 4
    assert [_status(x) for x in in_m2] == ["二级待审"] * 2 and _status(in_m3) == "二级待审"
    comments = {e.comment for e in AuditEvent.select().where(AuditEvent.record.in_([x.id for x in in_m1])
                                                             & (AuditEvent.action == "review"))}
    assert comments == {"请补充家庭地址"}
    # a batch rejection needs a comment, and exactly one kind of selection
    assert api.post("/api/v1/reviews/batch", json={"majors": [w.m2.id], "decision": "reject"}).status_code == 422
    assert api.post("/api/v1/reviews/batch", json={"decision": "approve"}).status_code == 422
    assert api.post("/api/v1/reviews/batch", json={"majors": [w.m2.id], "record_ids": [in_m2[0].id],
                                                   "decision": "approve"}).status_code == 422


def test_batch_skips_records_someone_else_finished_meanwhile(db, world) -> None:
    """Candidates are read once; a record reviewed by another reviewer in between is skipped, not failed."""
    recs = [rv.submitted(world, world.m1) for _ in range(3)]
    rv.approve(recs[1], "counselor")
    me = rv.reviewer("counselor", world.school)
    result = review_batch(me, "approve", record_ids=[r.id for r in recs])
    assert result.succeeded == 2
    assert [(s["record_id"], s["reason"]) for s in result.skipped] == [(recs[1].id, "already_reviewed")]


@BOTH_DATABASES
def test_batch_skips_a_record_changed_between_its_read_and_its_write(db, world, monkeypatch) -> None:
    """The engine runs outside the write transaction; the optimistic lock catches a reviewer who acted
    in between, for that record only: nothing of the batch's step for it is written."""
    from service.services import reviews

    recs = [rv.submitted(world, world.m1) for _ in range(4)]
    victim = recs[2]
    original = reviews._write_chunk

    def another_reviewer_first(actor, prepared, result):
        assert victim.id in [p.record_id for p in prepared]  # already read and computed
        rv.reject(victim, "counselor", "请补充家庭地址")
        return original(actor, prepared, result)

    monkeypatch.setattr(reviews, "_write_chunk", another_reviewer_first)
    result = review_batch(rv.reviewer("counselor", world.school), "approve", record_ids=[r.id for r in recs])

    assert result.succeeded == 3
    assert [(s["record_id"], s["reason"]) for s in result.skipped] == [(victim.id, "already_reviewed")]
    assert _status(victim) == "不同意"
    assert [e.decision for e in AuditEvent.select().where((AuditEvent.record == victim.id)
                                                         & (AuditEvent.action == "review"))] == ["reject"]
    assert [_status(r) for r in recs if r is not victim] == ["中心待审"] * 3
    assert [p.status for p in PendingTask.select().where(PendingTask.record == victim.id)] == ["不同意"]
    assert audit.verify().ok


def test_majors_sidebar_counts_pending_at_my_level(app, world) -> None:
    w = world
    for _ in range(3):
        rv.submitted(w, w.m1)
    at_centre = rv.submitted(w, w.m2)
    rv.approve(at_centre, "counselor")
    rv.unsubmitted(w, w.m2)
    rv.submitted(w, w.m3)
    rv.user("c1", "counselor", w.school, colleges=(w.c1,))
    rv.user("centre", "centre", w.school)
    body = rv.login(app, "c1").get("/api/v1/review/majors").get_json()
    assert [c["name"] for c in body["colleges"]] == [w.c1.name]
    counts = {m["id"]: m["pending"] for c in body["colleges"] for m in c["majors"]}
    assert counts == {w.m1.id: 3, w.m2.id: 0} and body["pending"] == 3
    body = rv.login(app, "centre").get("/api/v1/review/majors").get_json()
    counts = {m["id"]: m["pending"] for c in body["colleges"] for m in c["majors"]}
    assert counts == {w.m1.id: 0, w.m2.id: 1, w.m3.id: 0}


@pytest.mark.parametrize("process_file", [THREE_LEVEL_BPMN])
def test_three_level_process_batch_levels(app, world) -> None:
    """Levels come from the BPMN: with 一级审核 the counselor's approvals land at 一级待审."""
    recs = [rv.submitted(world, world.m1) for _ in range(2)]
    rv.user("c1", "counselor", world.school, colleges=(world.c1,))
    rv.user("l1", "level1", world.school)
    body = rv.login(app, "c1").post("/api/v1/reviews/batch", json={"majors": [world.m1.id],
                                                                     "decision": "approve"}).get_json()
    assert body["status_after"] == {"一级待审": 2}
    l1 = rv.login(app, "l1")
    assert {m["id"]: m["pending"] for c in l1.get("/api/v1/review/majors").get_json()["colleges"]
            for m in c["majors"]}[world.m1.id] == 2
    r = l1.post("/api/v1/reviews/batch", json={"record_ids": [r.id for r in recs], "decision": "approve"})
    assert r.get_json()["status_after"] == {"中心待审": 2}
    assert PendingTask.select().where(PendingTask.role == "centre").count() == 2
