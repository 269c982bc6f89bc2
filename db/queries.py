"""Everything the app reads and writes. Each function takes the Engine and owns its transaction.

Datetimes: aware values are converted to UTC, naive ones are taken as UTC; results are naive UTC.
Date ranges are [start, end). Aggregates are computed by GROUP BY in SQL, never row by row in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus_fer.roles import Actor, require
from db import audit, rollups
from db.aggregates import BY_SESSION, long_format, wide_totals
from db.buckets import check_bucket
from db.bulk import insert_rows
from db.engine import writer
from db.models import (
    MODEL_ID_LENGTH,
    PROBABILITY_COLUMNS,
    TIME_SOURCES,
    EventSession,
    Photo,
    hour_rollups_table,
    observations_table,
)
from db.timeutils import floor_to, to_utc_naive, utcnow
from fer_core.labels import EMOTIONS, READABLE_MIN_FACE_PX, is_readable

#: Longest event-session name accepted (the column is VARCHAR(200)).
MAX_NAME_LENGTH = 200
_LABEL_INDEX = {name: i for i, name in enumerate(EMOTIONS)}
_CONTEXT_COLUMNS = ("session_id", "photo_id", "source", "observed_at", "model_id")
_BOX_COLUMNS = ("box_x", "box_y", "box_w", "box_h")
_UNKNOWN_SIZE = -1  # face_sizes entry for a face whose box is unknown (stored as NULL)


class FaceLike(Protocol):
    """What the recognizer returns per face (fer_core.recognizer.FaceResult fits)."""

    box: tuple[int, int, int, int]  # x, y, w, h
    probabilities: Sequence[float] | np.ndarray  # 7 values, EMOTIONS order
    label: str
    confidence: float


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


@dataclass(frozen=True)
class ModelPeriod:
    """One model's share of some readings: the first and last hour it read faces in, and how many."""

    model_id: str
    first_hour: datetime  # start of the first hour with a face read by this model (naive UTC)
    last_hour: datetime  # start of the last such hour
    faces: int  # readable faces
    small_faces: int


@dataclass(frozen=True)
class PhotoSaveResult:
    """Outcome of `save_photo`; for a duplicate, the id and face count of the photo already stored."""

    status: str  # "saved" | "duplicate"
    photo_id: int
    n_faces: int


# ---------------------------------------------------------------------------------------------
# Event sessions


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


# ---------------------------------------------------------------------------------------------
# Writing observations


def save_photo(
    engine: Engine,
    session_id: int,
    *,
    content_hash: str,
    filename: str,
    taken_at: datetime,
    time_source: str,
    width: int,
    height: int,
    faces: Sequence[FaceLike],
    model_id: str,
    actor: Actor,
) -> PhotoSaveResult:
    """Store a photo's metadata and one observation per face, all in one transaction or not at all.

    Needs an actor allowed to upload (organiser or admin); NotAllowed else, before anything is read.
    `model_id` names the model that read the faces (fer_core.model_info; the Recognizer's `model_id`):
    required, so no door can store readings without saying which model made them.

    A photo whose content_hash is already in the session is reported as "duplicate" and nothing
    is written. Database errors (e.g. a probability outside [0, 1]) propagate after the rollback.
    """
    require(actor, "upload", what="add photos")
    if time_source not in TIME_SOURCES:
        raise ValueError(f"time_source must be one of {TIME_SOURCES}, not {time_source!r}")
    model_id = _check_model_id(model_id)
    taken = to_utc_naive(taken_at)
    face_values = _face_columns(faces)
    try:
        with Session(writer(engine)) as session, session.begin():
            _require_session(session, session_id)
            duplicate = _find_photo(session, session_id, content_hash)
            if duplicate is not None:
                return duplicate
            photo = Photo(
                session_id=session_id,
                content_hash=content_hash,
                filename=filename,
                taken_at=taken,
                time_source=time_source,
                width=width,
                height=height,
                n_faces=len(face_values),
                created_at=utcnow(),
                model_id=model_id,
            )
            session.add(photo)
            session.flush()
            _insert_observations(session.connection(), session_id, photo.id, taken, model_id, face_values)
            return PhotoSaveResult(status="saved", photo_id=photo.id, n_faces=len(face_values))
    except IntegrityError:
        # A concurrent save of the same photo wins the UNIQUE(session_id, content_hash) race.
        with Session(engine) as session:
            duplicate = _find_photo(session, session_id, content_hash)
        if duplicate is None:
            raise
        return duplicate


