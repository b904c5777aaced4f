"""A batch commits in chunks, but each record is still all-or-nothing: one the database refuses
is skipped alone (on PostgreSQL the chunk's one statement is then written record by record)."""

from __future__ import annotations

import pytest

from service.db import database
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
    # A row already at the victim's next place in its chain: its audit INSERT breaks the unique
    # (chain_key, seq) after its instance UPDATE ran, a real refusal by the database.
    chain = audit.record_chain(victim.id)
    blocker = AuditEvent.create(chain_key=chain, seq=before.audit_seq + 1, actor="blocker", action="blocker",
                                prev_hash="x", hash="x")
    monkeypatch.setattr(reviews, "COMMIT_EVERY", 10)  # all five in one chunk
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
    database.execute_sql(f"DELETE FROM audit_event WHERE id = {int(blocker.id)}")
    assert audit.verify().ok
