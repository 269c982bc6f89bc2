"""campus_fer.video_ingest: clips of real faces (tests/test_video.write_clip) through the real recognizer
into a real SQLite file; the rows in the database match the frames sampled, also for truncated files."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campus_fer.video import VideoError, sample_frames
from campus_fer.video_ingest import frame_name, ingest_video
from db import queries
from db.engine import make_engine
from db.models import observations_table
from db.roles import Actor, NotAllowed, Role
from tests.test_video import CLIP_FACES, steady_times, write_clip

START = datetime(2025, 5, 3, 9, 30)
ORGANISER = Actor("organiser@campus.example", Role.ORGANIZER, "cli")


@pytest.fixture
def engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'video.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clips") / "talk.mp4", steady_times(), size=(640, 360))


def stored(engine, session_id: int) -> list[tuple[str, datetime, int]]:
    return [(p["filename"], p["taken_at"], p["n_faces"]) for p in queries.photo_results(engine, session_id)]


def observation_count(engine, session_id: int) -> int:
    obs = observations_table
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).where(obs.c.session_id == session_id))


def test_every_sampled_frame_becomes_one_photo_row_with_its_faces(engine, recognizer, clip: Path):
    session_id = queries.create_event_session(engine, "Lecture", actor=ORGANISER)
    seen = []
    result = ingest_video(
        engine,
        recognizer,
        session_id,
        clip.read_bytes(),
        filename="talk.mp4",
        start=START,
        actor=ORGANISER,
        on_progress=lambda done, expected, outcome: seen.append((done, expected, outcome.status)),
    )
    assert result.error is None
    assert result.expected_frames == 5 and len(result.frames) == 5
    assert seen == [(i, 5, "saved") for i in range(1, 6)]
    assert stored(engine, session_id) == [
        (frame_name("talk.mp4", s), START + timedelta(seconds=s), CLIP_FACES) for s in range(5)
    ]
    assert result.faces_saved == observation_count(engine, session_id) == 5 * CLIP_FACES
    assert frame_name("talk.mp4", 65.0) == "talk.mp4 @ 00:01:05.0"

    # The same video again (as a file object this time) is recognised frame by frame.
    with clip.open("rb") as handle:
        again = ingest_video(
            engine, recognizer, session_id, handle, filename="copy.mp4", start=START, actor=ORGANISER
        )
    assert again.count("duplicate") == 5 and again.error is None
    assert observation_count(engine, session_id) == 5 * CLIP_FACES


def test_interval_and_start_time_set_the_frame_times(engine, recognizer, clip: Path):
    session_id = queries.create_event_session(engine, "Workshop", actor=ORGANISER)
    result = ingest_video(
        engine,
        recognizer,
        session_id,
        clip,
        filename="talk.mp4",
        start=START,
        interval_s=2.0,
        actor=ORGANISER,
    )
    assert result.error is None
    assert [t for _, t, _ in stored(engine, session_id)] == [START + timedelta(seconds=s) for s in (0, 2, 4)]
    assert {p["time_source"] for p in queries.photo_results(engine, session_id)} == {"video"}
    assert all("video's timestamp" in frame.message for frame in result.frames)


def test_truncated_video_keeps_the_frames_before_the_cut_and_says_why(engine, recognizer, tmp_path: Path):
    path = write_clip(
        tmp_path / "cut.mp4", steady_times(), size=(640, 360), options={"movflags": "faststart"}
    )
    data = path.read_bytes()[: path.stat().st_size * 7 // 10]
    decodable = []
    with pytest.raises(VideoError):
        for frame in sample_frames(data):
            decodable.append(frame.time_offset_s)
    session_id = queries.create_event_session(engine, "Cut short", actor=ORGANISER)
    result = ingest_video(
        engine, recognizer, session_id, data, filename="cut.mp4", start=START, actor=ORGANISER
    )
    assert result.error is not None and "truncated or corrupt" in result.error
    assert 0 < len(decodable) < 5
    rows = stored(engine, session_id)
    assert [t for _, t, _ in rows] == [START + timedelta(seconds=s) for s in decodable]
    assert len(rows) == len(result.frames) and all(o.status == "saved" for o in result.frames)
    assert observation_count(engine, session_id) == sum(n for *_, n in rows)


def test_unreadable_files_are_refused_with_a_message_and_write_nothing(engine, recognizer, clip: Path):
    session_id = queries.create_event_session(engine, "Broken", actor=ORGANISER)
    data = clip.read_bytes()
    for bad in (data[: len(data) * 2 // 3], b"not a video at all\n" * 100, b""):
        result = ingest_video(
            engine, recognizer, session_id, bad, filename="bad.mp4", start=START, actor=ORGANISER
        )
        assert result.error and not result.frames
    assert stored(engine, session_id) == [] and observation_count(engine, session_id) == 0


def test_viewers_may_not_add_video(engine, recognizer, clip: Path):
    session_id = queries.create_event_session(engine, "Viewed", actor=ORGANISER)
    viewer = Actor("student@campus.example", Role.VIEWER, "oidc")
    with pytest.raises(NotAllowed):
        ingest_video(engine, recognizer, session_id, clip, filename="talk.mp4", start=START, actor=viewer)
    assert stored(engine, session_id) == []
