"""The workflow core against real SQLite files and a real PostgreSQL, with the real BPMN files."""

from __future__ import annotations

import json
import threading

import pytest

from service.errors import Conflict, InvalidInput, NotFound, NotPendingAtLevel, PermissionDenied, TaskNotReady
from service.models import AuditEvent, PendingTask, ProcessInstance, ProcessVersion
from service.services import audit, processes
from service.services.transitions import complete_task
from service.workflow import engine
from service.workflow.expressions import RESTRICTED_ENGINE
from tests.conftest import DEFAULT_BPMN, THREE_LEVEL_BPMN
from tests.support import factories as f

BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)


def _setup(db):
    sch = f.school()
    maj = f.major(f.college(sch))
    return sch, maj


def _status(record_id: int) -> str:
    return ProcessInstance.get(ProcessInstance.record == record_id).status


def _pending(record_id: int) -> list[tuple[str, str]]:
    return [(p.role, p.status) for p in PendingTask.select().where(PendingTask.record == record_id)]


@BOTH_DATABASES
def test_default_process_end_to_end(db) -> None:
    sch, maj = _setup(db)
    rec = f.record(maj)
    student = f.actor("student", sch, record_id=rec.id)
    counselor = f.actor("counselor", sch, majors=(maj.id,))
    centre = f.actor("centre", sch)
    assert _status(rec.id) == "未提交"
    assert _pending(rec.id) == [("student", "未提交")]
    r = complete_task(rec.id, student)
    assert (r.status_before, r.status_after, r.report_status) == ("未提交", "二级待审", "已提交")
    assert _pending(rec.id) == [("counselor", "二级待审")]
    complete_task(rec.id, counselor, decision="approve")
    assert _status(rec.id) == "中心待审"
    r = complete_task(rec.id, centre, decision="approve")
    assert r.status_after == "完成"
    inst = ProcessInstance.get(ProcessInstance.record == rec.id)
    assert inst.completed and inst.role == "" and _pending(rec.id) == []
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.record == rec.id).order_by(AuditEvent.seq)]
    assert actions == ["create", "submit", "review", "review"]
    assert audit.verify().ok


@BOTH_DATABASES
@pytest.mark.parametrize("process_file", [THREE_LEVEL_BPMN])
def test_three_level_process_end_to_end(db) -> None:
    sch, maj = _setup(db)
    rec = f.record(maj)
    complete_task(rec.id, f.actor("student", sch, record_id=rec.id))
    seen = [_status(rec.id)]
    for role in ("counselor", "level1", "centre"):
        complete_task(rec.id, f.actor(role, sch), decision="approve")
        seen.append(_status(rec.id))
    assert seen == ["二级待审", "一级待审", "中心待审", "完成"]


@pytest.mark.parametrize("process_file", [DEFAULT_BPMN, THREE_LEVEL_BPMN])
def test_rejection_at_every_level_needs_a_comment_and_loops_back(db, process_file) -> None:
    sch, maj = _setup(db)
    _, definition = processes.active_definition()
    levels = definition.meta["levels"]
    for depth, level in enumerate(levels):
        rec = f.record(maj)
        student = f.actor("student", sch, record_id=rec.id)
        complete_task(rec.id, student)
        for earlier in levels[:depth]:
            complete_task(rec.id, f.actor(earlier["role"], sch), decision="approve")
        reviewer = f.actor(level["role"], sch)
        assert _status(rec.id) == level["status"]
        for empty in ("", "   "):
            with pytest.raises(InvalidInput):
                complete_task(rec.id, reviewer, decision="reject", comment=empty)
        assert _status(rec.id) == level["status"], "a refused rejection changes nothing"
        r = complete_task(rec.id, reviewer, decision="reject", comment="民族代码有误")
        assert r.status_after == "不同意"
        ev = AuditEvent.select().where(AuditEvent.record == rec.id).order_by(AuditEvent.seq.desc()).first()
        assert (ev.decision, ev.comment, ev.level) == ("reject", "民族代码有误", level["level"])
        r = complete_task(rec.id, student)
        assert r.status_after == "二级待审"
        # The previous round's decision is gone: the next reviewer must decide afresh.
        inst = ProcessInstance.get(ProcessInstance.record == rec.id)
        state = json.loads(inst.state)
        for task in state["tasks"].values():
            if task["state"] != 64:  # not COMPLETED
                assert "decision" not in task["data"] and "comment" not in task["data"]
        with pytest.raises(InvalidInput):
            complete_task(rec.id, f.actor(levels[0]["role"], sch))  # no decision given


