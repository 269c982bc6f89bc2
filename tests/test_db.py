"""The database layer on real databases: a SQLite file, and PostgreSQL when one is configured
(the `db_url` fixture of tests/conftest.py: a fresh schema per test, dropped afterwards).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import IntegrityError

import db.photo_writes as photo_writes
import db.queries as q
from db import settings
from db.aggregates import wide_totals
from db.engine import alembic_config, current_revision, make_engine, upgrade_to_head
from db.models import Base
from fer_core import config
from fer_core.labels import EMOTIONS
from fer_core.model_info import FER2013_V2_ID, FERPLUS_V3_ID
from tests.actors import ADMIN

REPO_ROOT = Path(__file__).resolve().parent.parent
MON = datetime(2026, 3, 2)  # a Monday


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@dataclass(frozen=True)
class Face:
    """Stand-in for fer_core.recognizer.FaceResult (the FaceLike protocol)."""

    box: tuple[int, int, int, int]
    probabilities: tuple[float, ...]
    label: str
    confidence: float


TOP_P = 0.7
OTHER_P = (1 - TOP_P) / (len(EMOTIONS) - 1)


def face(label: str, box: tuple[int, int, int, int] = (10, 20, 30, 40)) -> Face:
    """A face whose `label` has probability 0.7 and every other expression 0.05."""
    probabilities = tuple(TOP_P if name == label else OTHER_P for name in EMOTIONS)
    return Face(box, probabilities, label, TOP_P)


def faces(*labels: str) -> list[Face]:
    return [face(label) for label in labels]


def migrate(engine: sa.Engine, revision: str, *, down: bool = False) -> None:
    """Alembic upgrade (or downgrade) of `engine` to `revision`, in one transaction."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


def count_rows(engine: sa.Engine, table: str, session_id: int | None = None) -> int:
    sql = f"SELECT count(*) FROM {table}" + (
        "" if session_id is None else f" WHERE session_id = {session_id}"
    )
    with engine.connect() as connection:
        return connection.exec_driver_sql(sql).scalar_one()


def save(
    engine: sa.Engine,
    session_id: int,
    taken_at: datetime,
    labels: list[str],
    hash_: str | None = None,
    model_id: str = FER2013_V2_ID,
):
    return q.save_photo(
        engine,
        session_id,
        content_hash=hash_ or uuid.uuid4().hex * 2,
        filename=f"{taken_at:%H%M%S}.jpg",
        taken_at=taken_at,
        time_source="exif",
        width=640,
        height=480,
        faces=faces(*labels),
        model_id=model_id,
        actor=ADMIN,
    )


def bucket_of(value: datetime, bucket: str) -> datetime:
    """Reference bucketing in Python."""
    if bucket == "minute":
        return value.replace(second=0, microsecond=0)
    if bucket == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if bucket == "day" else day - timedelta(days=day.weekday())


def reference_trends(
    observations: list[tuple[int, datetime, str]],
    bucket: str,
    session_ids: list[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    min_faces: int = 1,
) -> dict[datetime, dict[str, int]]:
    """{bucket_start: {expression: faces}} computed row by row in Python."""
    result: dict[datetime, dict[str, int]] = {}
    for session_id, at, label in observations:
        if session_ids is not None and session_id not in session_ids:
            continue
        if (start is not None and at < start) or (end is not None and at >= end):
            continue
        counts = result.setdefault(bucket_of(at, bucket), dict.fromkeys(EMOTIONS, 0))
        counts[label] += 1
    return {b: c for b, c in sorted(result.items()) if sum(c.values()) >= min_faces}


def as_counts(frame: pd.DataFrame, key: str = "bucket_start", check_means: bool = True) -> dict:
    """DataFrame rows -> {key: {expression: faces}}, checking the per-group invariants on the way."""
    result: dict = {}
    for value, group in frame.groupby(key, sort=False):
        assert list(group["expression"]) == list(EMOTIONS)  # all 7, in EMOTIONS order
        total_name = "bucket_faces" if key == "bucket_start" else "session_faces"
        total = int(group[total_name].iloc[0])
        assert (group[total_name] == total).all()
        assert group["faces"].sum() == total
        np.testing.assert_allclose(group["share"], group["faces"] / total)
        if check_means:  # every face made by face(): 0.7 for its label, 0.05 for the others
            expected_mean = (TOP_P * group["faces"] + OTHER_P * (total - group["faces"])) / total
            np.testing.assert_allclose(group["mean_probability"], expected_mean)
        key_value = value.to_pydatetime() if isinstance(value, pd.Timestamp) else int(value)
        result[key_value] = dict(zip(group["expression"], group["faces"].astype(int), strict=True))
    return result


# Hand-made observations: (session, time, label) for session "S1" (index 1) and "S2" (index 2).
S1_PHOTO = [(MON + timedelta(hours=9, minutes=15, seconds=50), ["happy"])]
S1_LIVE = [
    (MON + timedelta(hours=9, minutes=15, seconds=10), ["happy", "happy", "sad"]),
    (MON + timedelta(hours=9, minutes=47), ["neutral"]),
    (MON + timedelta(hours=14), ["angry", "happy"]),
    (MON + timedelta(days=6, hours=23, minutes=59, seconds=59), ["surprise"]),  # Sunday: same ISO week
    (MON + timedelta(days=7), ["fear"]),  # next Monday 00:00: next week
    (MON + timedelta(days=9, hours=12), ["happy"]),  # Wednesday
]
S2_LIVE = [(MON + timedelta(hours=9, minutes=15, seconds=30), ["angry", "angry"])]


@pytest.fixture
def filled(engine: sa.Engine) -> tuple[int, int, list[tuple[int, datetime, str]]]:
    """Two sessions with the hand-made observations; returns their ids and the reference list."""
    s1 = q.create_event_session(engine, "Lecture", date(2026, 3, 2), ["lecture"], actor=ADMIN)
    s2 = q.create_event_session(engine, "Open day", actor=ADMIN)
    reference = []
    for at, labels in S1_PHOTO:
        save(engine, s1, at, labels)
        reference += [(s1, at, label) for label in labels]
    for session_id, batches in ((s1, S1_LIVE), (s2, S2_LIVE)):
        for at, labels in batches:
            assert q.save_live_observations(
                engine, session_id, at, faces(*labels), model_id=FER2013_V2_ID
            ) == len(labels)
            reference += [(session_id, at, label) for label in labels]
    return s1, s2, reference


# ---------------------------------------------------------------------------------------------
# Settings and migrations


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)
    monkeypatch.delenv(settings.DATABASE_URL_ENV, raising=False)
    default = settings.database_url()
    assert default == f"sqlite:///{tmp_path / 'data' / 'campus_fer.sqlite3'}"
    assert (tmp_path / "data").is_dir()

    monkeypatch.setenv(settings.DATABASE_URL_ENV, "postgresql+psycopg://u:p@db/from_env")
    assert settings.database_url() == "postgresql+psycopg://u:p@db/from_env"
    assert settings.database_url("sqlite:///explicit.db") == "sqlite:///explicit.db"

    monkeypatch.setenv(settings.DATABASE_URL_ENV, "  ")  # blank counts as unset
    assert settings.database_url() == default


