"""Photo files -> analysed faces -> one database transaction per photo, with a verdict per file.

The ingest core behind every door: the Event photos page, `POST /v1/sessions/{id}/photos`, the
`campus-fer import` CLI and Ray workers differ only in how files arrive and how verdicts are shown.
It imports no Streamlit, FastAPI or typer. Two stages, so they can run in different places:

* analysis (`analyse_photo`, `analyse_photos`): bytes -> an `Analysis` (faces, size, capture time,
  or the reason the file was refused). No database; picklable without its pixels, so it runs on
  threads, in worker processes or on a Ray cluster.
* storage (`save_analysis`, `store_analyses`): one writer saves each `Analysis` in its own
  transaction and turns it into a `FileOutcome`. A database error loses only the file being saved.
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from campus_fer.roles import Actor, require
from db import audit, queries
from db.timeutils import utcnow
from fer_core.annotate import annotate
from fer_core.images import ImageError, ImageTooLargeError, capture_time, load_image
from fer_core.pipeline import PhotoAnalysis, analyze_photos
from fer_core.recognizer import DECODE_MAX_SIDE, FaceResult, Recognizer

LOGGER = logging.getLogger(__name__)

Status = Literal["saved", "no_face", "duplicate", "refused", "db_error", "error", "skipped"]
#: Why a file was refused: 0 bytes, over the byte limit, over the pixel limit, not a readable image.
RefusalKind = Literal["empty", "too_large", "too_many_pixels", "unreadable"]
#: Verdicts that mean "this file is in the session" (saved now or before).
OK_STATUSES: tuple[Status, ...] = ("saved", "no_face", "duplicate")
#: The batch stops after this many database errors in a row (the database is probably down).
MAX_CONSECUTIVE_DB_ERRORS = 3
#: File name extensions every door accepts (HEIC/HEIF: iPhone photos, via pillow-heif).
ALLOWED_EXTENSIONS: tuple[str, ...] = ("jpg", "jpeg", "png", "webp", "heic", "heif")
#: Threads decoding and detecting ahead of the model and the database (one per core here).
PIPELINE_WORKERS = 2
DUPLICATE_MESSAGE = "Already in this session (same file uploaded before); it was not counted again."
#: Annotated previews are shrunk to this and JPEG-encoded: a batch of 50 stays a few MB of memory.
PREVIEW_MAX_SIDE = 960


@dataclass(frozen=True)
class PhotoFile:
    """A file as the core sees it: a name and its bytes (st.UploadedFile, a multipart part or a path)."""

    name: str
    data: bytes

    @classmethod
    def read(cls, path: str | Path, name: str | None = None) -> PhotoFile:
        path = Path(path)
        return cls(name or path.name, path.read_bytes())


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
    refused_kind: RefusalKind | None = None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready verdict (API responses, CLI reports); faces as `FaceResult.as_dict()`."""
        return {
            "filename": self.filename,
            "status": self.status,
            "message": self.message,
            "n_faces": self.n_faces,
            "photo_id": self.photo_id,
            "taken_at": self.taken_at.isoformat() if self.taken_at else None,
            "time_source": self.time_source,
            "refused_kind": self.refused_kind,
            "faces": [face.as_dict() for face in self.faces],
        }


@dataclass(frozen=True)
class BatchSummary:
    """Counts for the message shown after a batch."""

    outcomes: Sequence[FileOutcome]

    def count(self, *statuses: Status) -> int:
        return sum(o.status in statuses for o in self.outcomes)

    @property
    def faces_saved(self) -> int:
        return sum(o.n_faces for o in self.outcomes if o.status == "saved")

    @property
    def failed(self) -> int:
        return sum(not o.ok for o in self.outcomes)


@dataclass
class Analysis:
    """One file after the analysis stage: what saving it needs, or why it cannot be saved.

    `refused` is a readable reason for bad input (`refused_kind` says which kind); `error` an
    unexpected failure. `rgb` is kept only when previews are wanted, so an Analysis crossing a
    process or a Ray worker stays small.
    """

    name: str
    content_hash: str
    width: int = 0
    height: int = 0
    exif_time: datetime | None = None
    faces: list[FaceResult] = field(default_factory=list)
    refused: str | None = None
    refused_kind: RefusalKind | None = None
    error: Exception | None = None
    already_stored: bool = False  # its hash was known to be in the session: not analysed again
    rgb: np.ndarray | None = field(default=None, repr=False)
    #: Id of the model that read `faces` (the Recognizer's `model_id`); stored with the photo.
    model_id: str | None = None
    given_time: datetime | None = None  # a video frame's time (stored as time source 'video'); EXIF wins


def content_hash(data: bytes) -> str:
    """sha256 of the file: the same photo uploaded twice to a session is recognised and skipped."""
    return hashlib.sha256(data).hexdigest()


def human_size(n_bytes: int) -> str:
    """'25 MB', '1.5 MB', '51 KB'."""
    megabytes = n_bytes / (1024 * 1024)
    if megabytes >= 1:
        return f"{megabytes:.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(n_bytes / 1024))} KB"


