"""The analysis stage of the ingest core, and the verdict types every door shows: bytes -> an
`Analysis` (faces, size, capture time, or the reason the file was refused), no database. Picklable
without its pixels, so it runs on threads, in worker processes or on a Ray cluster. Storage and the
batch loop are campus_fer.ingest.
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from fer_core.annotate import NOT_READ_HEX, annotate_faces, face_counts
from fer_core.images import ImageError, ImageTooLargeError, capture_time, load_image
from fer_core.labels import EMOTION_COLORS, EMOTIONS
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
#: Zoom tiles of a crowd preview are about this many photo pixels across (1920x1080: 4x2 tiles), so
#: shown ~900 px wide a 16 px face is drawn ~30 px.
ZOOM_TILE_SIDE = 480


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
    #: Crowds only (captions left out): (name, JPEG) crops of the annotated photo at full resolution.
    zoom_tiles: list[tuple[str, bytes]] = field(default_factory=list, repr=False)
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


def readable_summary(faces: Sequence[FaceResult]) -> str:
    """'208 readable (angry 41, sad 40), 109 too small to read': the verdict counts only the faces the
    session's shares count (a face's top label below the readability floor is no reading)."""
    readable = [f.label for f in faces if f.readable]
    counts = ", ".join(f"{name} {readable.count(name)}" for name in EMOTIONS if name in readable)
    text = f"{len(readable)} readable" + (f" ({counts})" if counts else "")
    if small := len(faces) - len(readable):
        text += f", {small} too small to read"
    return text


@dataclass(frozen=True)
class LegendRow:
    """One line of the legend beside a crowd preview: what a box colour means and how many boxes."""

    meaning: str
    color: str  # #rrggbb, as drawn
    faces: int


def preview_legend(faces: Sequence[FaceResult]) -> list[LegendRow]:
    """The box colours of a preview and their counts (fer_core.annotate.face_counts): each expression
    of the readable, certain faces, then the grey ones; rows with no face are left out."""
    counts = face_counts(faces)
    rows = [LegendRow(name, EMOTION_COLORS[name], counts.by_expression[name]) for name in EMOTIONS
            if counts.by_expression.get(name)]  # fmt: skip
    if counts.uncertain:
        rows.append(LegendRow("uncertain (no expression stands out)", NOT_READ_HEX, counts.uncertain))
    if counts.too_small:
        rows.append(LegendRow("too small to read (thin box)", NOT_READ_HEX, counts.too_small))
    return rows


@dataclass(frozen=True)
class Preview:
    """The annotated photo at display size (JPEG) and, for a crowd, full-resolution zoom tiles."""

    jpeg: bytes
    zoom_tiles: list[tuple[str, bytes]] = field(default_factory=list)


def _jpeg(rgb: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("could not encode the preview")
    return encoded.tobytes()


def zoom_tiles(rgb: np.ndarray, tile_side: int = ZOOM_TILE_SIDE) -> list[tuple[str, bytes]]:
    """The image cut into a grid of about `tile_side` px cells (each grown by 1/8 so a face on a
    border is whole in one of them), named 'row 1, column 2' from the top left."""
    height, width = rgb.shape[:2]
    rows, cols = max(1, round(height / tile_side)), max(1, round(width / tile_side))
    tiles = []
    for r in range(rows):
        for c in range(cols):
            y0, y1 = r * height // rows, (r + 1) * height // rows
            x0, x1 = c * width // cols, (c + 1) * width // cols
            grow_y, grow_x = (y1 - y0) // 8, (x1 - x0) // 8
            crop = rgb[max(0, y0 - grow_y) : y1 + grow_y, max(0, x0 - grow_x) : x1 + grow_x]
            tiles.append((f"row {r + 1}, column {c + 1}", _jpeg(crop)))
    return tiles


def preview_jpeg(rgb: np.ndarray, faces: Sequence[FaceResult], max_side: int = PREVIEW_MAX_SIDE) -> Preview:
    """The annotated photo at display size (only ever held in memory). The boxes are drawn on the
    shrunk copy, so 1 px lines around small faces stay sharp; when captions had to be left out (a
    crowd), the photo is also annotated at full resolution and cut into zoom tiles."""
    scale = min(1.0, max_side / max(rgb.shape[:2]))
    small = rgb
    if scale < 1.0:
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    preview = annotate_faces(small, faces, scale=scale)
    tiles = zoom_tiles(annotate_faces(rgb, faces).image) if preview.crowded else []
    return Preview(_jpeg(preview.image), tiles)