def test_actor_without_the_lane_is_refused(db) -> None:
    sch, maj = _setup(db)
    rec = f.record(maj)
    complete_task(rec.id, f.actor("student", sch, record_id=rec.id))
    with pytest.raises(PermissionDenied):
        complete_task(rec.id, f.actor("librarian", sch), decision="approve")
    with pytest.raises(NotPendingAtLevel):  # a lane of the process, but not the pending one
        complete_task(rec.id, f.actor("centre", sch), decision="approve")
    pending = PendingTask.get(PendingTask.record == rec.id)
    with pytest.raises(PermissionDenied):  # naming the task explicitly does not bypass the lane
        complete_task(rec.id, f.actor("centre", sch), decision="approve", task_id=pending.task_id)
    assert _status(rec.id) == "二级待审"


def test_out_of_scope_actor_gets_not_found(db) -> None:
    sch, maj = _setup(db)
    other_major = f.major(f.college(sch, "外国语学院"), "050201", "英语")
    rec = f.record(maj)
    complete_task(rec.id, f.actor("student", sch, record_id=rec.id))
    with pytest.raises(NotFound):
        complete_task(rec.id, f.actor("counselor", sch, majors=(other_major.id,)), decision="approve")
    with pytest.raises(NotFound):
        complete_task(rec.id, f.actor("counselor", f.school("10558", "中山大学")), decision="approve")
    with pytest.raises(NotFound):
        complete_task(rec.id, f.actor("student", sch, record_id=rec.id + 1000))


def test_task_that_is_not_ready_is_refused(db) -> None:
    sch, maj = _setup(db)
    rec = f.record(maj)
    student = f.actor("student", sch, record_id=rec.id)
    done_task = PendingTask.get(PendingTask.record == rec.id).task_id
    complete_task(rec.id, student)
    before = ProcessInstance.get(ProcessInstance.record == rec.id).lock_version
    with pytest.raises(TaskNotReady):
        complete_task(rec.id, student, task_id=done_task)
    with pytest.raises(TaskNotReady):
        complete_task(rec.id, student, task_id="00000000-0000-0000-0000-000000000000")
    assert ProcessInstance.get(ProcessInstance.record == rec.id).lock_version == before
    # And the engine layer itself refuses a task that is not READY.
    version, definition = processes.active_definition()
    workflow = engine.load(definition, ProcessInstance.get(ProcessInstance.record == rec.id).state)
    with pytest.raises(engine.NotReady):
        engine.complete(definition, workflow, done_task, {})