def test_default_database_is_created_in_project_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)
    monkeypatch.delenv(settings.DATABASE_URL_ENV, raising=False)
    engine = make_engine()
    try:
        q.create_event_session(engine, "x", actor=ADMIN)
    finally:
        engine.dispose()
    assert (tmp_path / "data" / "campus_fer.sqlite3").is_file()


def test_migrations_create_the_schema_and_rerun_as_no_op(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert current_revision(engine) == head
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names())
        assert {"event_sessions", "photos", "observations", "minute_rollups", "hour_rollups"} <= tables
        columns = {c["name"] for c in inspector.get_columns("observations")}
        assert {f"p_{name}" for name in EMOTIONS} <= columns
        assert {"session_id", "photo_id", "source", "observed_at", "top_label", "confidence"} <= columns
        every_column = [c["name"] for t in tables for c in inspector.get_columns(t)]
        assert not [c for c in every_column if any(w in c for w in ("image", "pixel", "embedding", "person"))]
        indexes = {tuple(i["column_names"]) for i in inspector.get_indexes("observations")}
        assert ("session_id", "observed_at") in indexes and ("observed_at",) not in indexes  # 0008
        with engine.connect() as connection:  # the models and the migrations describe the same schema
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []

        session_id = q.create_event_session(engine, "kept", actor=ADMIN)
        upgrade_to_head(engine)  # programmatic re-run
        env = {**os.environ, settings.DATABASE_URL_ENV: db_url}
        cli = subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert cli.returncode == 0, cli.stderr
        assert current_revision(engine) == head
        assert set(sa.inspect(engine).get_table_names()) == tables
        assert [s.id for s in q.list_event_sessions(engine)] == [session_id]
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine, "base", down=True)
        assert "observations" not in sa.inspect(engine).get_table_names()
        upgrade_to_head(engine)
        assert "observations" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_sqlite_connections_are_configured(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'x.sqlite3'}")
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
        assert pragmas["journal_mode"] == "wal"
        assert pragmas["foreign_keys"] == 1
        assert pragmas["busy_timeout"] >= 5000
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# Sessions


def test_create_list_get_sessions(engine: sa.Engine) -> None:
    first = q.create_event_session(
        engine, "  Welcome lecture ", date(2026, 9, 1), ["lecture", " ", "lecture", "A"], actor=ADMIN
    )
    second = q.create_event_session(engine, "Open day", actor=ADMIN)
    listed = q.list_event_sessions(engine)
    assert [s.id for s in listed] == [second, first]  # newest first
    info = q.get_event_session(engine, first)
    assert info is not None
    assert (info.name, info.event_date, info.tags) == ("Welcome lecture", date(2026, 9, 1), ["lecture", "A"])
    assert (info.n_photos, info.n_faces) == (0, 0)
    assert q.get_event_session(engine, 999_999) is None

    for bad in ("", "   "):
        with pytest.raises(ValueError, match="name"):
            q.create_event_session(engine, bad, actor=ADMIN)
    with pytest.raises(ValueError, match="already exists"):
        q.create_event_session(engine, "Open day", actor=ADMIN)
    assert len(q.list_event_sessions(engine)) == 2


def test_session_counts(engine: sa.Engine, filled) -> None:
    s1, s2, _ = filled
    infos = {s.id: s for s in q.list_event_sessions(engine)}
    assert (infos[s1].n_photos, infos[s1].n_faces) == (1, 10)
    assert (infos[s2].n_photos, infos[s2].n_faces) == (0, 2)


def test_sessions_come_a_page_at_a_time_and_per_owner(engine: sa.Engine) -> None:
    ids = [q.create_event_session(engine, f"session {i}", actor=ADMIN) for i in range(5)]
    save(engine, ids[1], MON, ["happy", "sad"])
    save(engine, ids[1], MON.replace(hour=1), [])  # a photo without faces counts as a photo
    listed = q.list_event_sessions(engine)
    assert [s.id for s in listed] == ids[::-1] and q.count_event_sessions(engine) == 5
    assert (listed[3].n_photos, listed[3].n_faces, listed[3].models) == (2, 2, (FER2013_V2_ID,))
    pages = [q.list_event_sessions(engine, limit=2, offset=offset) for offset in (0, 2, 4)]
    assert [s for page in pages for s in page] == listed  # counts and models as in the whole list
    assert q.list_event_sessions(engine, owner=ADMIN.email) == listed
    assert q.list_event_sessions(engine, owner=None) == [] and q.count_event_sessions(engine, owner=None) == 0
    assert q.list_event_sessions(engine, owner="someone@else.test") == []


def test_delete_session_cascades(engine: sa.Engine, filled) -> None:
    s1, s2, _ = filled
    q.delete_event_session(engine, s1, actor=ADMIN)
    assert q.get_event_session(engine, s1) is None
    for table in ("photos", "observations", "minute_rollups", "hour_rollups"):
        assert count_rows(engine, table, s1) == 0, table
    assert count_rows(engine, "observations", s2) == 2
    assert set(as_counts(q.session_comparison(engine), "session_id")) == {s2}
    q.delete_event_session(engine, s1, actor=ADMIN)  # deleting again is harmless


# ---------------------------------------------------------------------------------------------
# Writing


def test_save_photo_and_read_it_back(engine: sa.Engine) -> None:
    sid = q.create_event_session(engine, "photos", actor=ADMIN)
    taken = datetime(2026, 3, 2, 11, 0, 5, tzinfo=timezone(timedelta(hours=2)))  # stored as 09:00:05 UTC
    result = q.save_photo(
        engine,
        sid,
        content_hash="a" * 64,
        filename="group.jpg",
        taken_at=taken,
        time_source="exif",
        width=4000,
        height=3000,
        faces=[face("happy", (1, 2, 3, 4)), face("sad", (5, 6, 7, 8))],
        model_id=FER2013_V2_ID,
        actor=ADMIN,
    )
    assert result.status == "saved" and result.n_faces == 2
    empty = q.save_photo(
        engine,
        sid,
        content_hash="b" * 64,
        filename="nobody.jpg",
        taken_at=datetime(2026, 3, 2, 10),
        time_source="upload",
        width=10,
        height=10,
        faces=[],
        model_id=FER2013_V2_ID,
        actor=ADMIN,
    )
    assert (empty.status, empty.n_faces) == ("saved", 0)

    photos = q.photo_results(engine, sid)
    assert [p["filename"] for p in photos] == ["group.jpg", "nobody.jpg"]  # by time taken
    photo = photos[0]
    assert photo["id"] == result.photo_id
    assert photo["taken_at"] == datetime(2026, 3, 2, 9, 0, 5)
    assert (photo["time_source"], photo["width"], photo["height"], photo["n_faces"]) == (
        "exif",
        4000,
        3000,
        2,
    )
    assert [f["box"] for f in photo["faces"]] == [(1, 2, 3, 4), (5, 6, 7, 8)]
    assert [f["label"] for f in photo["faces"]] == ["happy", "sad"]
    assert photo["faces"][0]["confidence"] == pytest.approx(TOP_P)
    assert photo["faces"][0]["probabilities"] == pytest.approx(
        dict(zip(EMOTIONS, face("happy").probabilities, strict=True))
    )
    assert photos[1]["faces"] == []


