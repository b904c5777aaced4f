"""Instants are stored as naive UTC and shown to people in Beijing time (Asia/Shanghai, +08:00)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))


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
