"""The round-trip budget of a step and of a batch chunk (issue 13): counted, not timed.

Every statement the client sends (SELECT, the CTE write, BEGIN, COMMIT, SAVEPOINT …) goes
through the database's cursor; the count is taken there, so a change that adds a round trip to
the hot path fails here whatever the machine's speed. PostgreSQL: a review step is its read and
one write; a batch chunk is one read and one write whatever its size. SQLite keeps its separate
statements (no round trips there) but not more than before the chain head moved to the instance.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from service.db import database, is_sqlite
from service.models import AuditEvent, ProcessInstance, Record
from service.services import audit, reviews
from service.services.transitions import complete_task
from tests.support import factories as f

BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)


class _CountingCursor:
    def __init__(self, cursor: Any, seen: list[str]) -> None:
        self._cursor, self._seen = cursor, seen

    def execute(self, sql: str, params: Any = None) -> Any:
        words = sql.split(None, 2)  # "EXECUTE gradflow_load (…)": keep the prepared statement's name
        self._seen.append(" ".join(words[:2]) if words[0].upper() in ("EXECUTE", "PREPARE") else words[0].upper())
        return self._cursor.execute(sql, params) if params is not None else self._cursor.execute(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)


@contextmanager
def counted() -> Iterator[list[str]]:
    """The first word of every statement sent while the block runs."""
    seen: list[str] = []
    db = database.obj
    real = db.cursor
    db.cursor = lambda *a, **kw: _CountingCursor(real(*a, **kw), seen)
    try:
        yield seen
    finally:
        del db.cursor


def _submitted(maj: Any, sch: Any, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        rec = f.record(maj)
        complete_task(rec.id, f.actor("student", sch, record_id=rec.id))
        ids.append(rec.id)
    return ids


@BOTH_DATABASES
def test_a_review_step_is_one_read_and_one_write(db) -> None:
    sch = f.school()
    maj = f.major(f.college(sch))
    first, second = _submitted(maj, sch, 2)
    counselor = f.actor("counselor", sch)
    complete_task(first, counselor, decision="approve")  # caches (process definition) warm
    with counted() as seen:
        result = complete_task(second, counselor, decision="approve")
    assert result.status_after == "中心待审"
    if is_sqlite():  # read, BEGIN, instance, pending task, event, COMMIT (was 8 with audit_head)
        assert seen == ["SELECT", "BEGIN", "UPDATE", "UPDATE", "INSERT", "COMMIT"]
    else:  # the read (with the message context a review may need) and the write, prepared once
        assert seen == ["EXECUTE gradflow_load_message", "EXECUTE gradflow_step_1_1_1"]
    inst = ProcessInstance.get(ProcessInstance.record == second)
    last = AuditEvent.select().where(AuditEvent.chain_key == audit.record_chain(second)).order_by(
        AuditEvent.seq.desc()).first()
    assert (inst.audit_seq, inst.audit_hash) == (last.seq, last.hash)
    assert audit.verify().ok


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_submit_is_one_read_and_one_write(db) -> None:
    sch = f.school()
    maj = f.major(f.college(sch))
    first, second = f.record(maj), f.record(maj)
    complete_task(first.id, f.actor("student", sch, record_id=first.id))
    with counted() as seen:
        result = complete_task(second.id, f.actor("student", sch, record_id=second.id))
    assert result.status_after == "二级待审"
    assert seen == ["EXECUTE gradflow_load", "EXECUTE gradflow_step_1_1_1"]


@BOTH_DATABASES
def test_the_last_approval_writes_its_message_with_the_step(db) -> None:
    """On PostgreSQL the student's message context is read with the instance and the message is
    inserted by the step's one write (no BEGIN/COMMIT, no read of its own); on SQLite it is
    written inside the step's transaction."""
    from service.models import Notification

    sch = f.school()
    maj = f.major(f.college(sch))
    first, rid = _submitted(maj, sch, 2)
    for record_id in (first, rid):
        complete_task(record_id, f.actor("counselor", sch), decision="approve")
    complete_task(first, f.actor("centre", sch), decision="approve")  # prepares this shape
    with counted() as seen:
        result = complete_task(rid, f.actor("centre", sch, username="centre-last"), decision="approve")
    assert result.status_after == "完成"
    if is_sqlite():
        assert seen[:3] == ["SELECT", "BEGIN", "UPDATE"] and seen[-1] == "COMMIT"
        assert len(seen) <= 8  # + the message's context read and its INSERT
    else:  # the read (message context included) and the write (no pending task left, one message)
        assert seen == ["EXECUTE gradflow_load_message", "EXECUTE gradflow_step_0_1_0_m0"]
    (note,) = Notification.select().where((Notification.record == rid) & (Notification.kind == "approved"))
    assert note.created_by == "centre-last"