def save_live_observations(
    engine: Engine, session_id: int, observed_at: datetime, faces: Sequence[FaceLike], *, model_id: str
) -> int:
    """Store the faces of one live frame (source "live", no photo) read by `model_id`; returns the rows
    written."""
    model_id = _check_model_id(model_id)
    face_values = _face_columns(faces)
    if not len(face_values):
        return 0
    with Session(writer(engine)) as session, session.begin():
        _require_session(session, session_id)
        at = to_utc_naive(observed_at)
        _insert_observations(session.connection(), session_id, None, at, model_id, face_values)
    return len(face_values)


def bulk_insert_observations(
    engine: Engine,
    session_ids: Sequence[int] | np.ndarray,
    observed_at: Sequence[datetime],
    probabilities: np.ndarray,
    boxes: np.ndarray | None = None,
    photo_ids: Sequence[int | None] | None = None,
    *,
    model_id: str,
) -> int:
    """Insert many observations read by `model_id` in one transaction (imports, benchmarks); returns the
    rows written.

    Top label and confidence are the argmax and max of each probability row; rows with a
    photo_id get source "photo", the others "live".
    """
    model_id = _check_model_id(model_id)
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1, len(EMOTIONS))
    n = len(probabilities)
    if n == 0:
        return 0
    box_array = np.zeros((n, 4), dtype=np.int64) if boxes is None else np.asarray(boxes, dtype=np.int64)
    faces = _FaceColumns(
        boxes=box_array,
        face_sizes=np.full(n, _UNKNOWN_SIZE) if boxes is None else box_array[:, 2:].min(axis=1),
        top_labels=probabilities.argmax(axis=1),
        confidences=probabilities.max(axis=1),
        probabilities=probabilities,
    )
    photos = [None] * n if photo_ids is None else list(photo_ids)
    with writer(engine).begin() as connection:
        _write_observations(
            connection,
            np.asarray(session_ids, dtype=np.int64).tolist(),
            photos,
            [to_utc_naive(t) for t in observed_at],
            [model_id] * n,
            faces,
        )
    return n


@dataclass(frozen=True)
class _FaceColumns:
    """Validated per-face values, one array per column group (n faces)."""

    boxes: np.ndarray  # (n, 4) x, y, w, h
    face_sizes: np.ndarray  # (n,) short side of the box; _UNKNOWN_SIZE when the box is unknown
    top_labels: np.ndarray  # (n,) index into EMOTIONS
    confidences: np.ndarray  # (n,)
    probabilities: np.ndarray  # (n, 7)

    def __len__(self) -> int:
        return len(self.top_labels)

    @property
    def readable(self) -> np.ndarray:
        """(n,) True for faces at or above the readability floor (an unknown size counts as readable)."""
        return (self.face_sizes == _UNKNOWN_SIZE) | (self.face_sizes >= READABLE_MIN_FACE_PX)


def _face_columns(faces: Sequence[FaceLike]) -> _FaceColumns:
    """Validate faces and gather their observation values (without session/photo/time)."""
    probabilities = np.zeros((len(faces), len(EMOTIONS)), dtype=np.float64)
    for i, face in enumerate(faces):
        row = np.asarray(face.probabilities, dtype=np.float64).ravel()
        if row.shape != (len(EMOTIONS),):
            raise ValueError(f"expected {len(EMOTIONS)} probabilities, got {row.size}")
        if face.label not in _LABEL_INDEX:
            raise ValueError(f"unknown expression label {face.label!r}")
        probabilities[i] = row
    boxes = np.array([[int(v) for v in face.box] for face in faces], dtype=np.int64).reshape(-1, 4)
    return _FaceColumns(
        boxes=boxes,
        face_sizes=boxes[:, 2:].min(axis=1),
        top_labels=np.array([_LABEL_INDEX[face.label] for face in faces], dtype=np.int64),
        confidences=np.array([float(face.confidence) for face in faces], dtype=np.float64),
        probabilities=probabilities,
    )


