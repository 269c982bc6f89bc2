"""Event sessions: create (unique names, audited), list and fetch with their photo/face counts and
models, delete with everything recorded in them (owners and admins, audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import audit
from db.engine import writer
from db.models import (
    EventSession,
    Photo,
    hour_rollups_table,
    observations_table,
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


def list_event_sessions(engine: Engine) -> list[SessionInfo]:
    """All sessions with photo and face counts, newest first."""
    return _session_infos(engine, None)


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


def _session_infos(engine: Engine, session_id: int | None) -> list[SessionInfo]:
    hours = hour_rollups_table
    photos = select(Photo.session_id, func.count().label("n")).group_by(Photo.session_id)
    faces = select(
        hours.c.session_id,
        func.sum(hours.c.faces).label("n"),
        func.sum(hours.c.small_faces).label("small"),
    ).group_by(hours.c.session_id)
    if session_id is not None:  # count one session's rows, not every session's (each API request)
        photos = photos.where(Photo.session_id == session_id)
        faces = faces.where(hours.c.session_id == session_id)
    models = select(hours.c.session_id, hours.c.model_id, func.min(hours.c.period_start).label("first"))
    models = models.group_by(hours.c.session_id, hours.c.model_id)
    if session_id is not None:
        models = models.where(hours.c.session_id == session_id)
    photos, faces = photos.subquery(), faces.subquery()
    query = (
        select(
            EventSession,
            func.coalesce(photos.c.n, 0),
            func.coalesce(faces.c.n, 0),
            func.coalesce(faces.c.small, 0),
        )
        .outerjoin(photos, photos.c.session_id == EventSession.id)
        .outerjoin(faces, faces.c.session_id == EventSession.id)
        .order_by(EventSession.created_at.desc(), EventSession.id.desc())
    )
    if session_id is not None:
        query = query.where(EventSession.id == session_id)
    with Session(engine) as session:
        used: dict[int, list[str]] = {}
        for row in session.execute(models.order_by(hours.c.session_id, "first", hours.c.model_id)):
            used.setdefault(row.session_id, []).append(row.model_id)
        return [
            SessionInfo(
                id=event.id,
                name=event.name,
                event_date=event.event_date,
                tags=list(event.tags or []),
                created_at=event.created_at,
                n_photos=int(n_photos),
                n_faces=int(n_faces) + int(n_small),
                n_small_faces=int(n_small),
                owner=event.owner,
                models=tuple(used.get(event.id, ())),
            )
            for event, n_photos, n_faces, n_small in session.execute(query)
        ]
