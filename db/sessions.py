"""Event sessions: create (unique names, audited), list and fetch with their photo/face counts and
models, delete with everything recorded in them (owners and admins, audited)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, Text, cast, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import audit
from db.engine import writer
from db.models import (
    EventSession,
    Photo,
    observations_table,
    session_rollups_table,
)
from db.roles import Actor, require
from db.timeutils import utcnow

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class SessionInfo:
    """An event session with its photo and face counts, as the pages list it."""

    id: int
    name: str
    event_date: date | None
    tags: list[str]
    created_at: datetime
    n_photos: int
    n_faces: int  # every detected face, readable or not
    n_small_faces: int = 0  # of which too small to read (fer_core.labels.READABLE_MIN_FACE_PX)
    owner: str | None = None  # who created it (e-mail or service identity); None: before sign-in
    models: tuple[str, ...] = ()  # ids of the models that read its faces, first used first


def create_event_session(
    engine: Engine, name: str, event_date: date | None = None, tags: Sequence[str] = (), *, actor: Actor
) -> int:
    """Create a session owned by `actor` and return its id (organisers and admins; NotAllowed else).

    ValueError (readable) for an empty or already-used name. Audited in the same transaction.
    """
    require(actor, "create_session")
    name = (name or "").strip()
    if not name:
        raise ValueError("Please enter a name for the session.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"Session names can be at most {MAX_NAME_LENGTH} characters long.")
    clean_tags = list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
    taken = ValueError(f"A session named '{name}' already exists; please choose another name.")
    try:
        with Session(writer(engine)) as session, session.begin():
            if session.scalar(select(EventSession.id).where(EventSession.name == name)) is not None:
                raise taken
            event = EventSession(
                name=name, event_date=event_date, tags=clean_tags, created_at=utcnow(), owner=actor.email
            )
            session.add(event)
            session.flush()
            connection = session.connection()
            audit.record(connection, actor, "session_created", session_id=event.id, session_name=name)
            return event.id
    except IntegrityError:  # another writer took the name between our check and insert
        raise taken from None


#: `owner` of list_event_sessions: sessions of every owner (None selects those without one).
EVERY_OWNER: Any = object()


def list_event_sessions(
    engine: Engine, *, limit: int | None = None, offset: int = 0, owner: str | None = EVERY_OWNER
) -> list[SessionInfo]:
    """Sessions with photo and face counts, newest first: all of them, or a page (`limit` from
    `offset`, see count_event_sessions), of one `owner` (None: those created before sign-in)."""
    return _session_infos(engine, None, limit=limit, offset=offset, owner=owner)


def count_event_sessions(engine: Engine, *, owner: str | None = EVERY_OWNER) -> int:
    """How many sessions there are (of `owner`), for paging list_event_sessions."""
    query = select(func.count()).select_from(EventSession)
    if owner is not EVERY_OWNER:
        query = query.where(_owner_is(owner))
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def get_event_session(engine: Engine, session_id: int) -> SessionInfo | None:
    """One session with its counts, or None if there is no such session (any more)."""
    infos = _session_infos(engine, session_id)
    return infos[0] if infos else None


def delete_event_session(engine: Engine, session_id: int, *, actor: Actor) -> None:
    """Delete a session; its photos, observations and rollups go with it (ON DELETE CASCADE).

    Admins delete any session, organisers only their own (NotAllowed else); a session that is
    already gone is no error. Audited, with the counts deleted, in the same transaction.
    """
    with Session(writer(engine)) as session, session.begin():
        event = session.get(EventSession, session_id)
        if event is None:
            return
        require(actor, "delete_session", event.owner, what=f"'{event.name}'")
        obs = observations_table
        counts = {
            "photos": session.scalar(select(func.count()).where(Photo.session_id == session_id)),
            "observations": session.scalar(select(func.count()).where(obs.c.session_id == session_id)),
            "owner": event.owner,
        }
        name = event.name
        session.execute(delete(EventSession).where(EventSession.id == session_id))
        connection = session.connection()
        where = {"session_id": session_id, "session_name": name}
        audit.record(connection, actor, "session_deleted", **where, detail=counts)


def _owner_is(owner: str | None) -> ColumnElement[bool]:
    return EventSession.owner.is_(None) if owner is None else EventSession.owner == owner


def _session_infos(
    engine: Engine,
    session_id: int | None,
    *,
    limit: int | None = None,
    offset: int = 0,
    owner: str | None = EVERY_OWNER,
) -> list[SessionInfo]:
    """Sessions (plain rows, no ORM objects) with their photo counts (a column kept by triggers), face
    counts and models (the session rollups, for the listed sessions only when they are a part): two
    queries."""
    totals_table = session_rollups_table
    table = EventSession.__table__
    tags = cast(table.c.tags, Text)  # decoded once per distinct text below, not once per session
    query = select(
        table.c.id, table.c.name, table.c.event_date, tags, table.c.created_at, table.c.owner,
        table.c.n_photos,
    ).order_by(table.c.created_at.desc(), table.c.id.desc())  # fmt: skip
    if session_id is not None:
        query = query.where(table.c.id == session_id)
    if owner is not EVERY_OWNER:
        query = query.where(_owner_is(owner))
    if limit is not None or offset:
        query = query.limit(limit).offset(offset)
    # One row per session and model: its faces and small faces (models first used first; the hour
    # only orders them, unread: parsing 10,000 datetimes costs more than the rest of the query).
    per_model = select(
        totals_table.c.session_id,
        totals_table.c.model_id,
        totals_table.c.faces,
        totals_table.c.small_faces,
    ).order_by(totals_table.c.session_id, totals_table.c.first_hour, totals_table.c.model_id)
    with engine.connect() as connection:
        sessions = connection.execute(query).all()
        if session_id is not None or owner is not EVERY_OWNER or limit is not None or offset:
            ids = [row[0] for row in sessions]  # count only the listed sessions' rows
            per_model = per_model.where(totals_table.c.session_id.in_(ids))
        totals: dict[int, list] = {}
        for sid, model_id, n, small in connection.execute(per_model).all():
            total = totals.setdefault(sid, [0, 0, []])
            total[0] += int(n or 0)
            total[1] += int(small or 0)
            total[2].append(model_id)
    empty: list = [0, 0, []]
    decoded: dict[str | None, list[str]] = {None: []}
    return [
        SessionInfo(
            id=sid,
            name=name,
            event_date=event_date,
            tags=list(decoded[tags] if tags in decoded else decoded.setdefault(tags, json.loads(tags) or [])),
            created_at=created_at,
            n_photos=int(n_photos),
            n_faces=(total := totals.get(sid, empty))[0] + total[1],
            n_small_faces=total[1],
            owner=owner_,
            models=tuple(total[2]),
        )
        for sid, name, event_date, tags, created_at, owner_, n_photos in sessions
    ]


def session_dates(engine: Engine) -> pd.DataFrame:
    """Every session's name and date (its event date, else its creation time), indexed by session id,
    without counts: for charts over events. The date comes back as text and is parsed in one
    vectorised step: SQLite's row-by-row date parsing was a third of the wellbeing chart's time at
    10,000 events."""
    table = EventSession.__table__
    day = cast(func.coalesce(table.c.event_date, table.c.created_at), Text)
    query = select(table.c.id, table.c.name, day)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    ids, names, days = zip(*rows) if rows else ((), (), ())
    return pd.DataFrame(
        {"name": list(names), "date": pd.to_datetime(list(days), format="ISO8601")},
        index=pd.Index(ids, name="session_id", dtype="int64"),
    )
