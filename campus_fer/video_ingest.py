"""Recorded video into an event session: sampled frames through the same ingest core as photos.

Each frame sampled by campus_fer.video (default one a second) is analysed and saved like a photo,
in its own transaction: a photo row named "talk.mp4 @ 00:01:05" (no pixels), its faces as
observations. A frame's time is the start time the user gives plus the frame's container
timestamp. Nothing of the video is kept: frames are decoded one at a time and dropped. Each
frame's content hash is derived from the video's hash and the frame's offset, so uploading the same
video to the same session again is recognised frame by frame and not counted twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from campus_fer.ingest import (
    MAX_CONSECUTIVE_DB_ERRORS,
    Analysis,
    FileOutcome,
    analyse_frame,
    store_analyses,
)
from campus_fer.video import DEFAULT_INTERVAL_S, VideoError, VideoSource, probe_video, sample_frames
from db.roles import Actor, require
from fer_core.recognizer import Recognizer

#: on_progress(frames done, frames expected or None, the frame's verdict)
VideoProgress = Callable[[int, int | None, FileOutcome], None]
_CHUNK = 1 << 20


@dataclass
class VideoResult:
    """What happened to one video: a verdict per sampled frame, and why it stopped early, if it did."""

    filename: str
    frames: list[FileOutcome] = field(default_factory=list)
    expected_frames: int | None = None  # from the container's duration; None when unknown
    error: str | None = None  # for the user: unreadable, truncated, or the database kept failing

    @property
    def faces_saved(self) -> int:
        return sum(o.n_faces for o in self.frames if o.status == "saved")

    def count(self, *statuses: str) -> int:
        return sum(o.status in statuses for o in self.frames)


def video_digest(source: VideoSource) -> str:
    """sha256 of the whole file, read in chunks (a file object is rewound afterwards)."""
    digest = hashlib.sha256()
    if isinstance(source, bytes | bytearray):
        digest.update(source)
    elif isinstance(source, str | Path):
        with Path(source).open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    else:
        source.seek(0)
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
        source.seek(0)
    return digest.hexdigest()


def frame_name(filename: str, offset_s: float) -> str:
    """'talk.mp4 @ 00:01:05.0': the stored name of a sampled frame."""
    minutes, seconds = divmod(offset_s, 60.0)
    hours, minutes = divmod(int(minutes), 60)
    return f"{filename} @ {hours:02d}:{minutes:02d}:{seconds:04.1f}"


def frame_hash(video_hash: str, offset_s: float) -> str:
    """A frame's content hash: the video's hash and the frame's offset in milliseconds."""
    return hashlib.sha256(f"{video_hash}@{round(offset_s * 1000)}".encode()).hexdigest()


def ingest_video(
    engine: Engine,
    recognizer: Recognizer,
    session_id: int,
    source: VideoSource,
    *,
    filename: str,
    start: datetime,
    interval_s: float = DEFAULT_INTERVAL_S,
    on_progress: VideoProgress | None = None,
    actor: Actor,
) -> VideoResult:
    """Sample a video every `interval_s` seconds and save each frame's faces in its own transaction.

    Frames saved before a decoding error are kept; the error is reported in `VideoResult.error`
    (never raised), as is an unreadable file (no frames then). `actor` must be allowed to upload
    (db.roles.NotAllowed is raised before anything is decoded or saved).
    """
    require(actor, "upload", what=f"add a video to session {session_id}")
    result = VideoResult(filename)
    try:
        result.expected_frames = probe_video(source).expected_samples(interval_s)
        video_hash = video_digest(source)
    except VideoError as exc:
        result.error = str(exc)
        return result

    def analyses() -> Iterator[Analysis]:
        for frame in sample_frames(source, interval_s):
            offset = frame.time_offset_s
            yield analyse_frame(
                recognizer,
                frame_name(filename, offset),
                frame_hash(video_hash, offset),
                frame.rgb,
                start + timedelta(seconds=offset),
            )

    def progress(index: int, outcome: FileOutcome) -> None:
        if on_progress is not None:
            on_progress(index + 1, result.expected_frames, outcome)

    try:
        result.frames.extend(
            store_analyses(engine, session_id, analyses(), on_progress=progress, actor=actor)
        )
    except VideoError as exc:
        result.error = str(exc)
        return result
    failures = result.frames[-MAX_CONSECUTIVE_DB_ERRORS:]
    if len(failures) == MAX_CONSECUTIVE_DB_ERRORS and all(o.status == "db_error" for o in failures):
        result.error = (
            f"The database kept failing, so the video was stopped after {len(result.frames)} frames. "
            "Frames saved before the failure are kept; upload the video again to add the rest."
        )
    return result
