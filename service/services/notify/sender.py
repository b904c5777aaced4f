"""Delivering the outbox: claim a few due deliveries, send them, record the outcome, repeat.

At least once: a delivery is marked sent only after the channel accepted it, so a crash between
the two repeats it (the receiver drops the repeat by its stable id). Only claimed deliveries can
repeat, and a sender claims `notify_batch_size` at a time, so a crash repeats at most that many.
A claim is an UPDATE that matches only rows still pending, so two senders (gunicorn workers, a
cron job) never both take one; a claim whose sender died is released after notify_lease_seconds.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.config import Settings
from service.db import database, is_sqlite, write_transaction
from service.models import Delivery, Notification, School, utcnow
from service.services.notify import schedule
from service.services.notify.channels import DeliveryFailed, EmailChannel, WebhookChannel
from service.services.notify.outbox import EMAIL, WEBHOOK

log = logging.getLogger("gradflow.notify")

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
MAX_BACKOFF_SECONDS = 3600.0


@dataclass
class RunStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    scheduled: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: RunStats) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.released += other.released
        self.scheduled += other.scheduled
        self.errors = (self.errors + other.errors)[-20:]


def backoff(settings: Settings, attempts: int) -> float:
    return min(settings.notify_backoff_seconds * (2 ** max(attempts - 1, 0)), MAX_BACKOFF_SECONDS)


def release_stale(settings: Settings, now: datetime) -> int:
    """Claims older than the lease go back to pending (their sender died mid-batch)."""
    with write_transaction():
        return (Delivery.update(status=PENDING, claim_token="")
                .where((Delivery.status == SENDING)
                       & (Delivery.claimed_at < now - timedelta(seconds=settings.notify_lease_seconds)))
                .execute())


def claim(settings: Settings, now: datetime, limit: int) -> list[Delivery]:
    """Take up to `limit` due deliveries for this sender (any number of senders may run at once).

    SQLite: BEGIN IMMEDIATE makes claims one at a time. PostgreSQL: the due rows are locked with
    SKIP LOCKED, so senders on other workers or machines take the next rows instead of waiting for
    (and then losing) these; the UPDATE's status check stays as the guarantee either way."""
    token = secrets.token_hex(8)
    with write_transaction():
        due = (Delivery.select(Delivery.id)
               .where((Delivery.status == PENDING) & (Delivery.next_attempt_at <= now))
               .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
        if not is_sqlite():
            due = due.for_update(skip_locked=True)
        ids = [d.id for d in due]
        if not ids:
            return []
        (Delivery.update(status=SENDING, claim_token=token, claimed_at=now)
         .where(Delivery.id.in_(ids) & (Delivery.status == PENDING)).execute())
    return list(Delivery.select().where(Delivery.claim_token == token).order_by(Delivery.id))


def _finish(delivery: Delivery, **values: object) -> None:
    """Record an outcome, only while the claim is still ours (a released claim may be someone else's)."""
    with write_transaction():
        (Delivery.update(**values, claim_token="")
         .where((Delivery.id == delivery.id) & (Delivery.claim_token == delivery.claim_token)).execute())


def _send_batch(batch: list[Delivery], settings: Settings, stats: RunStats,
                stop: Callable[[], bool]) -> None:
    notes = {n.id: n for n in Notification.select().where(Notification.id.in_([d.notification_id for d in batch]))}
    names = {s.code: s.name for s in School.select(School.code, School.name)
             .where(School.code.in_({n.school_id for n in notes.values()}))}
    email, webhook = EmailChannel(settings), WebhookChannel(settings)
    try:
        for delivery in batch:
            if stop():
                break  # the claims lapse and are released after the lease
            note = notes[delivery.notification_id]
            channel = email if delivery.channel == EMAIL else webhook if delivery.channel == WEBHOOK else None
            attempts = delivery.attempts + 1
            try:
                if channel is None:
                    raise DeliveryFailed(f"unknown channel {delivery.channel!r}", permanent=True)
                channel.send(delivery, note, names.get(note.school_id, ""))
            except DeliveryFailed as exc:
                stats.errors.append(f"{delivery.channel} #{delivery.id}: {exc.reason}")
                if exc.permanent or attempts >= settings.notify_max_attempts:
                    stats.failed += 1
                    _finish(delivery, status=FAILED, attempts=attempts, last_error=exc.reason)
                else:
                    stats.retried += 1
                    _finish(delivery, status=PENDING, attempts=attempts, last_error=exc.reason,
                            next_attempt_at=utcnow() + timedelta(seconds=backoff(settings, attempts)))
                continue
            stats.sent += 1
            _finish(delivery, status=SENT, attempts=attempts, sent_at=utcnow(), last_error="")
    finally:
        email.close()
        webhook.close()


def run_once(settings: Settings, *, stop: Callable[[], bool] = lambda: False,
             max_batches: int | None = None) -> RunStats:
    """Run the scheduled jobs, then deliver what is due until nothing is (or `stop()` says so)."""
    stats = RunStats()
    now = utcnow()
    stats.released = release_stale(settings, now)
    if schedule.claim_tick(settings, now):
        stats.scheduled = schedule.run_due_jobs(settings, now)
    batches = 0
    while not stop() and (max_batches is None or batches < max_batches):
        batch = claim(settings, utcnow(), max(settings.notify_batch_size, 1))
        if not batch:
            break
        _send_batch(batch, settings, stats, stop)
        batches += 1
    return stats


def run_forever(settings: Settings, stop: threading.Event, *, bound: object | None = None) -> None:
    """The sender loop of `gradflow notify run --watch` and of the background worker.

    `bound` is the database the worker was started for: if the process rebinds the handle to
    another database (tests do, one per test), the worker stops rather than deliver another
    database's outbox with this one's settings."""
    while not stop.is_set():
        if bound is not None and database.obj is not bound:
            log.warning("notify worker stops: the database it was started for is no longer bound")
            return
        try:
            stats = run_once(settings, stop=stop.is_set)
            if stats.sent or stats.failed or stats.retried:
                log.info("notify: sent %d, retried %d, failed %d", stats.sent, stats.retried, stats.failed)
        except Exception:  # a database outage must not end the worker: log and try again later
            log.exception("notify sender round failed")
        finally:
            if not database.is_closed():
                database.close()
        stop.wait(settings.notify_poll_seconds)


_worker: threading.Thread | None = None
_worker_stop = threading.Event()
_worker_args: tuple[Settings, object] | None = None
_worker_lock = threading.Lock()


def start_worker(settings: Settings) -> threading.Thread | None:
    """One background sender per process (create_app may run several times in one process).

    Every gunicorn worker on every machine runs one: claims (SKIP LOCKED on PostgreSQL), leases
    (release_stale) and the schedule's unique marks keep them from doing anything twice, so no
    process has to be "the only one". A process forked after starting it (gunicorn --preload)
    starts its own in the child, since threads do not survive fork."""
    global _worker, _worker_args, _worker_stop
    with _worker_lock:
        if _worker is not None and _worker.is_alive():
            return None
        _worker_args = (settings, database.obj)
        _worker_stop = threading.Event()
        _worker = threading.Thread(target=run_forever, args=(settings, _worker_stop),
                                   kwargs={"bound": database.obj}, name="gradflow-notify", daemon=True)
        _worker.start()
        return _worker


def stop_worker(timeout: float = 10.0) -> None:
    """Stop this process's background sender (if any) after its current round."""
    global _worker_args
    _worker_stop.set()
    _worker_args = None
    if _worker is not None:
        _worker.join(timeout)


def _restart_worker_after_fork() -> None:
    global _worker, _worker_lock
    _worker_lock = threading.Lock()  # a lock held by another thread at fork time stays held
    if _worker_args is None or _worker is None:
        return
    _worker = None
    settings, bound = _worker_args
    if database.obj is bound:
        start_worker(settings)


os.register_at_fork(after_in_child=_restart_worker_after_fork)


def wait_until_idle(settings: Settings, timeout: float = 30.0) -> bool:
    """Deliver in this thread until nothing is due (tests, `notify run` without --watch)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = run_once(settings)
        if not (stats.sent or stats.retried or stats.failed):
            return True
    return False
