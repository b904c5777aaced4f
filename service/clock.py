"""Instants are stored as naive UTC and shown to people in Beijing time (Asia/Shanghai, +08:00).

`now()` is the one clock every stored instant comes from (models.base.utcnow calls it). Tests that
need deterministic times (histories with known durations) set it with `fixed(at)`; nothing else
may: it is a process-wide setting, not a per-request one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
_fixed: datetime | None = None


def now() -> datetime:
    """The current instant as naive UTC (the fixed one inside `fixed`)."""
    return _fixed if _fixed is not None else datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def fixed(at: datetime) -> Iterator[None]:
    """Make `now()` answer `at` (aware, or naive UTC) until the block ends."""
    global _fixed
    previous = _fixed
    _fixed = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
    try:
        yield
    finally:
        _fixed = previous


_OFFSET = timedelta(hours=8)  # Beijing keeps no daylight saving time: a fixed offset


def beijing_date(value: datetime) -> date:
    """The calendar day (Beijing time) of a stored instant (naive UTC or aware)."""
    if value.tzinfo is None:  # the stored form; hot in the analytics pass, so plain arithmetic
        return (value + _OFFSET).date()
    return value.astimezone(BEIJING).date()


def beijing_text(value: datetime | str | None) -> str:
    """A stored instant (naive UTC datetime or ISO text) in Beijing time, to the minute."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        instant = value
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
