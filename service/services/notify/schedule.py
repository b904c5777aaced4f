"""Jobs the sender runs when due: reminders N days and 1 day before a school's deadline, and the
reviewers' daily digest. Each job writes a NotifyMark with a unique key in the same transaction as
its messages, so it runs once however many senders there are."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from peewee import IntegrityError

from service.config import Settings
from service.db import write_transaction
from service.models import DeadlineExtension, NotifyMark, NotifySchedule, PendingTask, School, User
from service.services import processes
from service.services.actors import actor_for_user
from service.services.deadlines import store as deadlines
from service.services.deadlines.policy import beijing
from service.services.notify import outbox, targets

log = logging.getLogger("gradflow.notify")
DEFAULT_REMINDER_DAYS = 3


def reminder_days(school_code: str) -> int:
    row = NotifySchedule.get_or_none(NotifySchedule.school == school_code)
    return row.reminder_days if row is not None else DEFAULT_REMINDER_DAYS


def _claim_mark(key: str, data: dict[str, object]) -> bool:
    """Inside a transaction: True when this job's mark was not there yet (it is now).

    Every sender of every worker and machine polls the schedule; a mark that exists is seen by a
    plain read, so only the first rounds after a job falls due race on the unique key."""
    if NotifyMark.select(NotifyMark.key).where(NotifyMark.key == key).exists():
        return False
    try:
        with write_transaction():  # a savepoint: losing the race rolls back only the mark
            NotifyMark.create(key=key, data=data)
    except IntegrityError:
        return False
    return True


def deadline_reminders(school_code: str, school_name: str, settings: Settings, now: datetime) -> int:
    """Remind the students who still have to act, once at N days and once at 1 day before."""
    deadline = deadlines.school_overview(school_code, settings).deadline
    if deadline is None:
        return 0
    end = deadline.astimezone(UTC).replace(tzinfo=None)
    if now >= end:
        return 0
    offsets = sorted({reminder_days(school_code), 1}, reverse=True)
    due = [d for d in offsets if now >= end - timedelta(days=d)]
    if not due:
        return 0
    # Only the most imminent reminder is sent; the earlier ones it supersedes are marked done too.
    extended = list(DeadlineExtension.select().where((DeadlineExtension.school == school_code)
                                                     & (DeadlineExtension.until > end)))
    skip_colleges = frozenset(e.college_id for e in extended if e.college_id)
    skip_students = frozenset(e.student_no for e in extended if e.student_no)
    sent = 0
    with write_transaction():
        fresh = [d for d in due if _claim_mark(f"deadline:{school_code}:{end.isoformat()}:{d}d", {"days": d})]
        if not fresh or min(due) not in fresh:
            return 0
        for to, state in targets.open_students(school_code, skip_students=skip_students, skip_colleges=skip_colleges):
            outbox.enqueue("deadline", to, {"学号": to.recipient, "学校": school_name, "状态": state,
                                            "截止时间": beijing(deadline)}, created_by="system", now=now)
            sent += 1
    return sent


def daily_digest(school_code: str, school_name: str, settings: Settings, now: datetime) -> int:
    """Once a day after notify_digest_hour (Beijing): each reviewer hears how many records wait."""
    local = now + timedelta(hours=8)
    if local.hour < settings.notify_digest_hour:
        return 0
    levels: list[str] = []
    for definition in processes.definitions_in_use(school_code):
        levels.extend(r for r in definition.reviewer_roles if r not in levels)
    sent = 0
    with write_transaction():
        if not _claim_mark(f"digest:{school_code}:{local.date().isoformat()}", {}):
            return 0
        for user in User.select().where((User.school == school_code) & User.role.in_(levels)
                                        & (User.active == True)):  # noqa: E712
            actor = actor_for_user(user)
            query = PendingTask.select().where((PendingTask.school == school_code) & (PendingTask.role == user.role))
            grants = actor.grants_clause(PendingTask.college, PendingTask.major)
            count = (query.where(grants) if grants is not None else query).count()
            if not count:
                continue
            to = outbox.Recipient(school=school_code, name=user.display_name or user.username,
                                  recipient=user.username, user_id=user.id)
            outbox.enqueue("digest", to, {"学校": school_name, "待审数": count}, created_by="system", now=now)
            sent += 1
    return sent


TICK_PREFIX = "tick:"


def claim_tick(settings: Settings, now: datetime) -> bool:
    """True for the one sender (of all workers on all machines) that runs the jobs this period.

    The period's mark is taken like a job's; older period marks go in the same transaction, so the
    table keeps one. Jobs only look at what is due, so a period whose sender died before running
    them loses nothing: the next period's sender finds the same jobs due."""
    seconds = max(settings.notify_schedule_seconds, 0.0)
    if seconds == 0:
        return True
    period = int(now.replace(tzinfo=UTC).timestamp() // seconds)
    key = f"{TICK_PREFIX}{seconds:g}:{period}"
    if NotifyMark.select(NotifyMark.key).where(NotifyMark.key == key).exists():
        return False  # taken: no write transaction (SQLite's write lock) on most polls
    with write_transaction():
        if not _claim_mark(key, {"at": now.isoformat(timespec="seconds")}):
            return False
        NotifyMark.delete().where(NotifyMark.key.startswith(TICK_PREFIX) & (NotifyMark.key != key)).execute()
    return True


def run_due_jobs(settings: Settings, now: datetime) -> int:
    """Every school's due jobs; returns how many messages they wrote."""
    total = 0
    for school in School.select(School.code, School.name):
        for job in (deadline_reminders, daily_digest):
            try:
                total += job(school.code, school.name, settings, now)
            except Exception:  # one school's broken job must not stop the others' deliveries
                log.exception("notify job %s for school %s failed", job.__name__, school.code)
    return total