def test_duplicate_photo_writes_nothing(engine: sa.Engine) -> None:
    sid = q.create_event_session(engine, "a", actor=ADMIN)
    other = q.create_event_session(engine, "b", actor=ADMIN)
    first = save(engine, sid, MON, ["happy", "sad"], hash_="c" * 64)
    counts = (
        count_rows(engine, "photos"),
        count_rows(engine, "observations"),
        count_rows(engine, "minute_rollups"),
    )
    again = save(engine, sid, MON + timedelta(hours=1), ["angry"], hash_="c" * 64)
    assert (again.status, again.photo_id, again.n_faces) == ("duplicate", first.photo_id, 2)
    assert (
        count_rows(engine, "photos"),
        count_rows(engine, "observations"),
        count_rows(engine, "minute_rollups"),
    ) == counts
    assert as_counts(q.expression_trends(engine, "day"))[MON]["angry"] == 0
    assert save(engine, other, MON, ["happy"], hash_="c" * 64).status == "saved"  # per session


def test_invalid_input_is_rejected(engine: sa.Engine) -> None:
    sid = q.create_event_session(engine, "x", actor=ADMIN)
    with pytest.raises(ValueError, match="time_source"):
        q.save_photo(
            engine,
            sid,
            content_hash="d",
            filename="f",
            taken_at=MON,
            time_source="guess",
            width=1,
            height=1,
            faces=[],
            model_id=FER2013_V2_ID,
            actor=ADMIN,
        )
    with pytest.raises(ValueError, match="does not exist"):
        save(engine, 999_999, MON, ["happy"])
    with pytest.raises(ValueError, match="does not exist"):
        q.save_live_observations(engine, 999_999, MON, faces("happy"), model_id=FER2013_V2_ID)
    with pytest.raises(ValueError, match="probabilities"):
        q.save_live_observations(
            engine, sid, MON, [Face((0, 0, 1, 1), (0.5, 0.5), "happy", 0.5)], model_id=FER2013_V2_ID
        )
    with pytest.raises(ValueError, match="label"):
        q.save_live_observations(
            engine,
            sid,
            MON,
            [Face((0, 0, 1, 1), face("happy").probabilities, "joy", 0.7)],
            model_id=FER2013_V2_ID,
        )
    assert q.save_live_observations(engine, sid, MON, [], model_id=FER2013_V2_ID) == 0
    assert count_rows(engine, "observations") == 0


def test_live_observations(engine: sa.Engine) -> None:
    sid = q.create_event_session(engine, "live", actor=ADMIN)
    at = datetime(2026, 3, 2, 10, 0, 0, 250_000, tzinfo=UTC)
    assert (
        q.save_live_observations(engine, sid, at, faces("happy", "fear", "fear"), model_id=FER2013_V2_ID) == 3
    )
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT source, photo_id, observed_at FROM observations").all()
    assert len(rows) == 3
    assert all(r.source == "live" and r.photo_id is None for r in rows)
    assert {pd.Timestamp(r.observed_at).to_pydatetime() for r in rows} == {
        datetime(2026, 3, 2, 10, 0, 0, 250_000)
    }
    assert q.photo_results(engine, sid) == []


def test_constraint_failure_mid_batch_keeps_earlier_photos(engine: sa.Engine) -> None:
    sid = q.create_event_session(engine, "batch", actor=ADMIN)
    bad = Face((0, 0, 5, 5), (1.5, 0, 0, 0, 0, 0, 0), "angry", 1.5)  # probability > 1: CHECK constraint
    outcomes = []
    for i in range(5):
        photo_faces = [face("happy"), bad] if i == 2 else [face("happy"), face("sad")]
        try:
            q.save_photo(
                engine,
                sid,
                content_hash=f"{i:064d}",
                filename=f"{i}.jpg",
                taken_at=MON + timedelta(minutes=i),
                time_source="exif",
                width=10,
                height=10,
                faces=photo_faces,
                model_id=FER2013_V2_ID,
                actor=ADMIN,
            )
            outcomes.append("saved")
        except IntegrityError:
            outcomes.append("failed")
    assert outcomes == ["saved", "saved", "failed", "saved", "saved"]
    photos = q.photo_results(engine, sid)
    assert [p["filename"] for p in photos] == ["0.jpg", "1.jpg", "3.jpg", "4.jpg"]
    assert all(len(p["faces"]) == 2 for p in photos)
    assert count_rows(engine, "observations") == 8
    minute = MON + timedelta(minutes=2)
    assert minute not in as_counts(q.expression_trends(engine, "minute"))  # no rollup for the failed photo
    assert sum(as_counts(q.expression_trends(engine, "hour"))[MON].values()) == 8


