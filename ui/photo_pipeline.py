"""Uploaded photo files -> analysed faces -> one database transaction per photo, with a verdict per file.

Kept apart from the page so it can be tested without a browser. Every failure becomes a
readable `FileOutcome`; a database error loses only the file being saved, never earlier ones.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import cv2
import numpy as np
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from db import queries
from db.timeutils import utcnow
from fer_core.annotate import annotate
from fer_core.images import ImageError, capture_time
from fer_core.pipeline import PhotoAnalysis, analyze_photos
from fer_core.recognizer import FaceResult, Recognizer

LOGGER = logging.getLogger(__name__)

Status = Literal["saved", "no_face", "duplicate", "refused", "db_error", "error", "skipped"]
#: The batch stops after this many database errors in a row (the database is probably down).
MAX_CONSECUTIVE_DB_ERRORS = 3
ALLOWED_EXTENSIONS: tuple[str, ...] = ("jpg", "jpeg", "png", "webp")
#: Threads decoding and detecting ahead of the model and the database (one per core here).
PIPELINE_WORKERS = 2
#: Annotated previews are shrunk to this and JPEG-encoded: a batch of 50 stays a few MB of memory.
PREVIEW_MAX_SIDE = 960


@dataclass(frozen=True)
class UploadedPhoto:
    """A file as the pipeline sees it: a name and its bytes (st.UploadedFile gives both)."""

    name: str
    data: bytes


@dataclass
class FileOutcome:
    """What happened to one file; `annotated` lives only in memory, for display."""

    filename: str
    status: Status
    message: str
    n_faces: int = 0
    photo_id: int | None = None
    taken_at: datetime | None = None
    time_source: str | None = None
    faces: list[FaceResult] = field(default_factory=list)
    annotated: bytes | None = field(default=None, repr=False)  # JPEG, display size

    @property
    def ok(self) -> bool:
        return self.status in ("saved", "no_face", "duplicate")


@dataclass(frozen=True)
class BatchSummary:
    """Counts for the message shown after a batch."""

    outcomes: Sequence[FileOutcome]

    def count(self, *statuses: Status) -> int:
        return sum(o.status in statuses for o in self.outcomes)

    @property
    def faces_saved(self) -> int:
        return sum(o.n_faces for o in self.outcomes if o.status == "saved")


def content_hash(data: bytes) -> str:
    """sha256 of the file: the same photo uploaded twice to a session is recognised and skipped."""
    return hashlib.sha256(data).hexdigest()


def preview_jpeg(rgb: np.ndarray, faces: Sequence[FaceResult], max_side: int = PREVIEW_MAX_SIDE) -> bytes:
    """The annotated photo at display size, as JPEG bytes (only ever held in memory)."""
    annotated = annotate(rgb, faces)
    scale = max_side / max(annotated.shape[:2])
    if scale < 1.0:
        size = (max(1, round(annotated.shape[1] * scale)), max(1, round(annotated.shape[0] * scale)))
        annotated = cv2.resize(annotated, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", annotated[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("could not encode the preview")
    return encoded.tobytes()


def _safe_preview(rgb: np.ndarray, faces: Sequence[FaceResult]) -> bytes | None:
    """A preview, or None: the photo is already saved, a drawing problem must not report it as failed."""
    try:
        return preview_jpeg(rgb, faces)
    except (cv2.error, ValueError, MemoryError):
        LOGGER.exception("drawing the preview failed")
        return None


def human_size(n_bytes: int) -> str:
    """'25 MB', '1.5 MB', '51 KB'."""
    megabytes = n_bytes / (1024 * 1024)
    if megabytes >= 1:
        return f"{megabytes:.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(n_bytes / 1024))} KB"


def _refusal(photo: UploadedPhoto, max_bytes: int) -> FileOutcome | None:
    """The verdict for a file that must not be analysed at all (empty, over the size limit)."""
    size = len(photo.data)
    if size == 0:
        return FileOutcome(photo.name, "refused", "The file is empty (0 bytes); nothing was saved.")
    if size > max_bytes:
        return FileOutcome(
            photo.name,
            "refused",
            f"The file is {human_size(size)}, above the {human_size(max_bytes)} limit; nothing was saved. "
            "Export a smaller copy (e.g. 1920 px on the longer side) and upload that.",
        )
    return None


def _save_analysis(
    engine: Engine,
    session_id: int,
    photo: UploadedPhoto,
    analysis: PhotoAnalysis,
    *,
    keep_annotated: bool,
    now: datetime | None,
) -> FileOutcome:
    """Save one analysed photo in its own transaction. Database errors propagate (the batch decides)."""
    name = photo.name
    if isinstance(analysis.error, ImageError):
        return FileOutcome(
            name, "refused", f"Could not read this image: {analysis.error}. Nothing was saved."
        )
    if analysis.error is not None:
        raise analysis.error
    rgb, faces = analysis.rgb, analysis.faces
    exif_time = capture_time(photo.data)
    taken_at, time_source = (exif_time, "exif") if exif_time else (now or utcnow(), "upload")
    result = queries.save_photo(
        engine,
        session_id,
        content_hash=content_hash(photo.data),
        filename=name,
        taken_at=taken_at,
        time_source=time_source,
        width=int(rgb.shape[1]),
        height=int(rgb.shape[0]),
        faces=faces,
    )
    annotated = _safe_preview(rgb, faces) if keep_annotated else None
    when = (
        "time from the camera (EXIF)"
        if time_source == "exif"
        else "no camera time in the file: upload time used"
    )
    if result.status == "duplicate":
        status: Status = "duplicate"
        message = "Already in this session (same file uploaded before); it was not counted again."
    elif not faces:
        status = "no_face"
        message = (
            "No face found. The photo is recorded with 0 faces so it is not processed again; "
            "faces that are small, turned away or covered may be missed."
        )
    else:
        status = "saved"
        message = f"Saved {len(faces)} face{'s' if len(faces) != 1 else ''}; {when}."
    return FileOutcome(
        name,
        status,
        message,
        n_faces=result.n_faces,
        photo_id=result.photo_id,
        taken_at=taken_at,
        time_source=time_source,
        faces=list(faces),
        annotated=annotated,
    )


def process_file(
    engine: Engine,
    recognizer: Recognizer,
    session_id: int,
    photo: UploadedPhoto,
    *,
    max_bytes: int,
    keep_annotated: bool = True,
    now: datetime | None = None,
) -> FileOutcome:
    """Check, decode, analyse and save one photo. Database errors propagate (the batch decides)."""
    refusal = _refusal(photo, max_bytes)
    if refusal is not None:
        return refusal
    [analysis] = analyze_photos(recognizer, [photo.data], workers=1)
    return _save_analysis(engine, session_id, photo, analysis, keep_annotated=keep_annotated, now=now)


def _failure(photo: UploadedPhoto, exc: Exception) -> FileOutcome:
    """A readable verdict for an exception raised while analysing or saving one photo."""
    if isinstance(exc, SQLAlchemyError):
        LOGGER.error("saving %s failed", photo.name, exc_info=exc)
        return FileOutcome(
            photo.name,
            "db_error",
            f"Could not be saved: the database reported an error ({type(exc).__name__}). "
            "Nothing from this file was stored; photos saved before it are kept. Try it again.",
        )
    if isinstance(exc, MemoryError):
        return FileOutcome(photo.name, "refused", "The image is too large to analyse; nothing was saved.")
    if isinstance(exc, ValueError):  # e.g. the session was deleted in another tab
        LOGGER.error("saving %s failed", photo.name, exc_info=exc)
        return FileOutcome(photo.name, "error", f"Could not be saved: {exc} Nothing was stored.")
    LOGGER.error("analysing %s failed", photo.name, exc_info=exc)  # must not cost the rest of the batch
    return FileOutcome(
        photo.name, "error", f"Could not be analysed ({type(exc).__name__}); nothing was saved for this file."
    )


def process_batch(
    engine: Engine,
    recognizer: Recognizer,
    session_id: int,
    photos: Iterable[UploadedPhoto],
    *,
    max_bytes: int,
    keep_annotated: bool = True,
    on_progress: Callable[[int, FileOutcome], None] | None = None,
) -> list[FileOutcome]:
    """Analyse photos (decoding and detection run ahead on two threads, faces of several photos
    share a model call) and save each in its own transaction as soon as it is analysed.

    A database error is reported for its file and the batch goes on; after
    MAX_CONSECUTIVE_DB_ERRORS in a row the remaining files are skipped, not lost silently.
    """
    photos = list(photos)
    refusals = [_refusal(photo, max_bytes) for photo in photos]
    accepted = [photo for photo, refusal in zip(photos, refusals) if refusal is None]
    analyses = analyze_photos(recognizer, (photo.data for photo in accepted), workers=PIPELINE_WORKERS)
    outcomes: list[FileOutcome] = []
    db_errors_in_a_row = 0
    for index, (photo, refusal) in enumerate(zip(photos, refusals)):
        if refusal is not None:
            outcome = refusal
        elif db_errors_in_a_row >= MAX_CONSECUTIVE_DB_ERRORS:
            analyses.close()  # nothing more will be saved: stop decoding and detecting the rest
            outcome = FileOutcome(
                photo.name,
                "skipped",
                "Not processed: the database kept failing. Photos saved before the failure are kept; "
                "upload this one again when the database is back.",
            )
        else:
            try:
                outcome = _save_analysis(
                    engine, session_id, photo, next(analyses), keep_annotated=keep_annotated, now=None
                )
            except Exception as exc:
                outcome = _failure(photo, exc)
            db_errors_in_a_row = db_errors_in_a_row + 1 if outcome.status == "db_error" else 0
        outcomes.append(outcome)
        if on_progress is not None:
            on_progress(index, outcome)
    return outcomes


def skipped_over_limit(name: str, limit: int) -> FileOutcome:
    """The verdict for a file beyond the per-upload limit."""
    return FileOutcome(
        name, "skipped", f"Not processed: at most {limit} files per upload. Upload it in another batch."
    )
