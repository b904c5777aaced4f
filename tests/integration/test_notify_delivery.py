"""Notifications reach a real SMTP server and a real webhook exactly when the change commits.

The outbox rows are written in the transaction of the review step: a rejection that commits sends
exactly one e-mail and one webhook call with the comment, a rolled-back one sends nothing. Levels
and roles come from the BPMN.
"""

from __future__ import annotations

import pytest

from service.config import load_settings
from service.db import database
from service.models import Delivery, Notification, Record, User
from service.services import processes
from service.services.notify import sender
from tests.conftest import TEST_SECRET_KEY
from tests.support import reviewing as rv
from tests.support.notify_servers import SmtpServer, WebhookServer

HOOK_SECRET = "webhook-secret-for-tests-0123456789"
SENDER = "noreply@example.edu.cn"


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def hook():
    server = WebhookServer(HOOK_SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def settings(db_url, tmp_path, process_file, smtp, hook):
    return load_settings(
        environ={}, database_url=db_url, instance_path=str(tmp_path / "instance"), process=str(process_file),
        secret_key=TEST_SECRET_KEY, notify_worker=False, smtp_host="127.0.0.1", smtp_port=smtp.port,
        smtp_sender=SENDER, webhook_url=hook.url, webhook_secret=HOOK_SECRET, notify_backoff_seconds=0.05,
        notify_quiet_hours="", notify_digest_hour=24)


def _levels() -> list[str]:
    return [lv["role"] for lv in processes.active_definition()[1].meta["levels"]]


def test_a_rejection_sends_one_email_and_one_webhook_with_the_comment(app, db, settings, smtp, hook) -> None:
    world = rv.make_world()
    rec = rv.submitted(world, world.m1)
    email = rec.data["other"]["email"]
    rv.reject(rec, _levels()[0], "家庭地址不完整，请补充门牌号")

    assert sender.wait_until_idle(settings)
    assert len(smtp.messages) == 1 and len(hook.calls) == 1
    mail = smtp.messages[0]
    note = Notification.get()
    assert mail["To"] == email and "家庭地址不完整，请补充门牌号" in mail.get_content()
    assert mail["Message-ID"] == f"<{note.uid}@example.edu.cn>"
    call = hook.calls[0]
    assert call["key"] == note.uid and "家庭地址不完整，请补充门牌号" in call["json"]["body"]
    assert call["json"]["phone"] == rec.data["other"]["phone"] and hook.bad_signatures == 0
    assert {d.status for d in Delivery.select()} == {"sent"}

    # A second run sends nothing more: sent is sent.
    assert sender.wait_until_idle(settings) and len(smtp.messages) == 1 and len(hook.calls) == 1


def test_a_rolled_back_rejection_sends_nothing(app, db, settings, smtp, hook) -> None:
    world = rv.make_world()
    rec = rv.submitted(world, world.m1)
    with database.atomic() as txn:
        rv.reject(rec, _levels()[0], "这条意见不会发出")
        assert Notification.select().count() == 1  # written inside the transaction …
        txn.rollback()  # … and gone with it
    assert Notification.select().count() == 0 and Delivery.select().count() == 0
    assert sender.wait_until_idle(settings)
    assert smtp.messages == [] and hook.calls == []


def test_the_student_reads_it_in_the_message_centre(app, db, settings) -> None:
    world = rv.make_world()
    rec = rv.submitted(world, world.m1)
    student = rv.user(rec.student_no, processes.active_definition()[1].submitter_role, world.school)
    Record.update(user=student).where(Record.id == rec.id).execute()
    rv.reject(rec, _levels()[0], "请核对生源地")
    api = rv.login(app, rec.student_no)
    body = api.get("/api/v1/messages").get_json()
    assert body["unread"] == 1 and "请核对生源地" in body["items"][0]["body"]
    assert api.post("/api/v1/messages/read", json={}).get_json() == {"count": 1}
    assert api.get("/api/v1/messages").get_json()["unread"] == 0
    # Nobody else's messages: another account sees none and cannot mark them.
    other = rv.user("someone", processes.active_definition()[1].submitter_role, world.school)
    assert other.id != student.id
    api2 = rv.login(app, "someone")
    assert api2.get("/api/v1/messages").get_json() == {"unread": 0, "items": []}
    note = Notification.get()
    assert api2.post("/api/v1/messages/read", json={"ids": [note.id]}).status_code == 404


def test_only_the_last_approval_and_reviewer_edits_notify(app, db, settings, smtp) -> None:
    world = rv.make_world()
    levels = _levels()
    rec = rv.submitted(world, world.m1)
    for role in levels[:-1]:
        rv.approve(rec, role)
    assert Notification.select().count() == 0  # intermediate approvals tell nobody
    reviewer = User.create(username="last", role=levels[-1], school=world.school, password_hash=rv.password_hash())
    assert reviewer.id
    api = rv.login(app, "last")
    r = api.patch(f"/api/v1/records/{rec.id}", json={"data": {"other": {"remark": "中心补录备注"}}})
    assert r.status_code == 200, r.get_json()
    edited = Notification.get(Notification.kind == "edited")
    assert "last" in edited.body and "备注" in edited.body and "中心补录备注" not in edited.body
    rv.approve(rec, levels[-1])
    assert Notification.select().where(Notification.kind == "approved").count() == 1
    assert sender.wait_until_idle(settings)
    assert sorted(m["Subject"] for m in smtp.messages) == sorted(["你的生源信息已被修改", "生源信息审核已完成"])


def test_a_permanent_webhook_refusal_is_failed_with_the_reason_and_can_be_retried(app, db, settings, hook) -> None:
    world = rv.make_world()
    rec = rv.submitted(world, world.m1)
    hook.status = 400
    rv.reject(rec, _levels()[0], "意见")
    assert sender.wait_until_idle(settings)
    failed = Delivery.get(Delivery.channel == "webhook")
    assert failed.status == "failed" and "HTTP 400" in failed.last_error and failed.attempts == 1
    hook.status = 200
    centre = User.create(username="centre", role=processes.active_definition()[1].school_wide_role,
                         school=world.school, password_hash=rv.password_hash())
    assert centre.id
    api = rv.login(app, "centre")
    log = api.get("/api/v1/notifications?status=failed").get_json()
    assert [row["last_error"] for row in log["items"]] == ["webhook answered HTTP 400"]
    assert api.post("/api/v1/notifications/retry", json={}).get_json() == {"count": 1}
    assert sender.wait_until_idle(settings)
    assert Delivery.get(Delivery.channel == "webhook").status == "sent" and len(hook.calls) == 2
    assert hook.calls[0]["key"] == hook.calls[1]["key"]  # the same id: the gateway can drop a repeat