def test_exception_after_photo_row_rolls_the_photo_back(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = q.create_event_session(engine, "batch", actor=ADMIN)
    real = photo_writes._insert_observations
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # the photo row of the 3rd photo is already flushed at this point
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(photo_writes, "_insert_observations", flaky)
    for i in range(5):
        if i == 2:
            with pytest.raises(RuntimeError, match="disk full"):
                save(engine, sid, MON + timedelta(minutes=i), ["happy"], hash_=f"{i:064d}")
        else:
            assert (
                save(engine, sid, MON + timedelta(minutes=i), ["happy"], hash_=f"{i:064d}").status == "saved"
            )
    assert [p["filename"] for p in q.photo_results(engine, sid)] == [
        "000000.jpg",
        "000100.jpg",
        "000300.jpg",
        "000400.jpg",
    ]
    assert count_rows(engine, "photos") == 4 and count_rows(engine, "observations") == 4
    # The same photo can be saved once the problem is gone: the failed attempt left no trace.
    assert save(engine, sid, MON + timedelta(minutes=2), ["happy"], hash_=f"{2:064d}").status == "saved"


def test_concurrent_writers(engine: sa.Engine) -> None:
    sid = q.create_event_session(engine, "busy", actor=ADMIN)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(15):
                q.save_live_observations(
                    engine, sid, MON + timedelta(seconds=i), faces("happy", "sad"), model_id=FER2013_V2_ID
                )
                save(engine, sid, MON + timedelta(seconds=i), ["neutral"], hash_=f"{k}-{i}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert count_rows(engine, "observations") == 4 * 15 * 3
    assert as_counts(q.expression_trends(engine, "minute"))[MON] == {
        **dict.fromkeys(EMOTIONS, 0),
        "happy": 60,
        "sad": 60,
        "neutral": 60,
    }


# ---------------------------------------------------------------------------------------------
# Trends


def test_trends_from_model_totals_equal_expression_trends(engine: sa.Engine, filled) -> None:
    """The trends page builds its chart from one per-bucket-and-model query: the same rows as
    expression_trends for every bucket, filter and threshold."""
    lecture, _, _ = filled
    for bucket in ("minute", "hour", "day", "week"):
        for ids, start, end in (
            (None, None, None),
            ([lecture], MON.replace(hour=9, minute=7, second=30), None),
        ):
            totals = q.model_totals(engine, bucket, ids, start, end)
            for min_faces in (1, 3):
                pd.testing.assert_frame_equal(
                    q.trends_from_model_totals(totals, min_faces),
                    q.expression_trends(engine, bucket, ids, start, end, min_faces=min_faces),
                )


def test_trends_per_bucket(engine: sa.Engine, filled) -> None:
    _, _, reference = filled
    zero = dict.fromkeys(EMOTIONS, 0)
    expected = {
        "minute": {
            MON + timedelta(hours=9, minutes=15): {**zero, "happy": 3, "sad": 1, "angry": 2},
            MON + timedelta(hours=9, minutes=47): {**zero, "neutral": 1},
            MON + timedelta(hours=14): {**zero, "angry": 1, "happy": 1},
            MON + timedelta(days=6, hours=23, minutes=59): {**zero, "surprise": 1},
            MON + timedelta(days=7): {**zero, "fear": 1},
            MON + timedelta(days=9, hours=12): {**zero, "happy": 1},
        },
        "hour": {
            MON + timedelta(hours=9): {**zero, "happy": 3, "sad": 1, "angry": 2, "neutral": 1},
            MON + timedelta(hours=14): {**zero, "angry": 1, "happy": 1},
            MON + timedelta(days=6, hours=23): {**zero, "surprise": 1},
            MON + timedelta(days=7): {**zero, "fear": 1},
            MON + timedelta(days=9, hours=12): {**zero, "happy": 1},
        },
        "day": {
            MON: {**zero, "happy": 4, "sad": 1, "angry": 3, "neutral": 1},
            MON + timedelta(days=6): {**zero, "surprise": 1},
            MON + timedelta(days=7): {**zero, "fear": 1},
            MON + timedelta(days=9): {**zero, "happy": 1},
        },
        "week": {  # ISO weeks start on Monday: Sunday 23:59:59 still belongs to MON's week
            MON: {**zero, "happy": 4, "sad": 1, "angry": 3, "neutral": 1, "surprise": 1},
            MON + timedelta(days=7): {**zero, "fear": 1, "happy": 1},
        },
    }
    for bucket, buckets in expected.items():
        frame = q.expression_trends(engine, bucket)
        assert list(frame.columns) == [
            "bucket_start",
            "expression",
            "faces",
            "share",
            "mean_probability",
            "bucket_faces",
            "small_faces",
        ]
        assert pd.api.types.is_datetime64_any_dtype(frame["bucket_start"])
        assert frame["bucket_start"].is_monotonic_increasing
        assert as_counts(frame) == buckets, bucket
        assert as_counts(frame) == reference_trends(reference, bucket)
    hour = q.expression_trends(engine, "hour")
    nine = hour[hour["bucket_start"] == MON + timedelta(hours=9)].set_index("expression")
    assert nine.loc["happy", "share"] == pytest.approx(3 / 7)
    assert nine.loc["happy", "mean_probability"] == pytest.approx((3 * 0.7 + 4 * 0.05) / 7)
    with pytest.raises(ValueError, match="bucket"):
        q.expression_trends(engine, "month")


def test_min_faces_hides_small_buckets(engine: sa.Engine, filled) -> None:
    minute = as_counts(q.expression_trends(engine, "minute", min_faces=2))
    assert set(minute) == {MON + timedelta(hours=9, minutes=15), MON + timedelta(hours=14)}
    assert set(as_counts(q.expression_trends(engine, "hour", min_faces=3))) == {MON + timedelta(hours=9)}
    assert q.expression_trends(engine, "week", min_faces=100).empty


def test_session_filter_and_date_range(engine: sa.Engine, filled) -> None:
    s1, s2, reference = filled
    nine_fifteen = MON + timedelta(hours=9, minutes=15)
    assert as_counts(q.expression_trends(engine, "minute", [s2])) == {
        nine_fifteen: {**dict.fromkeys(EMOTIONS, 0), "angry": 2}
    }
    assert as_counts(q.expression_trends(engine, "minute", [s1]))[nine_fifteen]["angry"] == 0
    assert q.expression_trends(engine, "minute", []).empty
    assert as_counts(q.expression_trends(engine, "minute", np.array([s2]))) == as_counts(
        q.expression_trends(engine, "minute", [s2])
    )

    # Sub-minute edges: 09:15:30 is in, 09:15:10 is out, and end (09:47:00) is exclusive.
    start, end = nine_fifteen + timedelta(seconds=30), MON + timedelta(hours=9, minutes=47)
    hour = as_counts(q.expression_trends(engine, "hour", start=start, end=end))
    assert hour == {MON + timedelta(hours=9): {**dict.fromkeys(EMOTIONS, 0), "happy": 1, "angry": 2}}
    aware_start = start.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=-5)))
    assert as_counts(q.expression_trends(engine, "hour", start=aware_start, end=end)) == hour

    # Every bucket against the row-by-row reference, over ranges cut at odd seconds.
    rng = random.Random(7)
    instants = [MON + timedelta(seconds=rng.randrange(0, 11 * 86400)) for _ in range(12)]
    instants += [nine_fifteen + timedelta(seconds=s) for s in (0, 10, 11, 50, 60)]
    for bucket in ("minute", "hour", "day", "week"):
        for _ in range(12):
            a, b = sorted(rng.sample(instants, 2))
            for ids in (None, [s1], [s1, s2]):
                got = as_counts(q.expression_trends(engine, bucket, ids, a, b))
                assert got == reference_trends(reference, bucket, ids, a, b), (bucket, ids, a, b)
        got = as_counts(q.expression_trends(engine, bucket, start=nine_fifteen + timedelta(seconds=11)))
        assert got == reference_trends(reference, bucket, start=nine_fifteen + timedelta(seconds=11))
        assert q.expression_trends(engine, bucket, start=MON + timedelta(days=1), end=MON).empty


def test_bulk_insert_matches_reference(engine: sa.Engine) -> None:
    """Large batches (COPY on PostgreSQL) and the rollups agree with row-by-row counting."""
    sessions = [q.create_event_session(engine, f"s{i}", actor=ADMIN) for i in range(3)]
    rng = np.random.default_rng(3)
    n = 600
    session_ids = rng.choice(sessions, n).tolist()
    times = [
        MON + timedelta(seconds=int(s), microseconds=int(u))
        for s, u in zip(rng.integers(0, 3 * 86400, n), rng.integers(0, 10**6, n), strict=True)
    ]
    probabilities = rng.dirichlet(np.ones(len(EMOTIONS)), n)
    assert q.bulk_insert_observations(engine, session_ids, times, probabilities, model_id=FER2013_V2_ID) == n
    labels = [EMOTIONS[i] for i in probabilities.argmax(axis=1)]
    reference = list(zip(session_ids, times, labels, strict=True))
    start, end = MON + timedelta(hours=5, seconds=17), MON + timedelta(days=2, hours=3, seconds=41)
    for bucket in ("minute", "hour", "day", "week"):
        frame = q.expression_trends(engine, bucket, sessions[:2], start, end)
        assert as_counts(frame, check_means=False) == reference_trends(
            reference, bucket, sessions[:2], start, end
        )
    for bucket_start, group in q.expression_trends(engine, "day").groupby("bucket_start"):
        mask = np.array([bucket_of(t, "day") == bucket_start for t in times])
        np.testing.assert_allclose(group["mean_probability"], probabilities[mask].mean(axis=0))


