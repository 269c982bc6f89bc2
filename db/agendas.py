"""Agendas of many sessions at once, for views across sessions (the trends page grouped by agenda
segment): one query, however many sessions, instead of one per session. Their per-unit counts are
db.segments.sessions_unit_counts (the same code as the Agenda page's unit_counts).

The single-session form (db.segments.agenda) serves the Agenda page, the report and the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, select

from db.models import AgendaSegment
from db.segments import Segment


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


__all__ = ["agendas", "sessions_with_agenda"]
