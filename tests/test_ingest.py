"""The ingest core behind every door (page, API, CLI), with real photos, bad files and database failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from campus_fer.ingest import (
    Analysis,
    BatchSummary,
    PhotoFile,
    analyse_photo,
    analyse_photos,
    process_batch,
    process_file,
)
from db import queries
from db.engine import make_engine
from fer_core.recognizer import Recognizer
from tests.actors import ADMIN
from tests.bad_files import png_bomb
from tests.photos import encode, group_photo

LIMIT = 25 * 1024 * 1024


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'pipeline.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture
def session_id(engine: Engine) -> int:
    return queries.create_event_session(engine, "Open day", actor=ADMIN)


def photo(n_faces: int, seed: int, fmt: str = "JPEG", name: str | None = None) -> PhotoFile:
    rgb, _ = group_photo(n_faces, seed=seed)
    return PhotoFile(name or f"group_{seed}.{fmt.lower()}", encode(rgb, fmt))


def stored(engine: Engine, session_id: int) -> dict[str, int]:
    """filename -> number of faces stored, straight from the database."""
    return {p["filename"]: p["n_faces"] for p in queries.photo_results(engine, session_id)}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_each_format_is_analysed_and_saved(engine, recognizer, session_id, fmt):
    upload = photo(3, seed=1, fmt=fmt)
    outcome = process_file(
        engine, recognizer, session_id, upload, max_bytes=LIMIT, keep_annotated=True, actor=ADMIN
    )
    assert outcome.status == "saved", outcome.message
    assert outcome.n_faces == 3
    assert outcome.time_source == "upload"
    assert outcome.annotated is not None and outcome.annotated[:2] == b"\xff\xd8"  # a JPEG preview, in memory
    [row] = queries.photo_results(engine, session_id)
    assert (row["filename"], row["n_faces"], len(row["faces"]), row["time_source"]) == (
        upload.name,
        3,
        3,
        "upload",
    )
    assert (row["width"], row["height"]) == (1280, 720)


def test_exif_capture_time_is_used(engine, recognizer, session_id):
    rgb, _ = group_photo(2, seed=2)
    exif = Image.Exif()
    exif[0x0132] = "2025:05:03 10:15:00"  # DateTime
    upload = PhotoFile("exif.jpg", encode(rgb, "JPEG", exif=exif.tobytes()))
    outcome = process_file(engine, recognizer, session_id, upload, max_bytes=LIMIT, actor=ADMIN)
    assert outcome.status == "saved"
    [row] = queries.photo_results(engine, session_id)
    assert row["time_source"] == "exif"
    assert row["taken_at"].isoformat() == "2025-05-03T10:15:00"


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("notes.jpg", b"These are meeting notes, not a photo.\n" * 20, "not an image"),
        ("empty.jpg", b"", "empty (0 bytes)"),
        ("bomb.png", png_bomb(), "too large"),
    ],
)
def test_bad_files_are_refused_and_not_stored(engine, recognizer, session_id, name, data, expected):
    outcome = process_file(
        engine, recognizer, session_id, PhotoFile(name, data), max_bytes=LIMIT, actor=ADMIN
    )
    assert outcome.status == "refused"
    assert expected in outcome.message
    assert stored(engine, session_id) == {}


def test_truncated_jpeg_is_refused(engine, recognizer, session_id):
    data = photo(3, seed=3).data
    outcome = process_file(
        engine,
        recognizer,
        session_id,
        PhotoFile("cut.jpg", data[: len(data) // 2]),
        max_bytes=LIMIT,
        actor=ADMIN,
    )
    assert outcome.status == "refused"
    assert "truncated or corrupt" in outcome.message
    assert stored(engine, session_id) == {}


def test_file_over_the_size_limit_is_refused(engine, recognizer, session_id):
    upload = photo(2, seed=4, fmt="PNG")
    outcome = process_file(
        engine, recognizer, session_id, upload, max_bytes=len(upload.data) - 1, actor=ADMIN
    )
    assert outcome.status == "refused"
    assert "above the" in outcome.message and "limit" in outcome.message
    assert stored(engine, session_id) == {}


def test_photo_without_a_face_is_recorded_with_zero_faces(engine, recognizer, session_id):
    gradient = np.tile(np.linspace(0, 255, 640, dtype=np.uint8), (480, 1))
    upload = PhotoFile("empty_hall.png", encode(np.dstack([gradient] * 3), "PNG"))
    outcome = process_file(engine, recognizer, session_id, upload, max_bytes=LIMIT, actor=ADMIN)
    assert outcome.status == "no_face"
    assert "No face found" in outcome.message
    assert stored(engine, session_id) == {"empty_hall.png": 0}
    again = process_file(engine, recognizer, session_id, upload, max_bytes=LIMIT, actor=ADMIN)
    assert again.status == "duplicate"


def test_duplicate_is_reported_and_counted_once(engine, recognizer, session_id):
    upload = photo(3, seed=5)
    first = process_file(engine, recognizer, session_id, upload, max_bytes=LIMIT, actor=ADMIN)
    renamed = PhotoFile("copy_of_group.jpg", upload.data)
    second = process_file(engine, recognizer, session_id, renamed, max_bytes=LIMIT, actor=ADMIN)
    assert (first.status, second.status) == ("saved", "duplicate")
    assert "Already in this session" in second.message
    assert second.photo_id == first.photo_id
    assert stored(engine, session_id) == {upload.name: 3}
    other = queries.create_event_session(engine, "Another event", actor=ADMIN)
    assert process_file(engine, recognizer, other, upload, max_bytes=LIMIT, actor=ADMIN).status == "saved"


def test_database_error_mid_batch_keeps_earlier_photos(engine, recognizer, session_id, monkeypatch):
    real_save = queries.save_photo
    calls = {"n": 0}

    def flaky_save(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OperationalError("INSERT INTO photos ...", {}, Exception("disk I/O error"))
        return real_save(*args, **kwargs)

    monkeypatch.setattr(queries, "save_photo", flaky_save)
    uploads = [photo(2 + i % 2, seed=10 + i) for i in range(5)]
    progress: list[str] = []
    outcomes = process_batch(
        engine,
        recognizer,
        session_id,
        uploads,
        max_bytes=LIMIT,
        on_progress=lambda i, o: progress.append(o.status),
        actor=ADMIN,
    )
    assert [o.status for o in outcomes] == ["saved", "saved", "db_error", "saved", "saved"]
    assert progress == [o.status for o in outcomes]
    assert "database reported an error" in outcomes[2].message
    assert "photos saved before it are kept" in outcomes[2].message
    assert set(stored(engine, session_id)) == {uploads[i].name for i in (0, 1, 3, 4)}
    # The failed file can simply be uploaded again.
    monkeypatch.setattr(queries, "save_photo", real_save)
    retry = process_batch(engine, recognizer, session_id, uploads, max_bytes=LIMIT, actor=ADMIN)
    assert [o.status for o in retry] == ["duplicate", "duplicate", "saved", "duplicate", "duplicate"]
    assert len(stored(engine, session_id)) == 5


def test_database_down_stops_the_batch_with_a_message(engine, recognizer, session_id, monkeypatch):
    def broken_save(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(queries, "save_photo", broken_save)
    outcomes = process_batch(
        engine,
        recognizer,
        session_id,
        [photo(2, seed=20 + i) for i in range(5)],
        max_bytes=LIMIT,
        actor=ADMIN,
    )
    assert [o.status for o in outcomes] == ["db_error"] * 3 + ["skipped"] * 2
    assert "upload this one again" in outcomes[4].message
    assert stored(engine, session_id) == {}


def test_deleted_session_is_reported_not_raised(engine, recognizer, session_id):
    queries.delete_event_session(engine, session_id, actor=ADMIN)
    [outcome] = process_batch(
        engine, recognizer, session_id, [photo(2, seed=30)], max_bytes=LIMIT, actor=ADMIN
    )
    assert outcome.status == "error"
    assert "does not exist" in outcome.message


def test_mixed_batch_summary(engine, recognizer, session_id):
    good = photo(4, seed=40)
    uploads = [
        good,
        PhotoFile("bad.jpg", b"nope"),
        PhotoFile("again.jpg", good.data),
        photo(2, seed=41),
    ]
    summary = BatchSummary(
        process_batch(engine, recognizer, session_id, uploads, max_bytes=LIMIT, actor=ADMIN)
    )
    assert summary.count("saved") == 2
    assert summary.count("refused") == 1
    assert summary.count("duplicate") == 1
    assert summary.faces_saved == 6
    assert queries.get_event_session(engine, session_id).n_faces == 6


def test_heic_gets_exif_time_and_orientation(engine, recognizer, session_id):
    """An iPhone-style HEIC: rotated by its EXIF orientation (stored upright) and timed by EXIF."""
    rgb, _ = group_photo(2, seed=50)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x0132] = "2025:10:04 14:30:00"
    upload = PhotoFile("IMG_0001.HEIC", encode(rgb, "HEIF", exif=exif.tobytes()))
    outcome = process_file(engine, recognizer, session_id, upload, max_bytes=LIMIT, actor=ADMIN)
    assert outcome.status == "saved", outcome.message
    [row] = queries.photo_results(engine, session_id)
    assert (row["width"], row["height"]) == (720, 1280)  # upright: portrait
    assert (row["time_source"], row["taken_at"].isoformat()) == ("exif", "2025-10-04T14:30:00")
    assert row["n_faces"] == 2


def test_analysis_keeps_input_order_around_refusals(recognizer):
    """Refused files (empty, not an image) pass the threads by but keep their place in the stream."""
    good = [photo(1 + i, seed=60 + i) for i in range(3)]
    files = [
        PhotoFile("empty.jpg", b""),
        good[0],
        PhotoFile("notes.png", b"meeting notes"),
        good[1],
        good[2],
        PhotoFile("empty2.jpg", b""),
    ]
    analyses = list(analyse_photos(recognizer, files, max_bytes=LIMIT, workers=2))
    assert [a.name for a in analyses] == [f.name for f in files]
    assert [a.refused is not None for a in analyses] == [True, False, True, False, False, True]
    assert "empty (0 bytes)" in analyses[0].refused and "not an image" in analyses[2].refused
    assert [len(a.faces) for a in analyses if a.refused is None] == [1, 2, 3]
    single = analyse_photo(recognizer, good[1], max_bytes=LIMIT)
    assert isinstance(single, Analysis) and single.rgb is None
    assert len(single.faces) == 2 and single.content_hash == analyses[3].content_hash
    too_big = analyse_photo(recognizer, good[1], max_bytes=len(good[1].data) - 1)
    assert "above the" in too_big.refused and too_big.faces == []


def test_fer_core_public_names():
    import fer_core
    from fer_core import FaceResult, ImageError, Recognizer, load_image

    assert Recognizer.__module__ == "fer_core.recognizer"
    assert FaceResult.__module__ == "fer_core.recognizer" and issubclass(ImageError, ValueError)
    assert callable(load_image) and set(fer_core.__all__) <= set(dir(fer_core))
    with pytest.raises(AttributeError):
        fer_core.NotAThing  # noqa: B018


def test_every_door_stores_the_id_of_the_model_that_read_the_faces(engine, recognizer, session_id, tmp_path):
    """The photo, video-frame and live paths store `Recognizer.model_id`, read from the graph's metadata:
    a copy of the served graph stamped as model v3 writes v3 rows beside the committed graph's v2 rows."""
    from campus_fer.ingest import record_live_sample
    from campus_fer.video_ingest import ingest_video
    from fer_core.config import ONNX_MODEL_PATH
    from fer_core.model_info import FER2013_V2_ID, FERPLUS_V3_ID, write_model_id
    from tests.test_video import steady_times, write_clip

    stamped = tmp_path / "v3.onnx"
    stamped.write_bytes(ONNX_MODEL_PATH.read_bytes())
    write_model_id(stamped, FERPLUS_V3_ID)
    v3 = Recognizer(stamped)
    assert (recognizer.model_id, v3.model_id) == (FER2013_V2_ID, FERPLUS_V3_ID)

    assert process_file(engine, recognizer, session_id, photo(2, seed=3), max_bytes=LIMIT, actor=ADMIN).ok
    [batch] = process_batch(engine, v3, session_id, iter([photo(3, seed=4)]), max_bytes=LIMIT, actor=ADMIN)
    assert batch.status == "saved"
    clip = write_clip(tmp_path / "talk.mp4", steady_times()[:2], size=(640, 360))
    video = ingest_video(engine, v3, session_id, clip.read_bytes(), filename="talk.mp4",
                         start=datetime(2025, 5, 3, 9, 30), actor=ADMIN)  # fmt: skip
    frames = video.count("saved")
    assert video.error is None and frames >= 1
    faces = v3.analyze(group_photo(1, seed=5)[0])
    assert record_live_sample(engine, session_id, datetime(2025, 5, 3, 10), faces, model_id=v3.model_id,
                              actor=ADMIN) == 1  # fmt: skip

    photos = queries.photo_results(engine, session_id)
    # In time order: the video's frames (2025), then the two uploads (now).
    assert [p["model_id"] for p in photos] == [FERPLUS_V3_ID] * frames + [FER2013_V2_ID, FERPLUS_V3_ID]
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT model_id, source, count(*) FROM observations GROUP BY model_id, source ORDER BY 1, 2"
        ).all()
    v3_photo_faces = 3 + video.faces_saved
    assert [tuple(r) for r in rows] == [
        (FER2013_V2_ID, "photo", 2), (FERPLUS_V3_ID, "live", 1), (FERPLUS_V3_ID, "photo", v3_photo_faces),
    ]  # fmt: skip
    # First used first: v3 read the 2025 frames, v2 only today's upload.
    assert queries.get_event_session(engine, session_id).models == (FERPLUS_V3_ID, FER2013_V2_ID)