def size_refusal(data: bytes, max_bytes: int) -> tuple[RefusalKind, str] | None:
    """Why a file must not be analysed at all (empty, over the size limit), or None."""
    size = len(data)
    if size == 0:
        return "empty", "The file is empty (0 bytes); nothing was saved."
    if size > max_bytes:
        return "too_large", (
            f"The file is {human_size(size)}, above the {human_size(max_bytes)} limit; nothing was saved. "
            "Export a smaller copy (e.g. 1920 px on the longer side) and upload that."
        )
    return None


def _refused(photo: PhotoFile, digest: str, refusal: tuple[RefusalKind, str]) -> Analysis:
    kind, message = refusal
    return Analysis(photo.name, digest, refused=message, refused_kind=kind)


# ---------------------------------------------------------------------------------------------
# Analysis: bytes -> Analysis, no database


def _finish(
    photo: PhotoFile, digest: str, result: PhotoAnalysis, keep_pixels: bool, model_id: str
) -> Analysis:
    error = result.error
    if isinstance(error, ImageError):
        kind: RefusalKind = "too_many_pixels" if isinstance(error, ImageTooLargeError) else "unreadable"
        return _refused(photo, digest, (kind, f"Could not read this image: {error}. Nothing was saved."))
    if isinstance(error, MemoryError):
        return _refused(
            photo, digest, ("too_many_pixels", "The image is too large to analyse; nothing was saved.")
        )
    if error is not None:
        return Analysis(photo.name, digest, error=error)
    rgb = result.rgb
    return Analysis(
        photo.name,
        digest,
        width=int(rgb.shape[1]),
        height=int(rgb.shape[0]),
        exif_time=capture_time(photo.data),
        faces=list(result.faces or []),
        rgb=rgb if keep_pixels else None,
        model_id=model_id,
    )


def analyse_photo(recognizer: Recognizer, photo: PhotoFile, *, max_bytes: int) -> Analysis:
    """Analyse one file on the calling thread (process-pool and Ray workers call this)."""
    digest = content_hash(photo.data)
    refusal = size_refusal(photo.data, max_bytes)
    if refusal is not None:
        return _refused(photo, digest, refusal)
    try:
        rgb = load_image(photo.data, max_side=DECODE_MAX_SIDE)
        [faces] = recognizer.classify_detected([recognizer.detect_faces(rgb)])
        result = PhotoAnalysis(0, rgb=rgb, faces=faces)
    except Exception as error:  # one bad photo must never end the batch
        result = PhotoAnalysis(0, error=error)
    return _finish(photo, digest, result, keep_pixels=False, model_id=recognizer.model_id)


def analyse_frame(
    recognizer: Recognizer, name: str, digest: str, rgb: np.ndarray, taken_at: datetime
) -> Analysis:
    """Analyse pixels already in memory (a sampled video frame) taken at a time the caller knows."""
    try:
        [faces] = recognizer.classify_detected([recognizer.detect_faces(rgb)])
    except Exception as error:  # one bad frame must never end the video
        return Analysis(name, digest, error=error)
    return Analysis(
        name,
        digest,
        width=int(rgb.shape[1]),
        height=int(rgb.shape[0]),
        faces=list(faces),
        given_time=taken_at,
        model_id=recognizer.model_id,
    )


def analyse_photos(
    recognizer: Recognizer,
    photos: Iterable[PhotoFile],
    *,
    max_bytes: int,
    workers: int = PIPELINE_WORKERS,
    keep_pixels: bool = False,
    skip_hashes: Collection[str] = frozenset(),
) -> Iterator[Analysis]:
    """Analyse files in order: decode and detect run ahead on `workers` threads, the faces of
    several photos share a model call (fer_core.pipeline). Files are read lazily from `photos`,
    so a folder of 800 photos is never in memory at once. Files whose hash is in `skip_hashes`
    (already in the session) are not decoded: they come back `already_stored`."""
    queued: deque[tuple[PhotoFile, str, Analysis | None]] = deque()  # input order; early verdict or None

    def accepted_sources() -> Iterator[bytes]:
        for photo in photos:
            digest = content_hash(photo.data)
            refusal = size_refusal(photo.data, max_bytes)
            if digest in skip_hashes:
                early: Analysis | None = Analysis(photo.name, digest, already_stored=True)
            else:
                early = None if refusal is None else _refused(photo, digest, refusal)
            queued.append((photo, digest, early))
            if early is None:
                yield photo.data

    def early_at_front() -> Iterator[Analysis]:
        while queued and queued[0][2] is not None:
            yield queued.popleft()[2]

    results = analyze_photos(recognizer, accepted_sources(), workers=workers)
    try:
        for result in results:
            yield from early_at_front()
            photo, digest, _ = queued.popleft()
            yield _finish(photo, digest, result, keep_pixels, recognizer.model_id)
        yield from early_at_front()
    finally:
        results.close()  # stop decoding and detecting when the caller stops early


# ---------------------------------------------------------------------------------------------
# Storage: Analysis -> one transaction -> FileOutcome


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

    `actor` must be allowed to upload (campus_fer.roles); db.queries.save_photo checks it.

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
