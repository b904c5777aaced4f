"""Throttling of guesses (logins, binds, identity checks): atomic on SQLite and PostgreSQL.

Why this shape:
- **Reserve before checking.** Each attempt first takes a slot with one
  `INSERT … ON CONFLICT DO UPDATE SET failures = failures + 1 … RETURNING failures` per counter, and
  only then checks the password (or the roster, or asks the identity service). The old
  read-check-then-write let 16 parallel requests all pass the check (12–19 guesses per window) and
  lost increments on PostgreSQL. An attempt whose slot number is past the limit is refused without
  checking anything, so the limit holds however many requests run at once. A failure keeps its
  slot; a success gives it back (the pair counter is cleared, a shared counter is decremented by
  one, never reset, so logging in to one's own account does not buy more guesses elsewhere).
- **Lock the pair, not the account.** The counters are
  * (account, client address): `login_max_failures` → locks only that pair, so a stranger cannot
    lock the centre out: the owner, from another address, still logs in;
  * client address across accounts: `login_address_max_failures` (larger: campus NAT) → locks
    that address (password spraying);
  * account across addresses: never locks; past `login_account_slow_after` failures each further
    attempt on it waits `login_slow_seconds` first. That slows a distributed guesser (each waiting
    request holds a worker thread, which is the price of never handing out a lockout).
- **Windows.** A counter untouched for lock_seconds starts over; a lock lasts lock_seconds from the
  attempt that reached the limit.
Keys name the purpose ("login", "bind", "identity"), so failed identity checks never lock logins.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.db import database, is_sqlite, write_transaction
from service.errors import PermissionDenied
from service.models import Throttle, utcnow

NO_LIMIT = 2**31 - 1  # a counter that only counts (the account-wide slow-down)
KEY_LENGTH = 128  # Throttle.key's column size


def client_key(address: str | None) -> str:
    """The client's address as a key part ('-' when there is none, e.g. the CLI)."""
    return (address or "-").strip() or "-"


def make_key(*parts: str) -> str:
    key = ":".join(parts)
    if len(key) <= KEY_LENGTH:
        return key
    return key[:KEY_LENGTH - 65] + "#" + hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Limit:
    """One counter an attempt must pass: refused once more than max_failures are counted."""

    key: str
    max_failures: int
    lock_seconds: int
    locked_message: str = "失败次数过多，请 {minutes} 分钟后再试"
    clear_on_success: bool = False  # True: the pair counter; False: shared counters give one slot back


@dataclass
class Ticket:
    """The slots one attempt holds; settle it with succeeded() or leave it (failure)."""

    limits: list[Limit] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def attempts_left(self) -> int:
        """Tries left before the tightest counter locks (after this attempt failed)."""
        return max(0, min((lim.max_failures - n for lim, n in zip(self.limits, self.counts, strict=True)),
                          default=0))


def _stamp(value: datetime) -> object:
    """Datetimes as peewee stores them on each engine, so SQL comparisons agree with the ORM."""
    return value.isoformat(" ") if is_sqlite() else value


def _bump(key: str, max_failures: int, lock_seconds: int) -> tuple[int, datetime | None]:
    """Atomically count one attempt on `key`; returns (its number in the window, locked_until)."""
    now = utcnow()
    until = now + timedelta(seconds=lock_seconds)
    window_start = now - timedelta(seconds=lock_seconds)
    p = database.param
    stale = (f"((throttle.locked_until IS NOT NULL AND throttle.locked_until <= {p}) "
             f"OR (throttle.locked_until IS NULL AND throttle.updated_at < {p}))")
    first_lock = until if max_failures <= 1 else None
    sql = (
        f'INSERT INTO throttle ("key", failures, locked_until, updated_at) VALUES ({p}, 1, {p}, {p}) '
        f'ON CONFLICT ("key") DO UPDATE SET '
        f"failures = CASE WHEN {stale} THEN 1 ELSE throttle.failures + 1 END, "
        f"locked_until = CASE WHEN {stale} THEN {p} "
        f"WHEN throttle.locked_until IS NOT NULL THEN throttle.locked_until "
        f"WHEN throttle.failures + 1 >= {p} THEN {p} ELSE NULL END, "
        f"updated_at = {p} RETURNING failures, locked_until"
    )
    n, w = _stamp(now), _stamp(window_start)
    fl = _stamp(first_lock) if first_lock is not None else None
    params = [key, fl, n, n, w, n, w, fl, max_failures, _stamp(until), n]
    with write_transaction():
        row = database.execute_sql(sql, params).fetchone()
    return int(row[0]), Throttle.locked_until.python_value(row[1])


def _give_back(limit: Limit) -> None:
    if limit.clear_on_success:
        Throttle.delete().where(Throttle.key == limit.key).execute()
        return
    p = database.param
    database.execute_sql(
        f"UPDATE throttle SET failures = failures - 1, "
        f"locked_until = CASE WHEN failures - 1 < {p} THEN NULL ELSE locked_until END "
        f'WHERE "key" = {p} AND failures > 0', [limit.max_failures, limit.key])


def reserve(limits: Sequence[Limit]) -> Ticket:
    """Take a slot on every counter in order; past any limit, give them back and refuse (403 locked)."""
    ticket = Ticket()
    for limit in limits:
        count, locked_until = _bump(limit.key, limit.max_failures, limit.lock_seconds)
        ticket.limits.append(limit)
        ticket.counts.append(count)
        if count > limit.max_failures:
            for held in ticket.limits:
                _give_back(Limit(held.key, held.max_failures, held.lock_seconds))  # refused: not a guess
            seconds = int(((locked_until or utcnow()) - utcnow()).total_seconds())
            seconds = max(1, min(seconds, limit.lock_seconds))
            raise PermissionDenied(limit.locked_message.format(minutes=max(1, seconds // 60 + 1)), code="locked",
                                   details={"retry_after_seconds": seconds})
    return ticket


def succeeded(ticket: Ticket) -> None:
    """The attempt was right (or was not a guess at all): give its slots back."""
    for limit in ticket.limits:
        _give_back(limit)


def count_only(key: str, window_seconds: int) -> int:
    """Count one failure on a counter that never locks (the account-wide slow-down)."""
    return _bump(key, NO_LIMIT, window_seconds)[0]


def slow_down(key: str, after: int, seconds: float, window_seconds: int) -> None:
    """Wait before checking when `key` has had more than `after` failures in the window."""
    if seconds <= 0:
        return
    row = Throttle.get_or_none(Throttle.key == key)
    if row is None or row.failures <= after:
        return
    if row.updated_at is not None and row.updated_at < utcnow() - timedelta(seconds=window_seconds):
        return
    time.sleep(seconds)