def _insert_observations(
    connection: Connection,
    session_id: int,
    photo_id: int | None,
    observed_at: datetime,
    model_id: str,
    faces: _FaceColumns,
) -> None:
    """Insert the faces of one photo or frame, all taken at one moment and read by one model."""
    n = len(faces)
    models = [model_id] * n
    _write_observations(connection, [session_id] * n, [photo_id] * n, [observed_at] * n, models, faces)


def _check_model_id(model_id: str) -> str:
    """A model id fit to store (fer_core.model_info ids are short, e.g. "fer2013-v2")."""
    if not isinstance(model_id, str) or not model_id.strip() or len(model_id) > MODEL_ID_LENGTH:
        raise ValueError(f"model_id must be a non-empty id of at most {MODEL_ID_LENGTH} characters")
    return model_id


def _write_observations(
    connection: Connection,
    session_ids: list[int],
    photo_ids: list[int | None],
    observed_at: list[datetime],
    model_ids: list[str],
    faces: _FaceColumns,
) -> None:
    """The one writer of observation rows: rows with a photo_id get source "photo", the others
    "live"; the rollups are updated in the same transaction."""
    if not len(faces):
        return
    columns = (
        *_CONTEXT_COLUMNS,
        *_BOX_COLUMNS,
        "face_size",
        "top_label",
        "confidence",
        *PROBABILITY_COLUMNS,
    )
    face_sizes = [None if size == _UNKNOWN_SIZE else size for size in faces.face_sizes.tolist()]
    values = zip(
        session_ids,
        photo_ids,
        ("live" if p is None else "photo" for p in photo_ids),
        observed_at,
        model_ids,
        *faces.boxes.T.tolist(),
        face_sizes,
        faces.top_labels.tolist(),
        faces.confidences.tolist(),
        *faces.probabilities.T.tolist(),
        strict=True,
    )
    insert_rows(connection, observations_table, columns, list(values))
    rollups.add(
        connection,
        session_ids,
        observed_at,
        model_ids,
        faces.top_labels,
        faces.probabilities,
        faces.readable,
    )


def _require_session(session: Session, session_id: int) -> None:
    if session.get(EventSession, session_id) is None:
        raise ValueError(f"Event session {session_id} does not exist (was it deleted?).")


def _find_photo(session: Session, session_id: int, content_hash: str) -> PhotoSaveResult | None:
    found = session.execute(
        select(Photo.id, Photo.n_faces).where(
            Photo.session_id == session_id, Photo.content_hash == content_hash
        )
    ).first()
    return (
        None
        if found is None
        else PhotoSaveResult(status="duplicate", photo_id=found.id, n_faces=found.n_faces)
    )