def test_session_comparison(engine: sa.Engine, filled) -> None:
    s1, s2, _ = filled
    frame = q.session_comparison(engine)
    assert list(frame.columns) == [
        "session_id",
        "session_name",
        "expression",
        "faces",
        "share",
        "mean_probability",
        "session_faces",
        "small_faces",
    ]
    assert frame.groupby("session_id")["session_name"].first().to_dict() == {s1: "Lecture", s2: "Open day"}
    zero = dict.fromkeys(EMOTIONS, 0)
    assert as_counts(frame, "session_id") == {
        s1: {**zero, "happy": 5, "sad": 1, "angry": 1, "neutral": 1, "surprise": 1, "fear": 1},
        s2: {**zero, "angry": 2},
    }
    assert set(as_counts(q.session_comparison(engine, min_faces=3), "session_id")) == {s1}
    assert set(as_counts(q.session_comparison(engine, [s2]), "session_id")) == {s2}
    assert q.session_comparison(engine, []).empty
    # 09:15:30 (inclusive) to 14:00:00 (exclusive): S1 has the 09:15:50 photo and 09:47 neutral.
    start, end = MON + timedelta(hours=9, minutes=15, seconds=30), MON + timedelta(hours=14)
    assert as_counts(q.session_comparison(engine, start=start, end=end), "session_id") == {
        s1: {**zero, "happy": 1, "neutral": 1},
        s2: {**zero, "angry": 2},
    }


# ---------------------------------------------------------------------------------------------
# Retention


def _rollup_snapshot(engine: sa.Engine) -> dict[str, list]:
    with engine.connect() as connection:
        return {
            table: [
                tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                for row in connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {order}")
            ]
            for table, order in (
                ("minute_rollups", "session_id, period_start, model_id"),
                ("hour_rollups", "session_id, period_start, model_id"),
                ("session_rollups", "session_id, model_id"),
            )
        }


def test_purge_observations_older_than(engine: sa.Engine, filled) -> None:
    s1, s2, reference = filled
    noon = MON + timedelta(hours=12)
    # Around a cutoff that falls inside a minute and an hour: 12:00:10 goes, 12:00:50 stays.
    for at, labels in ((noon + timedelta(seconds=10), ["sad"]), (noon + timedelta(seconds=50), ["fear"])):
        q.save_live_observations(engine, s2, at, faces(*labels), model_id=FER2013_V2_ID)
        reference += [(s2, at, label) for label in labels]
    q.save_photo(
        engine,
        s2,
        content_hash="e" * 64,
        filename="empty-old.jpg",
        taken_at=MON,
        time_source="upload",
        width=1,
        height=1,
        faces=[],
        model_id=FER2013_V2_ID,
        actor=ADMIN,
    )
    now = noon + timedelta(days=30, seconds=30)  # cutoff: MON 12:00:30
    cutoff = now - timedelta(days=30)
    expected_deleted = sum(1 for _, at, _ in reference if at < cutoff)

    assert q.purge_observations_older_than(engine, 30, now=now, actor=ADMIN) == expected_deleted == 8
    remaining = [r for r in reference if r[1] >= cutoff]
    assert count_rows(engine, "observations") == len(remaining)
    assert count_rows(engine, "photos") == 0  # the 09:15:50 photo lost its faces; the empty old one went too
    for bucket in ("minute", "hour", "day", "week"):
        assert as_counts(q.expression_trends(engine, bucket)) == reference_trends(remaining, bucket)
    snapshot = _rollup_snapshot(engine)
    q.rebuild_rollups(engine)
    assert _rollup_snapshot(engine) == snapshot  # rollups still equal a recount of the observations

    assert q.purge_observations_older_than(engine, 30, now=now, actor=ADMIN) == 0
    with pytest.raises(ValueError):
        q.purge_observations_older_than(engine, -1, actor=ADMIN)
    assert q.purge_observations_older_than(engine, 0, now=MON + timedelta(days=100), actor=ADMIN) == len(
        remaining
    )
    assert [s.n_faces for s in q.list_event_sessions(engine)] == [0, 0]


def test_minute_buckets_over_more_than_two_weeks_are_refused(engine: sa.Engine) -> None:
    sid = q.create_event_session(engine, "term", actor=ADMIN)
    q.save_live_observations(engine, sid, MON, faces("happy"), model_id=FER2013_V2_ID)
    q.save_live_observations(engine, sid, MON + timedelta(days=20), faces("sad"), model_id=FER2013_V2_ID)
    with pytest.raises(q.TooManyBucketsError, match="20 days"):
        q.expression_trends(engine, "minute")
    one_day = q.expression_trends(engine, "minute", start=MON, end=MON + timedelta(days=1))
    assert as_counts(one_day) == {MON: {**dict.fromkeys(EMOTIONS, 0), "happy": 1}}
    assert len(as_counts(q.expression_trends(engine, "hour"))) == 2


# ---------------------------------------------------------------------------------------------
# Readability floor (faces too small to read)


def test_small_faces_are_counted_but_left_out_of_shares(engine: sa.Engine) -> None:
    from fer_core.labels import READABLE_MIN_FACE_PX

    session_id = q.create_event_session(engine, "crowd", actor=ADMIN)
    big, tiny = (0, 0, READABLE_MIN_FACE_PX, READABLE_MIN_FACE_PX + 5), (0, 0, READABLE_MIN_FACE_PX - 1, 30)
    q.save_photo(
        engine,
        session_id,
        content_hash="c" * 64,
        filename="hall.jpg",
        taken_at=MON,
        time_source="exif",
        width=640,
        height=480,
        faces=[
            face("happy", big),
            face("happy", big),
            face("sad", tiny),
            face("sad", tiny),
            face("sad", tiny),
        ],
        model_id=FER2013_V2_ID,
        actor=ADMIN,
    )
    info = q.get_event_session(engine, session_id)
    assert (info.n_faces, info.n_small_faces) == (5, 3)
    for frame, total in (
        (q.expression_trends(engine, "minute"), "bucket_faces"),
        (q.expression_trends(engine, "day"), "bucket_faces"),
        (q.session_comparison(engine), "session_faces"),
    ):
        shares = dict(zip(frame["expression"], frame["share"]))
        assert shares["happy"] == 1.0 and shares["sad"] == 0.0
        assert set(frame[total]) == {2} and set(frame["small_faces"]) == {3}
    faces_ = q.photo_results(engine, session_id)[0]["faces"]
    assert [(f["face_size"], f["readable"]) for f in faces_] == [
        (READABLE_MIN_FACE_PX, True),
        (READABLE_MIN_FACE_PX, True),
        *[(READABLE_MIN_FACE_PX - 1, False)] * 3,
    ]
    with engine.connect() as connection:
        sizes = connection.exec_driver_sql("SELECT face_size FROM observations ORDER BY id").scalars().all()
    assert sizes == [READABLE_MIN_FACE_PX] * 2 + [READABLE_MIN_FACE_PX - 1] * 3
    # Rebuilt from the stored sizes, the rollups are unchanged: a new floor needs no re-analysis.
    before = q.expression_trends(engine, "hour")
    q.rebuild_rollups(engine)
    pd.testing.assert_frame_equal(q.expression_trends(engine, "hour"), before)


