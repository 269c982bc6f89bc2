"""One convention for datetimes in the database: naive values in UTC, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: Lengths of the periods the rollup tables are kept in.
PERIODS: dict[str, timedelta] = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}


def utcnow() -> datetime:
    """Current time as a naive UTC datetime (the stored form)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc_naive(value: datetime) -> datetime:
    """Aware datetimes are converted to UTC; naive ones are taken to be UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def floor_to(value: datetime, period: str) -> datetime:
    """Start of the minute or hour containing `value`."""
    if period == "minute":
        return value.replace(second=0, microsecond=0)
    if period == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    raise ValueError(f"period must be one of {tuple(PERIODS)}, not {period!r}")


def ceil_to(value: datetime, period: str) -> datetime:
    """Start of the first minute or hour at or after `value`."""
    floored = floor_to(value, period)
    return floored if floored == value else floored + PERIODS[period]
