"""A batch commits in chunks, but each record is still all-or-nothing (its own savepoint)."""

from __future__ import annotations

import pytest
from peewee import IntegrityError

from service.models import AuditEvent, PendingTask, ProcessInstance
from service.services import audit, reviews
from service.services.transitions import complete_task
from tests.support import factories as f

BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)


@BOTH_DATABASES
def test_a_record_failing_mid_write_is_rolled_back_alone(db, monkeypatch) -> None:
    sch = f.school()
    maj = f.major(f.college(sch))
    records = [f.record(maj) for _ in range(5)]
    for rec in records:
        complete_task(rec.id, f.actor("student", sch, record_id=rec.id))
    victim = records[2]
    before = ProcessInstance.get(ProcessInstance.record == victim.id)
    original = audit.append

    def failing_append(chain_key: str, **values):
        if values.get("record") == victim.id and values.get("action") == "review":
            raise IntegrityError("injected after the instance UPDATE ran")
        return original(chain_key, **values)

    monkeypatch.setattr(audit, "append", failing_append)
    monkeypatch.setattr(reviews, "COMMIT_EVERY", 10)  # all five in one transaction
    result = reviews.review_batch(f.actor("counselor", sch), "approve", record_ids=[r.id for r in records])

    assert result.succeeded == 4
    assert [s["record_id"] for s in result.skipped] == [victim.id]
    after = ProcessInstance.get(ProcessInstance.record == victim.id)
    assert (after.status, after.lock_version, after.state) == (before.status, before.lock_version, before.state)
    assert [p.status for p in PendingTask.select().where(PendingTask.record == victim.id)] == ["二级待审"]
    for rec in records:
        if rec.id != victim.id:
            assert ProcessInstance.get(ProcessInstance.record == rec.id).status == "中心待审"
    reviews_logged = AuditEvent.select().where(AuditEvent.action == "review").count()
    assert reviews_logged == 4
    monkeypatch.setattr(audit, "append", original)
    assert audit.verify().ok