def test_migration_0002_backfills_face_size_and_keeps_every_row(db_url: str) -> None:
    from fer_core.labels import READABLE_MIN_FACE_PX

    engine = make_engine(db_url, migrate=False)
    try:
        migrate(engine, "0001")
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO event_sessions (id, name, tags, created_at) "
                "VALUES (1, 'old', '[]', '2026-03-02')"
            )
            probabilities = ", ".join(["0.1"] * 6 + ["0.4"])
            for box_w, box_h in ((30, 40), (READABLE_MIN_FACE_PX - 2, 40), (0, 0)):
                connection.exec_driver_sql(
                    "INSERT INTO observations (session_id, source, observed_at, box_x, box_y, box_w, box_h, "
                    f"{', '.join(f'p_{n}' for n in EMOTIONS)}, top_label, confidence) "
                    f"VALUES (1, 'live', '2026-03-02 10:00:00', 0, 0, {box_w}, {box_h}, "
                    f"{probabilities}, 6, 0.4)"
                )
        upgrade_to_head(engine)
        with engine.connect() as connection:
            sizes = (
                connection.exec_driver_sql("SELECT face_size FROM observations ORDER BY id").scalars().all()
            )
        assert sizes == [30, READABLE_MIN_FACE_PX - 2, None]
        info = q.get_event_session(engine, 1)
        assert (info.n_faces, info.n_small_faces) == (3, 1)  # the unknown size counts as readable
        assert set(q.expression_trends(engine, "hour")["bucket_faces"]) == {2}
    finally:
        engine.dispose()


def save_before_0007(
    engine: sa.Engine, session_id: int, taken_at: datetime, labels: list[str], live: bool = False
) -> None:
    """A photo (or a live frame) with its observations and rollup rows, in the schema before 0007 (no
    model_id): raw SQL, because db.queries writes the newest schema."""
    columns = ["session_id", "photo_id", "source", "observed_at", "box_x", "box_y", "box_w", "box_h",
               "face_size", *(f"p_{n}" for n in EMOTIONS), "top_label", "confidence"]  # fmt: skip
    with engine.begin() as connection:
        photo_id = None
        if not live:
            photo_id = connection.execute(
                sa.text(
                    "INSERT INTO photos (session_id, content_hash, filename, taken_at, time_source, width, "
                    "height, n_faces, created_at) VALUES (:s, :h, 'old.jpg', :t, 'exif', 640, 480, :n, :t) "
                    "RETURNING id"
                ).bindparams(sa.bindparam("t", type_=sa.DateTime())),
                {"s": session_id, "h": uuid.uuid4().hex, "t": taken_at, "n": len(labels)},
            ).scalar_one()
        for label in labels:
            probabilities = [TOP_P if n == label else OTHER_P for n in EMOTIONS]
            values = [session_id, photo_id, "live" if live else "photo", taken_at, 10, 20, 30, 40, 30,
                      *probabilities, EMOTIONS.index(label), TOP_P]  # fmt: skip
            placeholders = ", ".join(f":{c}" for c in columns)
            connection.execute(
                sa.text(
                    f"INSERT INTO observations ({', '.join(columns)}) VALUES ({placeholders})"
                ).bindparams(sa.bindparam("observed_at", type_=sa.DateTime())),
                dict(zip(columns, values, strict=True)),
            )
        for table, period in (("minute_rollups", "minute"), ("hour_rollups", "hour")) if labels else ():
            start = bucket_of(taken_at, period)
            counts = {f"n_{n}": labels.count(n) for n in EMOTIONS}
            sums = {
                f"sum_p_{n}": TOP_P * labels.count(n) + OTHER_P * (len(labels) - labels.count(n))
                for n in EMOTIONS
            }
            row = {"session_id": session_id, "period_start": start, "faces": len(labels), "small_faces": 0,
                   **counts, **sums}  # fmt: skip
            names = ", ".join(row)
            connection.execute(
                sa.text(
                    f"INSERT INTO {table} ({names}) VALUES ({', '.join(f':{c}' for c in row)}) "
                    f"ON CONFLICT (session_id, period_start) DO UPDATE SET "
                    + ", ".join(
                        f"{c} = {table}.{c} + excluded.{c}"
                        for c in row
                        if c not in ("session_id", "period_start")
                    )
                ).bindparams(sa.bindparam("period_start", type_=sa.DateTime())),
                row,
            )


def test_migration_0006_adds_the_video_time_source_and_keeps_every_row(db_url: str) -> None:
    """SQLite edits `photos`' CHECK in place: a rebuild would lose observations to ON DELETE CASCADE."""
    engine = make_engine(db_url, migrate=False)
    try:
        migrate(engine, "0005")
        session_id = q.create_event_session(engine, "before 0006", actor=ADMIN)
        for hour in (9, 10):
            save_before_0007(engine, session_id, MON.replace(hour=hour), ["happy", "sad"])
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.exec_driver_sql("UPDATE photos SET time_source = 'video'")
        before = {t: count_rows(engine, t) for t in ("photos", "observations", "hour_rollups")}
        upgrade_to_head(engine)
        assert {t: count_rows(engine, t) for t in before} == before == {
            "photos": 2, "observations": 4, "hour_rollups": 2,
        }  # fmt: skip
        q.save_photo(
            engine, session_id, content_hash="f" * 64, filename="talk.mp4 @ 00:00:01.0",
            taken_at=MON.replace(hour=11), time_source="video", width=640, height=480,
            faces=faces("neutral"), model_id=FER2013_V2_ID, actor=ADMIN,
        )  # fmt: skip
        assert q.photo_results(engine, session_id)[-1]["time_source"] == "video"
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.exec_driver_sql("UPDATE photos SET time_source = 'guess'")
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        q.delete_event_session(engine, session_id, actor=ADMIN)  # the cascade still reaches observations
        assert count_rows(engine, "observations") == count_rows(engine, "photos") == 0
        # Down again: the 'video' frame becomes 'upload', nothing is lost.
        session_id = q.create_event_session(engine, "after 0006", actor=ADMIN)
        q.save_photo(
            engine, session_id, content_hash="e" * 64, filename="talk.mp4 @ 00:00:02.0", taken_at=MON,
            time_source="video", width=640, height=480, faces=faces("happy"),
            model_id=FER2013_V2_ID, actor=ADMIN,
        )  # fmt: skip
        migrate(engine, "0005", down=True)
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT time_source FROM photos").scalars().all()
        assert rows == ["upload"] and count_rows(engine, "observations") == 1
    finally:
        engine.dispose()


def _table_rows(engine: sa.Engine, table: str, order: str) -> list[dict]:
    """Every row as {column: value} (column order differs between a migrated and a fresh schema)."""
    with engine.connect() as connection:
        return [
            {k: round(v, 9) if isinstance(v, float) else v for k, v in row.items()}
            for row in connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {order}").mappings()
        ]


