"""The one source of "now" and the province's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PROVINCE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utc_now() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return an aware UTC datetime; naive values are taken as UTC (as SQLite returns them)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_local(value: datetime) -> datetime:
    """Convert a UTC time to the province's local time."""
    return ensure_utc(value).astimezone(PROVINCE_TZ)


def local_today() -> date:
    """Return today's date in the province."""
    return utc_now().astimezone(PROVINCE_TZ).date()
