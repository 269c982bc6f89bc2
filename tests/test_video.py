"""campus_fer.video on clips the test encodes with PyAV from real faces (tests/photos.py), plus
truncated and non-video files; the sampled frames go through the real recognizer."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from campus_fer.video import VideoError, probe_video, sample_frames
from fer_core.config import served_model_path
from fer_core.images import ImageError
from tests.photos import encode, group_photo

CLIP_FACES = 3
CLIP_SIZE = (960, 540)
CLIP_FPS = 10
CLIP_SECONDS = 4.5


def write_clip(
    path: Path,
    times_s: list[float],
    *,
    codec: str = "libx264",
    size: tuple[int, int] = CLIP_SIZE,
    options: dict[str, str] | None = None,
    faces: int = CLIP_FACES,
    fps: int = CLIP_FPS,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Encode group photos of real faces (drifting right) shown at the given times (ms timestamps).

    Also used by benchmarks/video_speed.py."""
    photo, _ = group_photo(faces, size=size, seed=4)
    with av.open(str(path), "w", options=options or {}) as out:
        out.metadata.update(metadata or {})  # e.g. creation_time, as phones write it
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.codec_context.gop_size = fps  # a keyframe a second, as phones record
        for i, t in enumerate(times_s):
            frame = av.VideoFrame.from_ndarray(np.roll(photo, 2 * i, axis=1), format="rgb24")
            frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def steady_times(seconds: float = CLIP_SECONDS, fps: int = CLIP_FPS) -> list[float]:
    return [i / fps for i in range(round(seconds * fps))]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("video") / "faces.mp4", steady_times())


@pytest.mark.parametrize(
    ("suffix", "codec"), [("mp4", "libx264"), ("mov", "libx264"), ("webm", "libvpx-vp9")]
)
def test_samples_one_frame_per_second_from_container_timestamps(tmp_path: Path, suffix: str, codec: str):
    path = write_clip(tmp_path / f"faces.{suffix}", steady_times(), codec=codec, size=(320, 180))
    info = probe_video(path)
    assert info.duration_s == pytest.approx(CLIP_SECONDS, abs=0.11)
    assert (info.width, info.height) == (320, 180)
    frames = list(sample_frames(path))
    assert [f.time_offset_s for f in frames] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])
    assert len(frames) == info.expected_samples(1.0)
    assert all(f.rgb.shape == (180, 320, 3) and f.rgb.dtype == np.uint8 for f in frames)
    assert len(list(sample_frames(path, interval_s=0.5))) == 9


def test_variable_frame_rate_uses_timestamps_not_frame_counts(tmp_path: Path):
    # Frames bunch up, then come rarely: counting frames at 10 fps would give wrong times.
    times = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 1.3, 1.4, 2.0, 3.7, 3.8]
    frames = list(sample_frames(write_clip(tmp_path / "vfr.mp4", times, size=(320, 180))))
    assert [f.time_offset_s for f in frames] == pytest.approx([0.0, 1.3, 2.0, 3.7])


def test_bytes_and_file_objects_give_the_same_frames(clip: Path):
    data = clip.read_bytes()
    from_path = [f.time_offset_s for f in sample_frames(clip, interval_s=2.0)]
    stream = io.BytesIO(data)
    assert probe_video(stream).frame_count == round(CLIP_SECONDS * CLIP_FPS)
    assert [f.time_offset_s for f in sample_frames(stream, interval_s=2.0)] == from_path  # probe rewound it
    assert [f.time_offset_s for f in sample_frames(data, interval_s=2.0)] == from_path == [0.0, 2.0, 4.0]


def test_frames_over_the_size_limit_are_scaled_down(clip: Path):
    frame = next(sample_frames(clip, max_side=480))
    assert frame.rgb.shape == (270, 480, 3)


def test_recognizer_finds_the_faces_in_sampled_frames(clip: Path):
    from fer_core.recognizer import Recognizer

    recognizer = Recognizer(served_model_path())
    frames = list(sample_frames(clip))
    assert len(frames) == 5
    for frame in frames:
        faces = recognizer.analyze(frame.rgb)
        assert len(faces) == CLIP_FACES, frame.time_offset_s
        assert all(np.isclose(f.probabilities.sum(), 1.0, atol=1e-3) for f in faces)


def test_truncated_mp4_without_its_index_is_refused(clip: Path):
    data = clip.read_bytes()
    with pytest.raises(VideoError, match="truncated or corrupt"):
        list(sample_frames(data[: len(data) * 2 // 3]))
    with pytest.raises(VideoError, match="truncated or corrupt"):
        probe_video(data[: len(data) * 2 // 3])


def test_truncated_streamable_mp4_keeps_the_frames_before_the_cut(tmp_path: Path):
    path = write_clip(tmp_path / "fast.mp4", steady_times(), options={"movflags": "faststart"})
    data = path.read_bytes()
    times = []
    with pytest.raises(VideoError, match=r"stops after \d+\.\d s of its 4\.5 s|corrupt or truncated after"):
        for frame in sample_frames(data[: len(data) * 7 // 10]):
            times.append(frame.time_offset_s)
    assert times and times == [float(i) for i in range(len(times))] and len(times) < 5


def test_files_that_are_not_video_are_refused_clearly(tmp_path: Path):
    photo, _ = group_photo(1, size=(64, 64))
    with pytest.raises(VideoError, match="not a video file"):
        list(sample_frames(b"just some text, not a video\n" * 50))
    for photo_bytes in (encode(photo), encode(photo, "PNG"), encode(photo)[:100]):
        with pytest.raises(VideoError, match="still image, not a video"):
            list(sample_frames(photo_bytes))
    with pytest.raises(VideoError, match="empty"):
        list(sample_frames(b""))
    with pytest.raises(VideoError, match="no such file"):
        list(sample_frames(tmp_path / "missing.mp4"))
    audio = tmp_path / "talk.m4a"
    with av.open(str(audio), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        samples = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="fltp", layout="mono")
        samples.sample_rate = 16000
        out.mux(stream.encode(samples))
        out.mux(stream.encode())
    with pytest.raises(VideoError, match="no video picture"):
        list(sample_frames(audio))
    assert issubclass(VideoError, ImageError)  # the ingest core reports it like any unreadable file
    with pytest.raises(ValueError, match="interval_s"):
        next(sample_frames(audio, interval_s=0))
