"""Photo files -> analysed faces -> one database transaction per photo, with a verdict per file.

The ingest core behind every door: the Event photos page, `POST /v1/sessions/{id}/photos`, the
`campus-fer import` CLI and Ray workers differ only in how files arrive and how verdicts are shown.
It imports no Streamlit, FastAPI or typer. Two stages, so they can run in different places:

* analysis (campus_fer.photo_analysis: `analyse_photo`, `analyse_photos`): bytes -> an
  `Analysis` (faces, size, capture time, or the reason the file was refused).
  No database; picklable without its pixels, so it runs on threads, worker processes or Ray.
* storage (`save_analysis`, `store_analyses`): one writer saves each `Analysis` in its own
  transaction and turns it into a `FileOutcome`. A database error loses only the file being saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime

import cv2
import numpy as np
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from campus_fer.photo_analysis import (
    ALLOWED_EXTENSIONS,
    DUPLICATE_MESSAGE,
    MAX_CONSECUTIVE_DB_ERRORS,
    OK_STATUSES,
    PIPELINE_WORKERS,
    PREVIEW_MAX_SIDE,
    Analysis,
    BatchSummary,
    FileOutcome,
    PhotoFile,
    Preview,
    RefusalKind,
    Status,
    analyse_frame,
    analyse_photo,
    analyse_photos,
    content_hash,
    human_size,
    preview_jpeg,
    readable_summary,
    size_refusal,
)
from db import audit, queries
from db.roles import Actor, require
from db.timeutils import utcnow
from fer_core.recognizer import FaceResult, Recognizer

LOGGER = logging.getLogger(__name__)


def _safe_preview(rgb: np.ndarray, faces: Sequence[FaceResult]) -> Preview | None:
    """A preview, or None: the photo is already saved, a drawing problem must not report it as failed."""
    try:
        return preview_jpeg(rgb, faces)
    except (cv2.error, ValueError, MemoryError):
        LOGGER.exception("drawing the preview failed")
        return None


def save_analysis(
    engine: Engine,
    session_id: int,
    analysis: Analysis,
    *,
    now: datetime | None = None,
    known: Mapping[str, queries.PhotoSaveResult] | None = None,
    actor: Actor,
) -> FileOutcome:
    """Save one analysed photo in its own transaction. Database errors propagate (the batch decides).

    `actor` must be allowed to upload (db.roles); db.queries.save_photo checks it.

    An `already_stored` analysis writes nothing: its verdict comes from `known` (db.photo_index).
    """
    name = analysis.name
    if analysis.refused is not None:
        return FileOutcome(name, "refused", analysis.refused, refused_kind=analysis.refused_kind)
    if analysis.error is not None:
        raise analysis.error
    if analysis.already_stored:
        stored = (known or {}).get(analysis.content_hash)
        if stored is None:
            raise ValueError("a photo reported as already stored is not in the session")
        return _duplicate(name, stored)
    if analysis.model_id is None:  # every analysis path sets it: never store readings of no known model
        raise ValueError("The analysis does not say which model read the faces.")
    faces = analysis.faces
    if analysis.exif_time:
        taken_at, time_source = analysis.exif_time, "exif"
    elif analysis.given_time:
        taken_at, time_source = analysis.given_time, "video"
    else:
        taken_at, time_source = now or utcnow(), "upload"
    result = queries.save_photo(
        engine,
        session_id,
        content_hash=analysis.content_hash,
        filename=name,
        taken_at=taken_at,
        time_source=time_source,
        width=analysis.width,
        height=analysis.height,
        faces=faces,
        model_id=analysis.model_id,
        actor=actor,
    )
    annotated = _safe_preview(analysis.rgb, faces) if analysis.rgb is not None else None
    when = {
        "exif": "time from the camera (EXIF)",
        "video": "time from the video's timestamp and the start time given",
        "upload": "no camera time in the file: upload time used",
    }[time_source]
    if result.status == "duplicate":
        status: Status = "duplicate"
        message = DUPLICATE_MESSAGE
    elif not faces:
        status = "no_face"
        message = (
            "No face found. The photo is recorded with 0 faces so it is not processed again; "
            "faces that are small, turned away or covered may be missed."
        )
    else:
        status = "saved"
        message = f"Saved {len(faces)} face{'s' if len(faces) != 1 else ''}; {when}."
        if not all(face.readable for face in faces):  # say which of them the shares can count
            message = f"Saved {len(faces)} faces: {readable_summary(faces)}; {when}."
    return FileOutcome(
        name,
        status,
        message,
        n_faces=result.n_faces,
        photo_id=result.photo_id,
        taken_at=taken_at,
        time_source=time_source,
        faces=list(faces),
        annotated=annotated.jpeg if annotated else None,
        zoom_tiles=annotated.zoom_tiles if annotated else [],
    )


def _duplicate(name: str, stored: queries.PhotoSaveResult) -> FileOutcome:
    return FileOutcome(
        name,
        "duplicate",
        DUPLICATE_MESSAGE,
        n_faces=stored.n_faces,
        photo_id=stored.photo_id,
    )


def failure(name: str, exc: BaseException) -> FileOutcome:
    """A readable verdict for an exception raised while analysing or saving one photo."""
    if isinstance(exc, SQLAlchemyError):
        LOGGER.error("saving %s failed", name, exc_info=exc)
        return FileOutcome(
            name,
            "db_error",
            f"Could not be saved: the database reported an error ({type(exc).__name__}). "
            "Nothing from this file was stored; photos saved before it are kept. Try it again.",
        )
    if isinstance(exc, MemoryError):
        return FileOutcome(
            name,
            "refused",
            "The image is too large to analyse; nothing was saved.",
            refused_kind="too_many_pixels",
        )
    if isinstance(exc, ValueError):  # e.g. the session was deleted in another tab
        LOGGER.error("saving %s failed", name, exc_info=exc)
        return FileOutcome(name, "error", f"Could not be saved: {exc} Nothing was stored.")
    LOGGER.error("analysing %s failed", name, exc_info=exc)  # must not cost the rest of the batch
    return FileOutcome(
        name, "error", f"Could not be analysed ({type(exc).__name__}); nothing was saved for this file."
    )


def skipped_after_db_errors(name: str) -> FileOutcome:
    return FileOutcome(
        name,
        "skipped",
        "Not processed: the database kept failing. Photos saved before the failure are kept; "
        "upload this one again when the database is back.",
    )


def store_analyses(
    engine: Engine,
    session_id: int,
    analyses: Iterable[Analysis],
    *,
    on_progress: Callable[[int, FileOutcome], None] | None = None,
    known: Mapping[str, queries.PhotoSaveResult] | None = None,
    actor: Actor,
) -> Iterator[FileOutcome]:
    """The one database writer: save each analysis in its own transaction as it arrives.

    `actor` must be allowed to upload (NotAllowed before anything is saved); when the batch ends,
    one audit row records who imported how many files and faces into the session.

    A database error is reported for its file and the batch goes on; after
    MAX_CONSECUTIVE_DB_ERRORS in a row it stops (and closes `analyses`, so no more photos are
    decoded): the caller reports the files it got no verdict for with `skipped_after_db_errors`.
    """
    require(actor, "upload", what=f"add photos to session {session_id}")
    stream = iter(analyses)
    db_errors_in_a_row = 0
    outcomes: list[FileOutcome] = []
    try:
        for index, analysis in enumerate(stream):
            try:
                outcome = save_analysis(engine, session_id, analysis, known=known, actor=actor)
            except Exception as exc:
                outcome = failure(analysis.name, exc)
            db_errors_in_a_row = db_errors_in_a_row + 1 if outcome.status == "db_error" else 0
            if on_progress is not None:
                on_progress(index, outcome)
            outcomes.append(outcome)
            yield outcome
            if db_errors_in_a_row >= MAX_CONSECUTIVE_DB_ERRORS:
                return
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
        audit_import(engine, actor, session_id, outcomes)


def audit_import(engine: Engine, actor: Actor, session_id: int, outcomes: Sequence[FileOutcome]) -> None:
    """One audit row per batch: verdict counts and faces saved (no file names, no face data).

    Best effort: the photos are already saved, so a failing audit write is logged, not raised.
    """
    if not outcomes:
        return
    summary = BatchSummary(outcomes)
    detail = {
        "files": len(outcomes),
        **{status: summary.count(status) for status in OK_STATUSES},
        "failed": summary.failed,
        "faces_saved": summary.faces_saved,
    }
    try:
        info = queries.get_event_session(engine, session_id)
        name = info.name if info else None
        audit.record_event(
            engine, actor, "photos_imported", session_id=session_id, session_name=name, detail=detail
        )
    except SQLAlchemyError:
        LOGGER.exception("writing the audit row of an import into session %s failed", session_id)


def process_batch(
    engine: Engine,
    recognizer: Recognizer,
    session_id: int,
    photos: Iterable[PhotoFile],
    *,
    max_bytes: int,
    keep_annotated: bool = False,
    workers: int = PIPELINE_WORKERS,
    on_progress: Callable[[int, FileOutcome], None] | None = None,
    actor: Actor,
) -> list[FileOutcome]:
    """Analyse photos on threads and save each in its own transaction as soon as it is analysed.

    Every input file gets exactly one verdict, in input order (skipped ones included). `photos`
    is read lazily: only the files in flight are in memory. `actor` must be allowed to upload:
    NotAllowed is raised before any file is read.
    """
    require(actor, "upload", what=f"add photos to session {session_id}")
    pulled: list[str] = []  # names in the order the pipeline took them

    def recorded() -> Iterator[PhotoFile]:
        for photo in photos:
            pulled.append(photo.name)
            yield photo

    source = recorded()
    analyses = analyse_photos(
        recognizer, source, max_bytes=max_bytes, workers=workers, keep_pixels=keep_annotated
    )
    outcomes = list(store_analyses(engine, session_id, analyses, on_progress=on_progress, actor=actor))
    for _ in source:  # files the pipeline never took (the database failed): only their names matter
        pass
    for name in pulled[len(outcomes) :]:
        outcome = skipped_after_db_errors(name)
        if on_progress is not None:
            on_progress(len(outcomes), outcome)
        outcomes.append(outcome)
    return outcomes


def process_file(
    engine: Engine,
    recognizer: Recognizer,
    session_id: int,
    photo: PhotoFile,
    *,
    max_bytes: int,
    keep_annotated: bool = False,
    now: datetime | None = None,
    actor: Actor,
) -> FileOutcome:
    """Check, decode, analyse and save one photo. Database errors propagate (the caller decides)."""
    require(actor, "upload", what=f"add photos to session {session_id}")
    [analysis] = analyse_photos(
        recognizer, [photo], max_bytes=max_bytes, workers=1, keep_pixels=keep_annotated
    )
    outcome = save_analysis(engine, session_id, analysis, now=now, actor=actor)
    audit_import(engine, actor, session_id, [outcome])
    return outcome


def record_live_sample(
    engine: Engine,
    session_id: int,
    observed_at: datetime,
    faces: Sequence[FaceResult],
    *,
    model_id: str,
    actor: Actor,
) -> int:
    """Store the faces of one live frame, read by `model_id` (the Recognizer's), in a session
    (organisers and admins; NotAllowed else).

    Not audited per sample (one every few seconds); the session's creation and deletion are.
    """
    require(actor, "upload", what=f"record live into session {session_id}")
    return queries.save_live_observations(engine, session_id, observed_at, faces, model_id=model_id)


def skipped_over_limit(name: str, limit: int) -> FileOutcome:
    """The verdict for a file beyond the per-upload limit."""
    return FileOutcome(
        name, "skipped", f"Not processed: at most {limit} files per upload. Upload it in another batch."
    )


#: The verdict types and analysis functions stay importable from here (every door uses them).
__all__ = [
    "ALLOWED_EXTENSIONS", "DUPLICATE_MESSAGE", "MAX_CONSECUTIVE_DB_ERRORS", "OK_STATUSES",
    "PIPELINE_WORKERS", "PREVIEW_MAX_SIDE", "Analysis", "BatchSummary", "FileOutcome", "PhotoFile",
    "Preview", "RefusalKind", "Status", "analyse_frame", "analyse_photo", "analyse_photos", "audit_import",
    "content_hash", "failure", "human_size", "preview_jpeg", "process_batch", "process_file",
    "readable_summary", "record_live_sample", "save_analysis", "size_refusal", "skipped_after_db_errors",
    "skipped_over_limit", "store_analyses",
]  # fmt: skip
