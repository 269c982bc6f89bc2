"""Writing what the recognizer read: a photo with its faces in one transaction (duplicates found by
content hash), live samples and bulk rows; the rollups are updated in the same transaction.

Datetimes: aware values are converted to UTC, naive ones are taken as UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import rollups
from db.bulk import insert_rows
from db.engine import writer
from db.models import (
    MODEL_ID_LENGTH,
    PROBABILITY_COLUMNS,
    TIME_SOURCES,
    EventSession,
    Photo,
    observations_table,
)
from db.roles import Actor, require
from db.timeutils import to_utc_naive, utcnow
from fer_core.labels import EMOTIONS, READABLE_MIN_FACE_PX

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
class PhotoSaveResult:
    """Outcome of `save_photo`; for a duplicate, the id and face count of the photo already stored."""

    status: str  # "saved" | "duplicate"
    photo_id: int
    n_faces: int


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
