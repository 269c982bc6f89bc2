"""Time buckets in SQL: the start of the minute/hour/day/ISO week of a timestamp, per dialect.

The SQLite forms produce exactly SQLAlchemy's stored DateTime text ("YYYY-MM-DD HH:MM:SS.ffffff"),
so they compare and group correctly against stored values and parse back into datetimes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ColumnElement, DateTime, Integer, cast, func, literal_column, type_coerce

BUCKETS: tuple[str, ...] = ("minute", "hour", "day", "week")

_SQLITE: dict[str, tuple[str, ...]] = {
    "minute": ("%Y-%m-%d %H:%M:00.000000",),
    "hour": ("%Y-%m-%d %H:00:00.000000",),
    "day": ("%Y-%m-%d 00:00:00.000000",),
    # 'weekday 0' moves forward to Sunday (or stays on one); 6 days back is that ISO week's Monday.
    "week": ("%Y-%m-%d 00:00:00.000000", "weekday 0", "-6 days"),
}


def check_bucket(bucket: str) -> None:
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}, not {bucket!r}")


def bucket_start(bucket: str, column: ColumnElement[datetime], dialect: str) -> ColumnElement[datetime]:
    """SQL for the start of `bucket` containing `column` (weeks start on Monday), typed as DateTime.

    Constants are inlined rather than bound so the same text can appear in SELECT and GROUP BY.
    """
    check_bucket(bucket)
    if dialect == "sqlite":
        fmt, *modifiers = _SQLITE[bucket]
        args = [literal_column(f"'{fmt}'"), column, *(literal_column(f"'{m}'") for m in modifiers)]
        return type_coerce(func.strftime(*args), DateTime())
    if dialect == "postgresql":
        return type_coerce(func.date_trunc(literal_column(f"'{bucket}'"), column), DateTime())
    raise NotImplementedError(f"time buckets are implemented for SQLite and PostgreSQL, not {dialect}")


def epoch_seconds(value: ColumnElement[datetime], dialect: str) -> ColumnElement[int]:
    """SQL for a naive-UTC timestamp as integer seconds since 1970, so results fetch as plain numbers."""
    if dialect == "sqlite":
        return cast(func.strftime(literal_column("'%s'"), value), Integer)
    if dialect == "postgresql":
        return cast(func.extract("epoch", value), BigInteger)
    raise NotImplementedError(f"epoch seconds are implemented for SQLite and PostgreSQL, not {dialect}")
