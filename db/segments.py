"""A session's agenda (named time segments) and the label counts per photo that segment statistics need.

Intervals on shares resample whole photos (campus_fer.stats), so the queries here return
top-label counts per *unit*: a photo, or one live-webcam frame (all faces written at one moment
without a photo). Only readable faces are counted per label (fer_core.labels.READABLE_MIN_FACE_PX);
faces too small to read are counted apart in `small_faces`, as in the rollups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from db import audit
from db.engine import writer
from db.models import COUNT_COLUMNS, AgendaSegment, EventSession, observations_table
from db.queries import MAX_NAME_LENGTH
from db.roles import Actor, require
from db.rollups import observation_totals
from db.timeutils import to_utc_naive

#: Segment column of `unit_counts` for faces outside every segment (the rest of the event).
OUTSIDE = -1
UNIT_COLUMNS: tuple[str, ...] = (
    "segment_id",
    "photo_id",
    "observed_at",
    "model_id",
    "faces",
    "small_faces",
    *COUNT_COLUMNS,
)


@dataclass(frozen=True)
class Segment:
    """One agenda entry; `id` is None until stored. Times are naive UTC, the range is [starts_at, ends_at)."""

    name: str
    starts_at: datetime
    ends_at: datetime
    id: int | None = None


def check_agenda(segments: Sequence[Segment]) -> list[Segment]:
    """Cleaned segments in time order; ValueError with a readable message for bad or overlapping entries."""
    cleaned = []
    for number, segment in enumerate(segments, start=1):
        name = (segment.name or "").strip()
        if not name:
            raise ValueError(f"Agenda row {number} has no name.")
        if len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"Agenda row {number}: names can be at most {MAX_NAME_LENGTH} characters long.")
        start, end = to_utc_naive(segment.starts_at), to_utc_naive(segment.ends_at)
        if end <= start:
            raise ValueError(f"Agenda row {number} ('{name}') ends before it starts.")
        cleaned.append(Segment(name, start, end))
    cleaned.sort(key=lambda s: s.starts_at)
    for before, after in zip(cleaned, cleaned[1:], strict=False):
        if after.starts_at < before.ends_at:
            raise ValueError(
                f"'{before.name}' and '{after.name}' overlap; a face must belong to one segment at most."
            )
    return cleaned


def replace_agenda(
    engine: Engine, session_id: int, segments: Sequence[Segment], *, actor: Actor
) -> list[Segment]:
    """Replace a session's whole agenda in one transaction (an empty list clears it); returns it stored.

    Organisers and admins only (db.roles.NotAllowed else), like adding photos to a session.
    The change and its audit row ('agenda_changed', with segment counts) commit together.
    """
    require(actor, "upload", what=f"change the agenda of session {session_id}")
    cleaned = check_agenda(segments)
    with Session(writer(engine)) as session, session.begin():
        event = session.get(EventSession, session_id)
        if event is None:
            raise ValueError(f"Event session {session_id} does not exist (was it deleted?).")
        replaced = session.execute(delete(AgendaSegment).where(AgendaSegment.session_id == session_id))
        rows = [
            AgendaSegment(session_id=session_id, name=s.name, starts_at=s.starts_at, ends_at=s.ends_at)
            for s in cleaned
        ]
        session.add_all(rows)
        session.flush()
        audit.record(
            session.connection(),
            actor,
            "agenda_changed",
            session_id=session_id,
            session_name=event.name,
            detail={"segments_before": replaced.rowcount, "segments": len(rows)},
        )
        return [Segment(r.name, r.starts_at, r.ends_at, r.id) for r in rows]


def agenda(engine: Engine, session_id: int) -> list[Segment]:
    """A session's agenda in time order ([] when none was given)."""
    with Session(engine) as session:
        rows = session.scalars(
            select(AgendaSegment)
            .where(AgendaSegment.session_id == session_id)
            .order_by(AgendaSegment.starts_at, AgendaSegment.id)
        ).all()
        return [Segment(r.name, r.starts_at, r.ends_at, r.id) for r in rows]


def unit_counts(engine: Engine, session_id: int) -> pd.DataFrame:
    """Per agenda segment (OUTSIDE for faces in none) and unit (photo, or live frame): the model that
    read it, readable faces, small_faces and the readable faces per top label (n_<expression>), in
    time order (then photo and model id)."""
    return sessions_unit_counts(engine, [session_id]).drop(columns="session_id")


def sessions_unit_counts(engine: Engine, session_ids: Sequence[int]) -> pd.DataFrame:
    """unit_counts for several sessions at once: a `session_id` column, then unit_counts' columns,
    sorted by session, time, photo and model id.

    One GROUP BY in SQL per unit (no join: all faces of a unit share its time) and one query for the
    agendas; each unit is then put in the segment of its session whose [starts_at, ends_at) holds its
    time, by a binary search over that agenda (segments never overlap: check_agenda).
    """
    obs = observations_table
    segments = AgendaSegment.__table__
    ids = [int(i) for i in session_ids]
    totals = observation_totals()[: 2 + len(COUNT_COLUMNS)]
    unit = (obs.c.session_id, obs.c.observed_at, obs.c.photo_id, obs.c.model_id)
    query = (
        select(obs.c.session_id, obs.c.photo_id, obs.c.observed_at, obs.c.model_id, *totals)
        .where(obs.c.session_id.in_(ids))
        .group_by(*unit)
        .order_by(*unit)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        stored = connection.execute(
            select(segments.c.session_id, segments.c.id, segments.c.starts_at, segments.c.ends_at)
            .where(segments.c.session_id.in_(ids))
            .order_by(segments.c.session_id, segments.c.starts_at)
        ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["session_id", *UNIT_COLUMNS[1:]])
    sessions = frame["session_id"].to_numpy(dtype=np.int64)
    segment_ids = np.full(len(frame), OUTSIDE, dtype=np.int64)
    agendas: dict[int, list] = {}
    for session_id, *segment in stored:
        agendas.setdefault(session_id, []).append(segment)
    for session_id, agenda_rows in agendas.items():
        a, b = np.searchsorted(sessions, [session_id, session_id + 1])  # rows are sorted by session
        segment_ids[a:b] = _segment_of(frame["observed_at"].iloc[a:b], agenda_rows)
    frame.insert(1, "segment_id", segment_ids)
    integers = ["faces", "small_faces", *COUNT_COLUMNS]
    frame[integers] = frame[integers].fillna(0).astype("int64")
    return frame


def _segment_of(times: pd.Series, stored: Sequence) -> np.ndarray:
    """The id of the segment (id, starts_at, ends_at; in start order, not overlapping) holding each time;
    OUTSIDE where none does."""
    if not stored or times.empty:
        return np.full(len(times), OUTSIDE, dtype=np.int64)
    ids = np.array([row[0] for row in stored], dtype=np.int64)
    starts = np.array([row[1] for row in stored], dtype="datetime64[us]")
    ends = np.array([row[2] for row in stored], dtype="datetime64[us]")
    moments = times.to_numpy(dtype="datetime64[us]")
    index = np.searchsorted(starts, moments, side="right") - 1
    inside = (index >= 0) & (moments < ends[index.clip(min=0)])
    return np.where(inside, ids[index.clip(min=0)], OUTSIDE)


__all__ = [
    "OUTSIDE", "Segment", "agenda", "check_agenda", "replace_agenda", "sessions_unit_counts", "unit_counts",
]  # fmt: skip