def test_migration_0007_records_the_model_and_keeps_every_row(db_url: str) -> None:
    """Photos, observations and rollups stored at 0006 all survive 0007, read as model v2's; on SQLite
    no table rebuild of `photos` cascade-deletes the observations. A new model then gets its own
    rollup rows in the same hour, and the downgrade sums them back into one row per hour."""
    engine = make_engine(db_url, migrate=False)
    try:
        migrate(engine, "0006")
        lecture = q.create_event_session(engine, "before 0007", actor=ADMIN)
        other = q.create_event_session(engine, "live only", actor=ADMIN)
        save_before_0007(engine, lecture, MON.replace(hour=9, minute=5), ["happy", "sad", "angry"])
        save_before_0007(engine, lecture, MON.replace(hour=9, minute=40), ["neutral"])
        save_before_0007(engine, lecture, MON.replace(hour=11), [])  # a photo without faces
        save_before_0007(engine, other, MON.replace(hour=10), ["fear", "happy"], live=True)
        tables = ("photos", "observations", "minute_rollups", "hour_rollups")
        orders = {"photos": "id", "observations": "id", "minute_rollups": "session_id, period_start",
                  "hour_rollups": "session_id, period_start"}  # fmt: skip
        before = {t: _table_rows(engine, t, orders[t]) for t in tables}
        assert {t: len(rows) for t, rows in before.items()} == {
            "photos": 3, "observations": 6, "minute_rollups": 3, "hour_rollups": 2,
        }  # fmt: skip
        trends_before = q.expression_trends(engine, "hour")

        upgrade_to_head(engine)
        assert current_revision(engine) == ScriptDirectory.from_config(alembic_config()).get_current_head()
        after = {t: _table_rows(engine, t, orders[t]) for t in tables}
        with engine.connect() as connection:
            for table in tables:
                models = connection.exec_driver_sql(f"SELECT DISTINCT model_id FROM {table}").scalars().all()
                assert models == [FER2013_V2_ID], table
            if engine.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        # Every row kept with all its values, plus the model id.
        for table in tables:
            assert [{k: v for k, v in r.items() if k != "model_id"} for r in after[table]] == before[table]
            assert all(r["model_id"] == FER2013_V2_ID for r in after[table])
        pd.testing.assert_frame_equal(q.expression_trends(engine, "hour"), trends_before)
        assert [i.models for i in q.list_event_sessions(engine)] == [(FER2013_V2_ID,), (FER2013_V2_ID,)]

        # The next model writes beside v2 in the same hour: two rollup rows, never one mixed total.
        save(engine, lecture, MON.replace(hour=9, minute=50), ["happy", "happy"], model_id=FERPLUS_V3_ID)
        models = q.model_totals(engine, "hour", [lecture])
        assert models[["model_id", "faces"]].values.tolist() == [[FER2013_V2_ID, 4], [FERPLUS_V3_ID, 2]]
        assert q.get_event_session(engine, lecture).models == (FER2013_V2_ID, FERPLUS_V3_ID)
        rebuilt_before = _rollup_snapshot(engine)
        q.rebuild_rollups(engine)  # the rollups equal a GROUP BY over the observations, models included
        assert _rollup_snapshot(engine) == rebuilt_before
        q.delete_event_session(engine, lecture, actor=ADMIN)  # the cascade still reaches observations
        assert count_rows(engine, "observations") == 2 and count_rows(engine, "photos") == 0

        # Down to 0006: each hour's models are summed back into one row; no observation is lost.
        save(engine, other, MON.replace(hour=10, minute=30), ["sad"], model_id=FERPLUS_V3_ID)
        trends_mixed = q.expression_trends(engine, "hour")
        migrate(engine, "0006", down=True)
        assert count_rows(engine, "observations") == 3
        assert count_rows(engine, "hour_rollups") == 1 and count_rows(engine, "minute_rollups") == 2
        with engine.connect() as connection:
            faces_in_hour = connection.exec_driver_sql("SELECT faces FROM hour_rollups").scalar_one()
        assert faces_in_hour == int(trends_mixed["bucket_faces"].iloc[0]) == 3
    finally:
        engine.dispose()