@BOTH_DATABASES
def test_a_stale_last_approval_writes_neither_step_nor_message(db) -> None:
    from service.errors import StaleVersion
    from service.models import Notification
    from service.services import transitions

    sch = f.school()
    maj = f.major(f.college(sch))
    (rid,) = _submitted(maj, sch, 1)
    complete_task(rid, f.actor("counselor", sch), decision="approve")
    centre = f.actor("centre", sch)
    prepared = transitions.prepare_step(rid, transitions._load(rid, centre), centre, decision="approve")
    complete_task(rid, f.actor("centre", sch), decision="reject", comment="生源地有误")  # commits first
    with pytest.raises(StaleVersion):
        if is_sqlite():
            from service.db import write_transaction

            with write_transaction():
                transitions.write_step(prepared, centre)
        else:
            transitions.write_step(prepared, centre)
    kinds = [n.kind for n in Notification.select().where(Notification.record == rid)]
    assert kinds == ["rejected"]
    assert ProcessInstance.get(ProcessInstance.record == rid).status == "不同意"


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_batch_chunk_costs_the_same_statements_whatever_its_size(db, monkeypatch) -> None:
    sch = f.school()
    maj = f.major(f.college(sch))
    small, large = _submitted(maj, sch, 3), _submitted(maj, sch, 40)
    counselor = f.actor("counselor", sch)
    monkeypatch.setattr(reviews, "COMMIT_EVERY", 100)
    reviews.review_batch(counselor, "approve", record_ids=small[:1])  # caches warm
    with counted() as few:
        assert reviews.review_batch(counselor, "approve", record_ids=small[1:]).succeeded == 2
    with counted() as many:
        assert reviews.review_batch(counselor, "approve", record_ids=large).succeeded == 40
    assert few == many
    assert many.count("WITH") == 1 and "BEGIN" not in many and "SAVEPOINT" not in many
    # candidates, the chunk's instances, the write (+ the review scope's process lookups)
    assert len(many) <= 5, many
    assert audit.verify().ok


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_an_event_appended_between_read_and_write_moves_the_head_not_the_step(db) -> None:
    """A full-ID view (or an account lock) appends to the record's chain after a reviewer's read:
    the step is written on the new head instead of being refused, and the chain holds."""
    from service.services import transitions

    sch = f.school()
    maj = f.major(f.college(sch))
    (rid,) = _submitted(maj, sch, 1)
    counselor = f.actor("counselor", sch)
    loaded = transitions._load(rid, counselor)
    prepared = transitions.prepare_step(rid, loaded, counselor, decision="approve")
    from service.db import write_transaction

    with write_transaction():
        audit.append(audit.record_chain(rid), record=rid, school=sch.code, actor="centre1", action="view_id_number")
    result = transitions.write_step(prepared, counselor)
    assert result.status_after == "中心待审"
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.chain_key == audit.record_chain(rid))
               .order_by(AuditEvent.seq)]
    assert actions[-2:] == ["view_id_number", "review"]
    assert audit.verify().ok