# ---------------------------------------------------------------------------------------------
# Reading


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
            span = _minute_span(connection, _ids(session_ids), _utc(start), _utc(end))
            if span > MAX_MINUTE_SPAN:
                raise TooManyBucketsError(
                    f"Minute buckets are for following one event: these filters cover {span.days} days of "
                    f"faces (at most {MAX_MINUTE_SPAN.days}). Narrow the dates or sessions, or pick hour, "
                    "day or week."
                )
        wide = wide_totals(connection, bucket, _ids(session_ids), _utc(start), _utc(end))
    frame = long_format(wide, "bucket_start", "bucket_faces", min_faces)
    frame["bucket_start"] = pd.to_datetime(frame["bucket_start"], unit="s").astype("datetime64[us]")
    return frame


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
        ids = wide["session_id"].astype("int64").tolist()
        names = dict(
            connection.execute(
                select(EventSession.id, EventSession.name).where(EventSession.id.in_(ids))
            ).all()
        )
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
) -> pd.DataFrame:
    """Like the totals behind `expression_trends` (by a time bucket) or `session_comparison` (by
    "session"), but one row per group *and reading model*: bucket_start (or session_id), model_id,
    faces, small_faces, n_<name>, sum_p_<name>. No privacy threshold: callers apply their own.

    So that charts can mark where one model's readings end and another's begin, and the wellbeing
    chart can keep each model's weeks apart (readings of different models are not comparable).
    """
    if by != BY_SESSION:
        check_bucket(by)
    with engine.connect() as connection:
        wide = wide_totals(connection, by, _ids(session_ids), _utc(start), _utc(end), by_model=True)
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
    first. From the hour rollups, so the date filters apply to whole hours."""
    hours = hour_rollups_table
    query = select(
        hours.c.model_id,
        func.min(hours.c.period_start),
        func.max(hours.c.period_start),
        func.sum(hours.c.faces),
        func.sum(hours.c.small_faces),
    ).group_by(hours.c.model_id)
    if session_ids is not None:
        query = query.where(hours.c.session_id.in_(_ids(session_ids)))
    if start is not None:
        query = query.where(hours.c.period_start >= floor_to(_utc(start), "hour"))
    if end is not None:
        query = query.where(hours.c.period_start < _utc(end))
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


def photo_results(engine: Engine, session_id: int) -> list[dict]:
    """Each photo of a session (in time order) with its faces, for review and export."""
    with Session(engine) as session:
        photos = session.scalars(
            select(Photo).where(Photo.session_id == session_id).order_by(Photo.taken_at, Photo.id)
        ).all()
        observations = session.execute(
            select(observations_table)
            .where(observations_table.c.session_id == session_id, observations_table.c.photo_id.is_not(None))
            .order_by(observations_table.c.photo_id, observations_table.c.id)
        ).all()
    faces: dict[int, list[dict]] = {}
    for row in observations:
        faces.setdefault(row.photo_id, []).append(
            {
                "box": (row.box_x, row.box_y, row.box_w, row.box_h),
                "face_size": row.face_size,
                "readable": is_readable(row.face_size),
                "label": EMOTIONS[row.top_label],
                "confidence": row.confidence,
                "probabilities": {name: getattr(row, f"p_{name}") for name in EMOTIONS},
            }
        )
    return [
        {
            "id": photo.id,
            "filename": photo.filename,
            "taken_at": photo.taken_at,
            "time_source": photo.time_source,
            "width": photo.width,
            "height": photo.height,
            "n_faces": photo.n_faces,
            "model_id": photo.model_id,
            "faces": faces.get(photo.id, []),
        }
        for photo in photos
    ]


# ---------------------------------------------------------------------------------------------
# Retention


def purge_observations_older_than(
    engine: Engine, days: int, now: datetime | None = None, *, actor: Actor
) -> int:
    """Delete observations older than `days` days, then photos left without any; returns observations deleted.

    Age is the observation time (a photo's taken_at), not the upload time. Admins only; audited.
    """
    require(actor, "purge", what="purge old observations")
    if days < 0:
        raise ValueError("days must be zero or more")
    cutoff = to_utc_naive(now or utcnow()) - timedelta(days=days)
    obs = observations_table
    with writer(engine).begin() as connection:
        deleted = connection.execute(delete(obs).where(obs.c.observed_at < cutoff)).rowcount
        connection.execute(
            delete(Photo).where(Photo.taken_at < cutoff, ~exists().where(obs.c.photo_id == Photo.id))
        )
        for level in rollups.LEVELS:  # periods wholly before the cutoff's hour, then recompute that hour
            table = level.table
            connection.execute(delete(table).where(table.c.period_start < floor_to(cutoff, "hour")))
        rollups.rebuild(connection, cutoff, cutoff)
        detail = {"older_than_days": days, "cutoff": cutoff.isoformat(), "observations_deleted": int(deleted)}
        audit.record(connection, actor, "purge", detail=detail)
    return int(deleted)


def rebuild_rollups(engine: Engine) -> None:
    """Recompute all rollups from the observations (repair after manual edits to the tables)."""
    with writer(engine).begin() as connection:
        rollups.rebuild(connection)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else to_utc_naive(value)


def _ids(session_ids: Sequence[int] | None) -> list[int] | None:
    """Plain ints (drivers cannot bind numpy integers); None stays None, meaning all sessions."""
    return None if session_ids is None else [int(i) for i in session_ids]


__all__ = [
    "TooManyBucketsError",
    "FaceLike",
    "ModelPeriod",
    "PhotoSaveResult",
    "SessionInfo",
    "bulk_insert_observations",
    "create_event_session",
    "delete_event_session",
    "expression_trends",
    "face_totals",
    "get_event_session",
    "list_event_sessions",
    "model_periods",
    "model_totals",
    "photo_results",
    "purge_observations_older_than",
    "rebuild_rollups",
    "save_live_observations",
    "save_photo",
    "session_comparison",
]
