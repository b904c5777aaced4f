"""Scheduled messages: reminders N days and 1 day before the deadline (once each, however many
senders), the reviewers' daily digest, and quiet hours for reminders (22:00–08:00 Beijing)."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.models import Delivery, Notification, NotifySchedule, SchoolDeadline, User
from service.services import processes
from service.services.notify import outbox, schedule
from tests.support import reviewing as rv


def _deadline(school_code: str, when: datetime) -> None:
    SchoolDeadline.create(school=school_code, deadline=when, updated_by="centre")


def test_deadline_reminders_go_once_at_n_days_and_once_at_one_day(db, settings) -> None:
    world = rv.make_world()
    first = processes.active_definition()[1].reviewer_roles[0]
    waiting = rv.unsubmitted(world, world.m1)  # never submitted: reminded
    rejected = rv.submitted(world, world.m1)
    rv.reject(rejected, first, "请修改")  # waiting for the student: reminded
    pending = rv.submitted(world, world.m3)  # with a reviewer: not the student's turn, not reminded
    unbound = rv.roster_student(world, world.m3)  # no record yet: reminded
    before = Notification.select().count()
    end = datetime(2026, 12, 20, 4, 0)  # 12:00 Beijing
    _deadline(world.school.code, end)
    NotifySchedule.create(school=world.school.code, reminder_days=5)

    assert schedule.deadline_reminders(world.school.code, "华南理工大学", settings, end - timedelta(days=6)) == 0
    sent = schedule.deadline_reminders(world.school.code, "华南理工大学", settings, end - timedelta(days=5))
    assert sent == 3
    notes = list(Notification.select().where(Notification.kind == "deadline"))
    assert {n.recipient for n in notes} == {waiting.student_no, rejected.student_no, unbound.student_no}
    assert pending.student_no not in {n.recipient for n in notes}
    assert all("2026-12-20 12:00" in n.body for n in notes)
    # A second sender (or a second run) the same day writes nothing.
    assert schedule.deadline_reminders(world.school.code, "华南理工大学", settings, end - timedelta(days=4)) == 0
    assert schedule.deadline_reminders(world.school.code, "华南理工大学", settings, end - timedelta(hours=20)) == 3
    assert schedule.deadline_reminders(world.school.code, "华南理工大学", settings, end - timedelta(hours=2)) == 0
    assert schedule.deadline_reminders(world.school.code, "华南理工大学", settings, end + timedelta(hours=1)) == 0
    assert Notification.select().count() == before + 6


def test_daily_digest_counts_what_waits_in_each_reviewers_scope(db, settings) -> None:
    world = rv.make_world()
    first = processes.active_definition()[1].reviewer_roles[0]
    rv.user("c1", first, world.school, colleges=(world.c1,))
    rv.user("c2", first, world.school, colleges=(world.c2,))
    for _ in range(3):
        rv.submitted(world, world.m1)
    rv.submitted(world, world.m3)
    morning = datetime(2026, 12, 3, 1, 0)  # 09:00 Beijing
    assert schedule.daily_digest(world.school.code, "华南理工大学", settings, morning - timedelta(hours=2)) == 0
    assert schedule.daily_digest(world.school.code, "华南理工大学", settings, morning) == 2
    bodies = {User.get_by_id(n.user_id).username: n.body for n in Notification.select().where(Notification.kind == "digest")}
    assert "3 条" in bodies["c1"] and "1 条" in bodies["c2"]
    assert schedule.daily_digest(world.school.code, "华南理工大学", settings, morning + timedelta(hours=3)) == 0
    assert schedule.daily_digest(world.school.code, "华南理工大学", settings, morning + timedelta(days=1)) == 2


def test_reminders_wait_for_the_end_of_quiet_hours(db) -> None:
    quiet = outbox.parse_quiet_hours("22:00-08:00")
    late = datetime(2026, 12, 3, 15, 30)  # 23:30 Beijing
    assert outbox.after_quiet_hours(late, quiet) == datetime(2026, 12, 4, 0, 0)  # 08:00 Beijing next day
    early = datetime(2026, 12, 3, 22, 0)  # 06:00 Beijing
    assert outbox.after_quiet_hours(early, quiet) == datetime(2026, 12, 4, 0, 0)
    day = datetime(2026, 12, 3, 4, 0)  # 12:00 Beijing
    assert outbox.after_quiet_hours(day, quiet) == day
    assert outbox.after_quiet_hours(late, None) == late


def test_a_reminder_is_pushed_after_quiet_hours_but_a_rejection_at_once(db, settings) -> None:
    from dataclasses import replace

    outbox.configure(replace(settings, smtp_host="127.0.0.1", smtp_sender="x@example.edu.cn",
                             notify_quiet_hours="22:00-08:00"))
    try:
        world = rv.make_world()
        rec = rv.submitted(world, world.m1)
        to = outbox.Recipient(school=world.school.code, name=rec.name, recipient=rec.student_no, record_id=rec.id,
                              email="s@example.edu.cn")
        late = datetime(2026, 12, 3, 15, 30)
        outbox.enqueue("reminder", to, {"状态": "未提交"}, now=late)
        outbox.enqueue("rejected", to, {"意见": "x"}, now=late)
        due = {Notification.get_by_id(d.notification_id).kind: d.next_attempt_at for d in Delivery.select()}
        assert due == {"reminder": datetime(2026, 12, 4, 0, 0), "rejected": late}
    finally:
        outbox.configure(settings)
