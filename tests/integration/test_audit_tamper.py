"""Issue 9 item 4: `audit verify` must report the three tampering cases that used to say "ok".

Histories are written through the real services (records moving through the real BPMN); the
tampering is done the way someone with write access to the database would do it: plain SQL.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from service.db import database
from service.models import AuditEvent, Record
from service.services import audit
from tests.support.reviewing import approve, make_world, reject, submitted

pytestmark = [pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True),
              pytest.mark.audit_tampered]  # every test here damages chains on purpose


def _history(db) -> list[Record]:
    world = make_world()
    first = submitted(world, world.m1)
    approve(first, "counselor")
    second = submitted(world, world.m2)
    reject(second, "counselor", "生源地有误")
    third = submitted(world, world.m3)
    assert audit.verify().ok
    return [first, second, third]


def _set_head(record_id: int, seq: object, hash_: object) -> None:
    """What an attacker does to a record chain's head, which lives on the record's instance (m0014)."""
    database.execute_sql(f"UPDATE process_instance SET audit_seq = {database.param}, audit_hash = {database.param} "
                         f"WHERE record_id = {database.param}", (seq, hash_, record_id))


def _head(record_id: int) -> tuple[int, str]:
    row = database.execute_sql(f"SELECT audit_seq, audit_hash FROM process_instance WHERE record_id = {database.param}",
                               (record_id,)).fetchone()
    return int(row[0]), str(row[1])


def _kinds(result: audit.VerifyResult) -> set[str]:
    return {p.kind for p in result.problems}


def test_deleting_the_last_event_of_a_chain_is_reported(db):
    first, _, _ = _history(db)
    chain = audit.record_chain(first.id)
    last = AuditEvent.select().where(AuditEvent.chain_key == chain).order_by(AuditEvent.seq.desc()).first()
    database.execute_sql(f"DELETE FROM audit_event WHERE id = {int(last.id)}")
    result = audit.verify()
    assert not result.ok
    assert "tail_deleted" in _kinds(result)
    assert any(p.chain_key == chain and "被删除" in p.message for p in result.problems)


def test_deleting_a_whole_chain_is_reported_with_or_without_its_head(db):
    first, second, _ = _history(db)
    for rec in (first, second):
        database.execute_sql(f"DELETE FROM audit_event WHERE chain_key = '{audit.record_chain(rec.id)}'")
    # and the attacker also removes the second chain's head
    _set_head(second.id, None, None)
    result = audit.verify()
    deleted = {p.chain_key for p in result.problems if p.kind == "chain_deleted"}
    assert deleted == {audit.record_chain(first.id), audit.record_chain(second.id)}


def test_editing_an_event_and_recomputing_every_hash_after_it_is_reported(db):
    _, second, _ = _history(db)
    chain = audit.record_chain(second.id)
    events = list(AuditEvent.select().where(AuditEvent.chain_key == chain).order_by(AuditEvent.seq))
    rejection = next(ev for ev in events if ev.decision == "reject")
    rejection.comment = "同意"  # rewrite history: the rejection reason
    # The attacker knows the algorithm (it is open source) but not the key kept outside the database.
    prev = audit.GENESIS
    for ev in events:
        values = {f: getattr(ev, f) for f in audit.HASHED_FIELDS}
        ev.prev_hash = prev
        ev.hash = prev = audit.legacy_hash(prev, values)
        ev.save()
    _set_head(second.id, _head(second.id)[0], prev)
    result = audit.verify()
    assert [p.kind for p in result.problems if p.chain_key == chain] == ["edited"]


def test_a_guessed_key_does_not_help_either(db, settings):
    _, second, _ = _history(db)
    chain = audit.record_chain(second.id)
    wrong = audit.derive_key(settings.__class__(**{**settings.__dict__, "secret_key": "x" * 40, "audit_key": ""}))
    events = list(AuditEvent.select().where(AuditEvent.chain_key == chain).order_by(AuditEvent.seq))
    prev = audit.GENESIS
    for ev in events:
        ev.comment = ev.comment + "!"
        ev.prev_hash = prev
        ev.hash = prev = audit.event_hash(prev, {f: getattr(ev, f) for f in audit.HASHED_FIELDS}, key=wrong)
        ev.save()
    _set_head(second.id, _head(second.id)[0], prev)
    assert "edited" in _kinds(audit.verify())


def test_a_checkpoint_catches_a_tail_deleted_together_with_its_head(db, tmp_path):
    first, _, _ = _history(db)
    saved = audit.checkpoint()
    chain = audit.record_chain(first.id)
    events = list(AuditEvent.select().where(AuditEvent.chain_key == chain).order_by(AuditEvent.seq))
    # roll the chain back by one event, head included: the database alone now looks consistent
    database.execute_sql(f"DELETE FROM audit_event WHERE id = {int(events[-1].id)}")
    _set_head(first.id, events[-2].seq, events[-2].hash)
    assert audit.verify().ok
    result = audit.verify(checkpoint=saved)
    assert [p.kind for p in result.problems] == ["rolled_back"]
    forged = json.loads(json.dumps(saved))
    forged["heads"][chain] = [events[-2].seq, events[-2].hash]
    with pytest.raises(audit.CheckpointInvalid):
        audit.verify(checkpoint=forged)


def test_cli_reports_each_case_and_exits_non_zero(db, settings, monkeypatch, tmp_path):
    first, second, third = _history(db)
    for name, value in (("DATABASE_URL", settings.database_url), ("SECRET_KEY", settings.secret_key),
                        ("AUDIT_KEY", settings.audit_key), ("PROCESS", settings.process),
                        ("INSTANCE_PATH", settings.instance_path)):
        monkeypatch.setenv(f"GRADFLOW_{name}", value)
    from service.cli import main
    from service.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    try:
        ok = runner.invoke(main, ["audit", "checkpoint", "--out", str(tmp_path / "cp.json")])
        assert ok.exit_code == 0, ok.output
        assert runner.invoke(main, ["audit", "verify", "--checkpoint", str(tmp_path / "cp.json")]).exit_code == 0
        last = (AuditEvent.select().where(AuditEvent.chain_key == audit.record_chain(first.id))
                .order_by(AuditEvent.seq.desc()).first())
        database.execute_sql(f"DELETE FROM audit_event WHERE id = {int(last.id)}")
        database.execute_sql(f"DELETE FROM audit_event WHERE chain_key = '{audit.record_chain(second.id)}'")
        database.execute_sql(f"UPDATE audit_event SET comment = 'edited' WHERE chain_key = '{audit.record_chain(third.id)}' AND seq = 1")
        broken = runner.invoke(main, ["audit", "verify"])
        assert broken.exit_code == 1
        for kind in ("tail_deleted", "chain_deleted", "edited"):
            assert kind in broken.output
    finally:
        get_settings.cache_clear()
        audit.use_key(settings)


def test_reseal_upgrades_an_intact_unkeyed_chain_and_refuses_a_tampered_one(db):
    first, second, _ = _history(db)
    # make the first two chains look like they were written before keyed chains existed
    for rec in (first, second):
        chain = audit.record_chain(rec.id)
        prev = audit.GENESIS
        for ev in AuditEvent.select().where(AuditEvent.chain_key == chain).order_by(AuditEvent.seq):
            ev.prev_hash = prev
            ev.hash = prev = audit.legacy_hash(prev, {f: getattr(ev, f) for f in audit.HASHED_FIELDS})
            ev.save()
    database.execute_sql(f"UPDATE audit_event SET comment = 'edited' WHERE chain_key = '{audit.record_chain(second.id)}' AND seq = 1")
    report = audit.reseal()
    assert report.resealed == 1 and report.refused == [audit.record_chain(second.id)]
    result = audit.verify()
    assert {p.chain_key for p in result.problems} == {audit.record_chain(second.id)}