@BOTH_DATABASES
def test_concurrent_completions_exactly_one_wins(db, monkeypatch) -> None:
    sch, maj = _setup(db)
    rec = f.record(maj)
    complete_task(rec.id, f.actor("student", sch, record_id=rec.id))
    barrier = threading.Barrier(2, timeout=10)
    original = engine.complete

    def complete_after_both_loaded(*args, **kwargs):
        barrier.wait()  # both reviewers have read the same lock_version before either writes
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "complete", complete_after_both_loaded)
    outcomes: list[str] = []

    def review(name: str, decision: str) -> None:
        try:
            complete_task(rec.id, f.actor("counselor", sch, username=name), decision=decision, comment="x")
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            if not db.is_closed():
                db.close()

    threads = [threading.Thread(target=review, args=("a", "approve")),
               threading.Thread(target=review, args=("b", "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(outcomes) == ["ok", "stale_version"]
    reviews = AuditEvent.select().where((AuditEvent.record == rec.id) & (AuditEvent.action == "review")).count()
    assert reviews == 1
    inst = ProcessInstance.get(ProcessInstance.record == rec.id)
    assert inst.lock_version == 3 and inst.status in ("中心待审", "不同意")
    assert audit.verify().ok


def test_deploying_identical_bytes_twice_gives_one_version(db) -> None:
    first = processes.deploy_file(THREE_LEVEL_BPMN)
    second = processes.deploy_file(THREE_LEVEL_BPMN)
    assert first.created and not second.created and first.version.id == second.version.id
    assert ProcessVersion.select().where(ProcessVersion.sha256 == first.version.sha256).count() == 1


def test_stored_instances_do_not_embed_the_spec(db) -> None:
    sch, maj = _setup(db)
    rec = f.record(maj)
    inst = ProcessInstance.get(ProcessInstance.record == rec.id)
    state = json.loads(inst.state)
    assert "spec" not in state and "subprocess_specs" not in state
    assert state["spec_sha256"] == inst.version.sha256
    workflow = engine.load(processes.definition(inst.version_id), inst.state)
    assert workflow.script_engine is RESTRICTED_ENGINE


def test_loading_with_another_spec_is_refused(db) -> None:
    sch, maj = _setup(db)
    rec = f.record(maj)
    other = processes.deploy_file(THREE_LEVEL_BPMN).version
    inst = ProcessInstance.get(ProcessInstance.record == rec.id)
    with pytest.raises(Exception, match="refusing to load"):
        engine.load(processes.definition(other.id), inst.state)


@BOTH_DATABASES
def test_new_version_keeps_running_instances_and_migrate_moves_waiting_ones(db) -> None:
    sch, maj = _setup(db)
    counselor, centre = f.actor("counselor", sch), f.actor("centre", sch)
    at_level2 = f.record(maj)
    at_centre = f.record(maj)
    rejected_at_centre = f.record(maj)
    for rec in (at_level2, at_centre, rejected_at_centre):
        complete_task(rec.id, f.actor("student", sch, record_id=rec.id))
    for rec in (at_centre, rejected_at_centre):
        complete_task(rec.id, counselor, decision="approve")
    complete_task(rejected_at_centre.id, centre, decision="reject", comment="请核对生源地")
    v1 = processes.active_version()

    # v2 renames the centre's status label: only the BPMN changes.
    xml = DEFAULT_BPMN.read_bytes().replace("中心待审".encode(), "学校待审".encode())
    v2 = processes.deploy(xml, "graduate_report_v2.bpmn", activate=True).version
    newcomer = f.record(maj)
    versions = {r.id: ProcessInstance.get(ProcessInstance.record == r.id).version_id
                for r in (at_level2, at_centre, rejected_at_centre, newcomer)}
    assert versions == {at_level2.id: v1.id, at_centre.id: v1.id, rejected_at_centre.id: v1.id, newcomer.id: v2.id}
    assert _status(at_centre.id) == "中心待审"

    from service.services.processes.migration import migrate

    dry = migrate(str(v2.id), dry_run=True)
    assert (dry.migrated, dry.refused_total) == (2, 1)
    assert _status(at_centre.id) == "中心待审", "a dry run changes nothing"

    report = migrate(str(v2.id))
    assert (report.migrated, report.refused_total) == (2, 1)
    (reason,) = report.refused
    assert "review_centre" in reason
    assert report.details == [(rejected_at_centre.id, reason)]
    assert _status(at_centre.id) == "学校待审"
    assert _pending(at_centre.id) == [("centre", "学校待审")]
    assert ProcessInstance.get(ProcessInstance.record == at_level2.id).version_id == v2.id
    assert ProcessInstance.get(ProcessInstance.record == rejected_at_centre.id).version_id == v1.id
    assert AuditEvent.select().where(AuditEvent.action == "migrate").count() == 2
    # Migrated instances keep working on the new version.
    complete_task(at_level2.id, counselor, decision="approve")
    assert _status(at_level2.id) == "学校待审"
    assert complete_task(at_centre.id, centre, decision="approve").status_after == "完成"
    assert complete_task(rejected_at_centre.id, f.actor("student", sch, record_id=rejected_at_centre.id)).status_after == "二级待审"
    assert audit.verify().ok
