"""What the pages, API, CLI and report read: trends, per-session mixes, model totals and periods,
face totals and a session's photo verdicts. Each function takes the Engine and owns its transaction.

Datetimes: aware values are converted to UTC, naive ones are taken as UTC; results are naive UTC.
Date ranges are [start, end). Aggregates are computed by GROUP BY in SQL, never row by row in Python.

Sessions (db.sessions), photo and observation writes (db.photo_writes) and retention (db.retention)
live in their own modules; the names most callers use are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from db import rollups
from db.aggregates import BY_SESSION, long_format, wide_totals
from db.buckets import check_bucket
from db.models import (
    COUNT_COLUMNS,
    EventSession,
    Photo,
    hour_rollups_table,
    observations_table,
    session_rollups_table,
)
from db.photo_writes import (
    FaceLike,
    PhotoSaveResult,
    bulk_insert_observations,
    save_live_observations,
    save_photo,
)
from db.retention import purge_observations_older_than, rebuild_rollups
from db.rollups import TOTAL_COLUMNS
from db.sessions import (
    EVERY_OWNER,
    MAX_NAME_LENGTH,
    SessionInfo,
    count_event_sessions,
    create_event_session,
    delete_event_session,
    get_event_session,
    list_event_sessions,
    session_dates,
)
from db.timeutils import floor_to, to_utc_naive
from fer_core.labels import EMOTIONS, is_readable


@dataclass(frozen=True)
class ModelPeriod:
    """One model's share of some readings: the first and last hour it read faces in, and how many."""

    model_id: str
    first_hour: datetime  # start of the first hour with a face read by this model (naive UTC)
    last_hour: datetime  # start of the last such hour
    faces: int  # readable faces
    small_faces: int


#: Minute buckets follow one event; over a term they would return ~10^5 buckets to chart.
MAX_MINUTE_SPAN = timedelta(days=14)


class TooManyBucketsError(ValueError):
    """Minute buckets asked for data spanning more than MAX_MINUTE_SPAN; the message is for the user."""


def _minute_span(
    connection: Connection, session_ids: Sequence[int] | None, start: datetime | None, end: datetime | None
) -> timedelta:
    """Time between the first and last minute with faces under these filters (minute rollups, indexed)."""
    table = next(level.table for level in rollups.LEVELS if level.period == "minute")
    column = table.c.period_start
    query = select(func.min(column), func.max(column))
    if session_ids is not None:
        query = query.where(table.c.session_id.in_(list(session_ids)))
    if start is not None:
        query = query.where(column >= floor_to(start, "minute"))
    if end is not None:
        query = query.where(column < end)
    first, last = connection.execute(query).one()
    return (last - first) if first is not None and last is not None else timedelta(0)