@BOTH_DATABASES
@pytest.mark.audit_tampered  # its last lines move a head past its chain on purpose
def test_heads_still_in_audit_head_keep_working_and_m0014_moves_them(db) -> None:
    """Instances written before m0014 (or bulk-written without the columns) have NULL heads and
    their chain's head in audit_head: steps still chain correctly, and the migration moves them."""
    from service.migrations import m0014_chain_head_on_instance
    from service.models import AuditHead

    sch = f.school()
    maj = f.major(f.college(sch))
    legacy, moved = _submitted(maj, sch, 2)
    for rid in (legacy, moved):  # back to the layout before m0014
        inst = ProcessInstance.get(ProcessInstance.record == rid)
        AuditHead.create(chain_key=audit.record_chain(rid), seq=inst.audit_seq, hash=inst.audit_hash)
        ProcessInstance.update(audit_seq=None, audit_hash=None).where(ProcessInstance.id == inst.id).execute()
    assert audit.verify().ok
    complete_task(legacy, f.actor("counselor", sch), decision="approve")
    reviews.review_batch(f.actor("counselor", sch), "approve", record_ids=[moved])
    assert audit.verify().ok
    m0014_chain_head_on_instance.apply(database.obj)
    assert AuditHead.select().where(AuditHead.chain_key.startswith("record:")).count() == 0
    assert ProcessInstance.select().where(ProcessInstance.audit_seq.is_null()).count() == 0
    complete_task(legacy, f.actor("centre", sch), decision="approve")
    assert audit.verify().ok
    # a head moved past its chain (events deleted behind it) still shows, now on the instance
    ProcessInstance.update(audit_seq=ProcessInstance.audit_seq + 1).where(ProcessInstance.record == legacy).execute()
    assert {p.kind for p in audit.verify().problems} == {"tail_deleted"}


@BOTH_DATABASES
def test_a_batch_rejection_writes_each_students_message_and_delivery(db, settings, monkeypatch) -> None:
    from dataclasses import replace

    from service.models import Delivery, Notification
    from service.services import notify

    notify.configure(replace(settings, smtp_host="127.0.0.1", smtp_sender="noreply@example.edu.cn"))
    try:
        sch = f.school()
        maj = f.major(f.college(sch))
        ids = _submitted(maj, sch, 3)
        for rid in ids:  # an address to deliver to
            rec = Record.get_by_id(rid)
            rec.data = {**(rec.data or {}), "other": {"email": f"s{rid}@example.edu.cn"}}
            rec.save()
        monkeypatch.setattr(reviews, "COMMIT_EVERY", 100)
        with counted() as seen:
            result = reviews.review_batch(f.actor("counselor", sch), "reject", "请补充家庭地址", record_ids=ids)
        assert result.succeeded == 3
        notes = {n.record_id: n.id for n in Notification.select().where(Notification.kind == "rejected")}
        assert set(notes) == set(ids)
        addresses = {d.address for d in Delivery.select().where(Delivery.notification.in_(list(notes.values())))}
        assert addresses == {f"s{rid}@example.edu.cn" for rid in ids}
        if not is_sqlite():
            assert seen.count("WITH") == 1 and "BEGIN" not in seen
    finally:
        notify.configure(settings)


@BOTH_DATABASES
def test_m0014_on_a_database_from_before_it(db) -> None:
    """The columns are added, every record chain's head moves from audit_head to its instance,
    school and system chains stay, and the chains verify before and after."""
    from service.migrations import m0014_chain_head_on_instance
    from service.models import AuditHead

    sch = f.school()
    maj = f.major(f.college(sch))
    ids = _submitted(maj, sch, 3)
    heads = {}
    for rid in ids:  # the layout before m0014: heads in audit_head, no columns
        inst = ProcessInstance.get(ProcessInstance.record == rid)
        heads[rid] = (inst.audit_seq, inst.audit_hash)
        AuditHead.create(chain_key=audit.record_chain(rid), seq=inst.audit_seq, hash=inst.audit_hash)
    AuditHead.create(chain_key="school:" + sch.code, seq=0, hash=audit.GENESIS)
    assert sorted(h.chain_key for h in AuditHead.select().where(~AuditHead.chain_key.startswith("record:"))) == [
        "school:" + sch.code, "system"]  # the deployment's chain and this school's
    database.execute_sql("ALTER TABLE process_instance DROP COLUMN audit_seq")
    database.execute_sql("ALTER TABLE process_instance DROP COLUMN audit_hash")
    with database.atomic():
        m0014_chain_head_on_instance.apply(database.obj)
    assert {rid: (i.audit_seq, i.audit_hash) for rid, i in
            ((i.record_id, i) for i in ProcessInstance.select())} == heads
    assert sorted(h.chain_key for h in AuditHead.select()) == sorted(["school:" + sch.code, "system"])
    assert audit.verify().ok
    complete_task(ids[0], f.actor("counselor", sch), decision="approve")
    assert audit.verify().ok
