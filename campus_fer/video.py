"""Recorded video -> frames sampled at a fixed interval, decoded one at a time with PyAV.

The file is read sequentially and only the sampled frames are converted to RGB, so an hour-long
recording never sits in memory. Frame times come from the container timestamps (not from frame
counts, which drift with variable frame rates), relative to the first frame. Nothing is kept:
the frames are handed to the caller and dropped.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from fer_core.images import MAX_IMAGE_PIXELS, ImageError
from fer_core.recognizer import DECODE_MAX_SIDE

VideoSource = str | Path | bytes | bytearray | BinaryIO
#: What the upload widgets and the CLI accept (containers FFmpeg reads: these are the tested ones).
VIDEO_EXTENSIONS: tuple[str, ...] = ("mp4", "m4v", "mov", "webm", "mkv")
DEFAULT_INTERVAL_S: float = 1.0
#: A video whose decoded frames stop this much (or one interval, if longer) before its stated
#: duration is reported as truncated.
_TRUNCATION_SLACK_S: float = 1.0
_UNREADABLE = (
    "cannot read this video: it is not a video file, it is truncated or corrupt (an MP4 or MOV cut short "
    "loses its index), or its format is unsupported (use MP4, MOV or WebM)"
)


class VideoError(ImageError):
    """A video that cannot be used (corrupt, truncated, no picture, unsupported); the message is for users."""


@dataclass(frozen=True)
class VideoFrame:
    """One sampled frame: seconds since the video's first frame, and its RGB pixels (H, W, 3)."""

    time_offset_s: float
    rgb: np.ndarray


@dataclass(frozen=True)
class VideoInfo:
    """What the container says before decoding, for a progress bar; any field may be unknown."""

    duration_s: float | None
    frame_count: int | None
    width: int
    height: int
    codec: str
    #: When the camera started recording (the container's creation_time tag, naive UTC), if it says.
    creation_time: datetime | None = None

    def expected_samples(self, interval_s: float = DEFAULT_INTERVAL_S) -> int | None:
        """How many frames `sample_frames` should yield (one at 0 s, then one per interval)."""
        if self.duration_s is None:
            return None
        return int(math.floor(self.duration_s / interval_s + 1e-9)) + 1


def _open(source: VideoSource) -> av.container.InputContainer:
    if isinstance(source, bytes | bytearray):
        if not source:
            raise VideoError("the file is empty (0 bytes)")
        target: str | BinaryIO = io.BytesIO(source)
    elif isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise VideoError(f"no such file: {path}")
        if path.stat().st_size == 0:
            raise VideoError(f"{path.name} is empty (0 bytes)")
        target = str(path)
    else:
        target = source
    try:
        container = av.open(target, mode="r")
    except av.FFmpegError:
        raise VideoError(_UNREADABLE) from None
    if _is_still_image(container.format.name):
        container.close()
        raise VideoError("this is a still image, not a video: add it with the event photos instead")
    return container


def _is_still_image(format_name: str) -> bool:
    """FFmpeg reads JPEG, PNG, ... as one-frame 'videos' (image2, jpeg_pipe, png_pipe, ...)."""
    return format_name == "image2" or format_name.endswith("_pipe")


def _video_stream(container: av.container.InputContainer) -> av.VideoStream:
    if not container.streams.video:
        raise VideoError("the file has no video picture (is it an audio file?)")
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > MAX_IMAGE_PIXELS:
        raise VideoError(f"video frames are too large ({width}x{height}; limit {MAX_IMAGE_PIXELS:,} pixels)")
    return stream


def _duration_s(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    """The video track's duration, else the container's (which may include a longer audio track)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _creation_time(container: av.container.InputContainer) -> datetime | None:
    """The container's creation_time tag (phones and cameras write it, in UTC) as naive UTC, or None
    when it is missing or unreadable."""
    text = (container.metadata.get("creation_time") or "").strip()
    try:
        stamp = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    if stamp is not None and stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp


def probe_video(source: VideoSource) -> VideoInfo:
    """Duration, frame count and size from the container header (no decoding); VideoError if unreadable."""
    container = _open(source)
    try:
        stream = _video_stream(container)
        return VideoInfo(
            duration_s=_duration_s(container, stream),
            frame_count=stream.frames or None,  # 0 when the container does not record it (WebM)
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            codec=stream.codec_context.name,
            creation_time=_creation_time(container),
        )
    finally:
        container.close()
        if hasattr(source, "seek"):
            source.seek(0)


def _rgb(frame: av.VideoFrame, max_side: int) -> np.ndarray:
    """RGB pixels, scaled by FFmpeg so the longer side is at most `max_side`, upright per rotation."""
    longest = max(frame.width, frame.height)
    if longest > max_side:
        scale = max_side / longest
        width, height = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
        rgb = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
    else:
        rgb = frame.to_ndarray(format="rgb24")
    turns = round(getattr(frame, "rotation", 0) / 90) % 4  # phones store portrait video turned
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def _decoded(container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
    """Frames in order. On a read or decode error, the frames the decoder already holds come out
    first (a threaded decoder keeps several), then the error is raised."""
    try:
        for packet in container.demux(stream):
            yield from packet.decode()  # the last, empty packet drains the decoder
    except av.FFmpegError:
        # If the decoder is in no state to drain, the first error is still the one to report.
        with contextlib.suppress(av.FFmpegError):
            yield from stream.codec_context.decode(None)
        raise


def sample_frames(
    source: VideoSource, interval_s: float = DEFAULT_INTERVAL_S, max_side: int = DECODE_MAX_SIDE
) -> Iterator[VideoFrame]:
    """Yield the first frame at or after 0 s, `interval_s`, 2 x `interval_s`, ... of a video.

    Decoding is sequential, one frame in memory at a time. Raises VideoError (with a message for
    the user) for unreadable files, for a decoding error part-way (after the frames before it were
    yielded), and for a file whose frames end well before its stated duration (truncated).
    """
    if not interval_s > 0:
        raise ValueError("interval_s must be greater than zero")
    container = _open(source)
    try:
        stream = _video_stream(container)
        stream.thread_type = "AUTO"
        duration = _duration_s(container, stream)
        rate = float(stream.average_rate) if stream.average_rate else None
        first: float | None = None
        next_sample, last = 0.0, None
        try:
            for index, frame in enumerate(_decoded(container, stream)):
                time = frame.time if frame.time is not None else (index / rate if rate else None)
                if time is None:
                    raise VideoError("the video has no frame timestamps, so frame times cannot be known")
                first = time if first is None else first
                offset = time - first
                last = offset
                if offset + 1e-6 < next_sample:
                    continue
                yield VideoFrame(time_offset_s=offset, rgb=_rgb(frame, max_side))
                while next_sample <= offset + 1e-6:
                    next_sample += interval_s
        except av.FFmpegError as exc:
            where = f" after {last:.1f} s" if last is not None else ""
            raise VideoError(f"the video is corrupt or truncated{where} ({exc.strerror or exc})") from None
        if last is None:
            raise VideoError("the video has no readable frames (corrupt, truncated or unsupported codec)")
        if duration is not None and last < duration - max(_TRUNCATION_SLACK_S, interval_s):
            raise VideoError(
                f"the video stops after {last:.1f} s of its {duration:.1f} s: "
                "the file is truncated or corrupt"
            )
    finally:
        container.close()