def expression_trends(
    engine: Engine,
    bucket: str,
    session_ids: Sequence[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    min_faces: int = 1,
) -> pd.DataFrame:
    """Expression counts, shares and mean probabilities per time bucket (minute/hour/day/ISO week).

    One row per (bucket_start, expression), all 7 expressions per bucket, sorted by time then
    EMOTIONS order. Buckets with fewer than `min_faces` faces are dropped (privacy threshold).
    Minute buckets over more than MAX_MINUTE_SPAN of data raise TooManyBucketsError.
    """
    check_bucket(bucket)
    with engine.connect() as connection:
        if bucket == "minute":
            _check_minute_span(connection, session_ids, start, end)
        wide = wide_totals(connection, bucket, _ids(session_ids), _utc(start), _utc(end))
    frame = long_format(wide, "bucket_start", "bucket_faces", min_faces)
    frame["bucket_start"] = pd.to_datetime(frame["bucket_start"], unit="s").astype("datetime64[us]")
    return frame


def check_minute_buckets(
    engine: Engine,
    session_ids: Sequence[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> None:
    """TooManyBucketsError when minute buckets under these filters would span more than MAX_MINUTE_SPAN
    (what expression_trends checks first; for callers that build trends from model_totals)."""
    with engine.connect() as connection:
        _check_minute_span(connection, session_ids, start, end)


def trends_from_model_totals(totals: pd.DataFrame, min_faces: int = 1) -> pd.DataFrame:
    """expression_trends' rows from model_totals rows by a time bucket (the models summed per bucket):
    one query serves the chart, its model marks and the face totals."""
    wide = totals.drop(columns="model_id").groupby("bucket_start", as_index=False, sort=True).sum()
    return long_format(wide, "bucket_start", "bucket_faces", min_faces)


def _check_minute_span(
    connection: Connection, session_ids: Sequence[int] | None, start: datetime | None, end: datetime | None
) -> None:
    span = _minute_span(connection, _ids(session_ids), _utc(start), _utc(end))
    if span > MAX_MINUTE_SPAN:
        raise TooManyBucketsError(
            f"Minute buckets are for following one event: these filters cover {span.days} days of "
            f"faces (at most {MAX_MINUTE_SPAN.days}). Narrow the dates or sessions, or pick hour, "
            "day or week."
        )


def session_comparison(
    engine: Engine,
    session_ids: Sequence[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    min_faces: int = 1,
) -> pd.DataFrame:
    """Like `expression_trends`, but one group per session (sorted by session id), with its name."""
    with engine.connect() as connection:
        wide = wide_totals(connection, BY_SESSION, _ids(session_ids), _utc(start), _utc(end))
        names_query = select(EventSession.id, EventSession.name)
        if session_ids is not None:  # all sessions: every name, not an IN list of 10,000 ids
            names_query = names_query.where(EventSession.id.in_(wide["session_id"].astype("int64").tolist()))
        names = dict(connection.execute(names_query).all())
    frame = long_format(wide, "session_id", "session_faces", min_faces)
    frame["session_id"] = frame["session_id"].astype("int64")
    frame.insert(1, "session_name", frame["session_id"].map(names).astype("str"))
    return frame


def model_totals(
    engine: Engine,
    by: str,
    session_ids: Sequence[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    columns: Sequence[str] = TOTAL_COLUMNS,
) -> pd.DataFrame:
    """Like the totals behind `expression_trends` (by a time bucket) or `session_comparison` (by
    "session"), but one row per group *and reading model*: bucket_start (or session_id), model_id,
    then `columns` (default all: faces, small_faces, n_<name>, sum_p_<name>). No privacy threshold:
    callers apply their own.

    So that charts can mark where one model's readings end and another's begin, and the wellbeing
    chart can keep each model's weeks apart (readings of different models are not comparable).
    """
    if by != BY_SESSION:
        check_bucket(by)
    with engine.connect() as connection:
        wide = wide_totals(
            connection, by, _ids(session_ids), _utc(start), _utc(end), by_model=True, columns=columns
        )
    if by != BY_SESSION:
        wide["bucket_start"] = pd.to_datetime(wide["bucket_start"], unit="s").astype("datetime64[us]")
    wide["model_id"] = wide["model_id"].astype(str)
    return wide


def model_periods(
    engine: Engine,
    session_ids: Sequence[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[ModelPeriod]:
    """Which models read the faces under these filters, when (to the hour) and how many, first used
    first. From the hour rollups, so the date filters apply to whole hours (from the session rollups
    when there are none)."""
    if start is None and end is None:
        table = session_rollups_table
        first_hour, last_hour = table.c.first_hour, table.c.last_hour
    else:
        table = hour_rollups_table
        first_hour = last_hour = table.c.period_start
    query = select(
        table.c.model_id,
        func.min(first_hour),
        func.max(last_hour),
        func.sum(table.c.faces),
        func.sum(table.c.small_faces),
    ).group_by(table.c.model_id)
    if session_ids is not None:
        query = query.where(table.c.session_id.in_(_ids(session_ids)))
    if start is not None:
        query = query.where(first_hour >= floor_to(_utc(start), "hour"))
    if end is not None:
        query = query.where(first_hour < _utc(end))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    periods = [ModelPeriod(m, first, last, int(n or 0), int(small or 0)) for m, first, last, n, small in rows]
    return sorted(periods, key=lambda p: (p.first_hour, p.model_id))


def face_totals(
    engine: Engine,
    session_ids: Sequence[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[int, int]:
    """(readable faces, faces too small to read) under these filters, from the rollups."""
    with engine.connect() as connection:
        wide = wide_totals(connection, BY_SESSION, _ids(session_ids), _utc(start), _utc(end))
    return int(wide["faces"].sum()), int(wide["small_faces"].sum())


#: The observation columns photo_results reads per face (then the probabilities).
_FACE_COLUMNS = ("photo_id", "box_x", "box_y", "box_w", "box_h", "face_size", "top_label", "confidence")
#: The photo columns photo_results and photo_table return, in this order.
PHOTO_COLUMNS: tuple[str, ...] = (
    "id", "filename", "taken_at", "time_source", "width", "height", "n_faces", "model_id",
)  # fmt: skip


def photo_results(engine: Engine, session_id: int) -> list[dict]:
    """Each photo of a session (in time order) with its faces, for review and export.

    Two queries returning plain tuples (photos; their observations in photo order); for a session's
    photo list on a page, photo_table is much cheaper (one row per photo, counts from SQL).
    """
    photos = Photo.__table__
    obs = observations_table
    probabilities = (obs.c[f"p_{name}"] for name in EMOTIONS)
    with engine.connect() as connection:
        photo_rows = connection.execute(
            select(*(photos.c[c] for c in PHOTO_COLUMNS))
            .where(photos.c.session_id == session_id)
            .order_by(photos.c.taken_at, photos.c.id)
        ).all()
        observations = connection.execute(
            select(*(obs.c[c] for c in _FACE_COLUMNS), *probabilities)
            .where(obs.c.session_id == session_id, obs.c.photo_id.is_not(None))
            .order_by(obs.c.photo_id, obs.c.id)
        ).all()
    faces: dict[int, list[dict]] = {}
    for photo_id, x, y, w, h, face_size, top_label, confidence, *p in observations:
        faces.setdefault(photo_id, []).append(
            {
                "box": (x, y, w, h),
                "face_size": face_size,
                "readable": is_readable(face_size),
                "label": EMOTIONS[top_label],
                "confidence": confidence,
                "probabilities": dict(zip(EMOTIONS, p, strict=True)),
            }
        )
    return [
        {**dict(zip(PHOTO_COLUMNS, row, strict=True)), "faces": faces.get(row[0], [])} for row in photo_rows
    ]


def photo_table(engine: Engine, session_id: int) -> pd.DataFrame:
    """One row per photo of a session, in time order: PHOTO_COLUMNS, then its readable faces, the faces
    too small to read and the readable faces per top label (n_<expression>), counted in SQL (one query:
    the photos joined to their observations' GROUP BY). The photo list of the Event photos page."""
    photos = Photo.__table__
    obs = observations_table
    totals = rollups.observation_totals()[: 2 + len(COUNT_COLUMNS)]
    counts = (
        select(obs.c.photo_id, *totals)
        .where(obs.c.session_id == session_id, obs.c.photo_id.is_not(None))
        .group_by(obs.c.photo_id)
        .subquery()
    )
    count_names = ["faces", "small_faces", *COUNT_COLUMNS]
    query = (
        select(*(photos.c[c] for c in PHOTO_COLUMNS), *(counts.c[c] for c in count_names))
        .select_from(photos.outerjoin(counts, counts.c.photo_id == photos.c.id))
        .where(photos.c.session_id == session_id)
        .order_by(photos.c.taken_at, photos.c.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=[*PHOTO_COLUMNS, *count_names])
    integers = ["id", "width", "height", "n_faces", *count_names]
    frame[integers] = frame[integers].fillna(0).astype("int64")
    frame["taken_at"] = pd.to_datetime(frame["taken_at"]).astype("datetime64[us]")
    return frame


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else to_utc_naive(value)


def _ids(session_ids: Sequence[int] | None) -> list[int] | None:
    """Plain ints (drivers cannot bind numpy integers); None stays None, meaning all sessions."""
    return None if session_ids is None else [int(i) for i in session_ids]


__all__ = [
    "EVERY_OWNER",
    "MAX_NAME_LENGTH",
    "TooManyBucketsError",
    "FaceLike",
    "ModelPeriod",
    "PhotoSaveResult",
    "SessionInfo",
    "bulk_insert_observations",
    "check_minute_buckets",
    "count_event_sessions",
    "create_event_session",
    "delete_event_session",
    "expression_trends",
    "face_totals",
    "get_event_session",
    "list_event_sessions",
    "model_periods",
    "model_totals",
    "photo_results",
    "photo_table",
    "purge_observations_older_than",
    "rebuild_rollups",
    "save_live_observations",
    "save_photo",
    "session_comparison",
    "session_dates",
    "trends_from_model_totals",
]