def _photo_counts(engine: sa.Engine) -> dict[int, tuple[int, int]]:
    """Per session: (its n_photos column, its photos counted)."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT s.id, s.n_photos, (SELECT count(*) FROM photos AS p WHERE p.session_id = s.id) "
            "FROM event_sessions AS s ORDER BY s.id"
        ).all()
    return {session_id: (n, counted) for session_id, n, counted in rows}


def test_migration_0008_counts_each_sessions_photos_and_keeps_every_row(db_url: str) -> None:
    """Sessions, photos, observations and rollups stored at 0007 survive 0008 unchanged and every session's
    n_photos is its photo count; the triggers keep it so through a save, a multi-row insert, a purge and a
    session's cascade; the index on observed_at alone is gone. The downgrade drops the column and the
    triggers, builds the index again and keeps every row."""
    engine = make_engine(db_url, migrate=False)
    try:
        upgrade_to_head(engine)  # written by today's code, then taken down to 0007's schema
        lecture = q.create_event_session(engine, "lecture", actor=ADMIN)
        empty = q.create_event_session(engine, "empty", actor=ADMIN)
        other = q.create_event_session(engine, "other", actor=ADMIN)
        for minute in (0, 10, 20):
            save(engine, lecture, MON.replace(hour=9, minute=minute), ["happy", "sad"])
        save(engine, lecture, MON.replace(hour=9, minute=30), [])  # a photo without faces
        save(engine, other, MON.replace(hour=10), ["neutral"])
        migrate(engine, "0007", down=True)
        tables = ("event_sessions", "photos", "observations", "minute_rollups", "hour_rollups")
        by_period = "session_id, period_start"
        orders = {"event_sessions": "id", "photos": "id", "observations": "id",
                  "minute_rollups": by_period, "hour_rollups": by_period}  # fmt: skip
        before = {t: _table_rows(engine, t, orders[t]) for t in tables}
        assert {t: len(rows) for t, rows in before.items()} == {
            "event_sessions": 3, "photos": 5, "observations": 7, "minute_rollups": 4, "hour_rollups": 2,
        }  # fmt: skip

        migrate(engine, "0008")
        after = {t: _table_rows(engine, t, orders[t]) for t in tables}
        assert [{k: v for k, v in r.items() if k != "n_photos"} for r in after["event_sessions"]] == before[
            "event_sessions"
        ]
        assert all(after[t] == before[t] for t in tables if t != "event_sessions")
        assert _photo_counts(engine) == {lecture: (4, 4), empty: (0, 0), other: (1, 1)}
        assert ("observed_at",) not in {
            tuple(i["column_names"]) for i in sa.inspect(engine).get_indexes("observations")
        }
        migrate(engine, "0009")  # today's code reads and writes the session rollups too
        assert [(i.id, i.n_photos) for i in q.list_event_sessions(engine)] == [
            (other, 1),
            (empty, 0),
            (lecture, 4),
        ]
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []

        # Every later write keeps the count: one photo, several in one statement, a purge, a cascade.
        save(engine, empty, MON.replace(hour=11), ["fear"])
        rows = [
            {"session_id": empty, "content_hash": f"{i}" * 64, "filename": f"{i}.jpg", "taken_at": MON,
             "time_source": "exif", "width": 640, "height": 480, "n_faces": 0, "model_id": FER2013_V2_ID}
            for i in range(3)
        ]  # fmt: skip
        with engine.begin() as connection:
            connection.execute(sa.insert(Base.metadata.tables["photos"]), rows)
        assert _photo_counts(engine)[empty] == (4, 4)
        purge_now = MON.replace(hour=9, minute=25) + timedelta(days=1)
        assert q.purge_observations_older_than(engine, 1, now=purge_now, actor=ADMIN) == 6
        counts = _photo_counts(engine)
        assert counts == {lecture: (1, 1), empty: (1, 1), other: (1, 1)}  # photos of 09:00-09:20 purged
        q.delete_event_session(engine, other, actor=ADMIN)
        assert _photo_counts(engine) == {lecture: (1, 1), empty: (1, 1)}
        assert q.get_event_session(engine, lecture).n_photos == 1

        # Down to 0007: the column and its triggers go, every row stays and photos can still be added.
        kept = {t: _table_rows(engine, t, orders[t]) for t in tables}
        migrate(engine, "0007", down=True)
        assert "n_photos" not in {c["name"] for c in sa.inspect(engine).get_columns("event_sessions")}
        assert ("observed_at",) in {
            tuple(i["column_names"]) for i in sa.inspect(engine).get_indexes("observations")
        }
        assert [
            {k: v for k, v in r.items() if k != "n_photos"} for r in kept["event_sessions"]
        ] == _table_rows(engine, "event_sessions", "id")
        assert all(_table_rows(engine, t, orders[t]) == kept[t] for t in tables if t != "event_sessions")
        with engine.begin() as connection:
            connection.execute(
                sa.insert(Base.metadata.tables["photos"]), rows[0] | {"content_hash": "f" * 64}
            )
        assert count_rows(engine, "photos") == 3
    finally:
        engine.dispose()


def _time(value: object) -> datetime:
    """A datetime read back by raw SQL (SQLite returns its text)."""
    return pd.Timestamp(value).to_pydatetime()


def test_migration_0009_sums_each_sessions_hours_and_keeps_every_row(db_url: str) -> None:
    """0009 fills the session rollups from the hour rollups (two models in one session, a live-only
    session, an empty one) and touches no other row; every later write (photos, live frames, a
    purge, a session's cascade) keeps them equal to a rebuild, and the all-time per-session reads
    that use them agree with the hour rollups. The downgrade drops the table and nothing else."""
    engine = make_engine(db_url, migrate=False)
    try:
        upgrade_to_head(engine)
        lecture = q.create_event_session(engine, "lecture", actor=ADMIN)
        live = q.create_event_session(engine, "live", actor=ADMIN)
        empty = q.create_event_session(engine, "empty", actor=ADMIN)
        save(engine, lecture, MON.replace(hour=9, minute=5), ["happy", "sad"])
        save(engine, lecture, MON.replace(hour=11, minute=40), ["neutral"])
        save(engine, lecture, MON.replace(hour=10), ["angry", "happy"], model_id=FERPLUS_V3_ID)
        q.save_live_observations(engine, live, MON.replace(hour=8), faces("fear"), model_id=FER2013_V2_ID)
        expected = _table_rows(engine, "session_rollups", "session_id, model_id")
        assert [
            (r["session_id"], r["model_id"], _time(r["first_hour"]), _time(r["last_hour"]), r["faces"])
            for r in expected
        ] == [
            (lecture, FER2013_V2_ID, MON.replace(hour=9), MON.replace(hour=11), 3),
            (lecture, FERPLUS_V3_ID, MON.replace(hour=10), MON.replace(hour=10), 2),
            (live, FER2013_V2_ID, MON.replace(hour=8), MON.replace(hour=8), 1),
        ]
        tables = ("event_sessions", "photos", "observations", "minute_rollups", "hour_rollups")
        orders = {"event_sessions": "id", "photos": "id", "observations": "id",
                  "minute_rollups": "session_id, period_start, model_id",
                  "hour_rollups": "session_id, period_start, model_id"}  # fmt: skip
        before = {t: _table_rows(engine, t, orders[t]) for t in tables}

        migrate(engine, "0008", down=True)
        assert "session_rollups" not in sa.inspect(engine).get_table_names()
        assert {t: _table_rows(engine, t, orders[t]) for t in tables} == before
        migrate(engine, "0009")
        assert _table_rows(engine, "session_rollups", "session_id, model_id") == expected
        assert {t: _table_rows(engine, t, orders[t]) for t in tables} == before
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []

        # All-time reads (session rollups) agree with a range covering everything (hour rollups).
        everything = (MON - timedelta(days=1), MON + timedelta(days=1))
        for by_model in (False, True):
            with engine.connect() as connection:
                all_time = wide_totals(connection, "session", None, None, None, by_model=by_model)
                ranged = wide_totals(connection, "session", None, *everything, by_model=by_model)
            pd.testing.assert_frame_equal(all_time, ranged)
        assert q.model_periods(engine) == q.model_periods(engine, None, *everything)
        assert {i.id: (i.n_faces, i.models) for i in q.list_event_sessions(engine)} == {
            lecture: (5, (FER2013_V2_ID, FERPLUS_V3_ID)), live: (1, (FER2013_V2_ID,)), empty: (0, ()),
        }  # fmt: skip

        # Later writes keep them equal to a rebuild from the observations.
        save(engine, empty, MON.replace(hour=7), ["surprise"])
        save(engine, lecture, MON.replace(hour=6), ["sad"], model_id=FERPLUS_V3_ID)
        q.save_live_observations(
            engine, live, MON.replace(hour=12), faces("happy", "happy"), model_id=FER2013_V2_ID
        )
        snapshot = _rollup_snapshot(engine)
        q.rebuild_rollups(engine)
        assert _rollup_snapshot(engine) == snapshot
        first_hours = {(r[0], r[1]): (_time(r[2]), _time(r[3])) for r in snapshot["session_rollups"]}
        assert first_hours[(lecture, FERPLUS_V3_ID)] == (MON.replace(hour=6), MON.replace(hour=10))
        q.purge_observations_older_than(
            engine, 1, now=MON.replace(hour=9, minute=30) + timedelta(days=1), actor=ADMIN
        )
        snapshot = _rollup_snapshot(engine)
        q.rebuild_rollups(engine)
        assert _rollup_snapshot(engine) == snapshot
        assert {(r[0], r[1]) for r in snapshot["session_rollups"]} == {
            (lecture, FER2013_V2_ID), (lecture, FERPLUS_V3_ID), (live, FER2013_V2_ID),
        }  # fmt: skip
        q.delete_event_session(engine, lecture, actor=ADMIN)
        assert count_rows(engine, "session_rollups", lecture) == 0
        assert count_rows(engine, "session_rollups") == 1
    finally:
        engine.dispose()
