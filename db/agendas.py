"""Agendas and per-unit counts of many sessions at once, for views across sessions (the trends page
grouped by agenda segment): one query each, however many sessions, instead of one per session.

The single-session forms (db.segments.agenda, db.segments.unit_counts) serve the Agenda page, the
report and the API; these return the same rows with a `session_id` added.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, and_, select

from db.models import COUNT_COLUMNS, AgendaSegment, observations_table
from db.rollups import observation_totals
from db.segments import OUTSIDE, UNIT_COLUMNS, Segment


def sessions_with_agenda(
    engine: Engine, start: datetime | None = None, end: datetime | None = None
) -> set[int]:
    """Ids of the sessions with at least one segment overlapping [start, end) (None: unbounded)."""
    segments = AgendaSegment.__table__
    query = select(segments.c.session_id).distinct()
    if start is not None:
        query = query.where(segments.c.ends_at > start)
    if end is not None:
        query = query.where(segments.c.starts_at < end)
    with engine.connect() as connection:
        return set(connection.scalars(query))


def agendas(engine: Engine, session_ids: Sequence[int]) -> dict[int, list[Segment]]:
    """Each listed session's agenda in time order (sessions without one are left out)."""
    segments = AgendaSegment.__table__
    query = (
        select(
            segments.c.session_id, segments.c.name, segments.c.starts_at, segments.c.ends_at, segments.c.id
        )
        .where(segments.c.session_id.in_([int(i) for i in session_ids]))
        .order_by(segments.c.session_id, segments.c.starts_at, segments.c.id)
    )
    found: dict[int, list[Segment]] = {}
    with engine.connect() as connection:
        for session_id, name, starts_at, ends_at, segment_id in connection.execute(query):
            found.setdefault(session_id, []).append(Segment(name, starts_at, ends_at, segment_id))
    return found


def unit_counts_of(engine: Engine, session_ids: Sequence[int]) -> pd.DataFrame:
    """db.segments.unit_counts for several sessions in one GROUP BY: a `session_id` column, then its
    columns (segment_id OUTSIDE for faces in no segment), sorted by session and time."""
    obs = observations_table
    segments = AgendaSegment.__table__
    query = (
        select(
            obs.c.session_id,
            segments.c.id,
            obs.c.photo_id,
            obs.c.observed_at,
            obs.c.model_id,
            *observation_totals()[: 2 + len(COUNT_COLUMNS)],
        )
        .select_from(
            obs.outerjoin(
                segments,
                and_(
                    segments.c.session_id == obs.c.session_id,
                    obs.c.observed_at >= segments.c.starts_at,
                    obs.c.observed_at < segments.c.ends_at,
                ),
            )
        )
        .where(obs.c.session_id.in_([int(i) for i in session_ids]))
        .group_by(obs.c.session_id, segments.c.id, obs.c.photo_id, obs.c.observed_at, obs.c.model_id)
        .order_by(obs.c.session_id, obs.c.observed_at)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["session_id", *UNIT_COLUMNS])
    frame["segment_id"] = frame["segment_id"].fillna(OUTSIDE).astype("int64")
    integers = ["session_id", "faces", "small_faces", *COUNT_COLUMNS]
    frame[integers] = frame[integers].fillna(0).astype("int64")
    return frame


__all__ = ["agendas", "sessions_with_agenda", "unit_counts_of"]
