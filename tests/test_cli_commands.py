"""The CLI commands that cover what the app does: `sessions create`, `video --create` with the start
time from the file, `import` of a folder of photos and clips, `--json` output, and bad input
(unknown session, unreadable clip, clip without a creation time and no --start). Real faces, real
recognizer, a real SQLite file."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import cli
from db import queries
from db.engine import make_engine
from tests.actors import ADMIN
from tests.photos import encode, group_photo
from tests.test_video import write_clip

CREATED = "2026-05-03T09:15:00.000000Z"
CLIP_TIMES = [0.0, 1.0, 2.0]  # three sampled frames, three faces each (write_clip's default)


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at 80 columns when not on a terminal; wide consoles keep each line whole."""
    monkeypatch.setattr(cli.context, "console", Console(width=200))
    monkeypatch.setattr(cli.context, "errors", Console(width=200, stderr=True))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'commands.sqlite3'}"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    timed = write_clip(
        folder / "keynote.mp4", CLIP_TIMES, size=(640, 360), metadata={"creation_time": CREATED}
    )
    untimed = write_clip(folder / "untimed.mp4", CLIP_TIMES, size=(640, 360))
    broken = folder / "broken.mp4"
    broken.write_bytes(timed.read_bytes()[:2000])  # the header only: no index, no frames
    return {"timed": timed, "untimed": untimed, "broken": broken}


def invoke(url: str, *args: str):
    return CliRunner().invoke(cli.app, ["--database-url", url, *args])


def stored(url: str, name: str) -> list[dict]:
    engine = make_engine(url)
    try:
        [info] = [s for s in queries.list_event_sessions(engine) if s.name == name]
        return queries.photo_results(engine, info.id)
    finally:
        engine.dispose()


def test_sessions_create_list_and_show_as_json(url):
    created = invoke(url, "sessions", "create", "Open day", "--date", "2026-05-03", "--tags", "campus, tour")
    assert created.exit_code == 0, created.output
    assert "Created session Open day (id 1)" in created.output
    taken = invoke(url, "sessions", "create", "Open day")
    assert taken.exit_code == 2 and "already exists" in taken.output
    assert invoke(url, "sessions", "create", "  ").exit_code == 2

    listed = invoke(url, "sessions", "list", "--json")
    assert listed.exit_code == 0
    [session] = json.loads(listed.stdout)
    assert session["name"] == "Open day" and session["event_date"] == "2026-05-03"
    assert session["tags"] == ["campus", "tour"] and (session["photos"], session["faces"]) == (0, 0)

    shown = invoke(url, "sessions", "show", "Open day", "--json")
    document = json.loads(shown.stdout)
    assert (document["id"], document["mix"], document["min_faces"]) == (1, [], 5)
    missing = invoke(url, "sessions", "show", "No such day", "--json")
    assert missing.exit_code == 2 and "No session 'No such day'" in missing.output


def test_video_create_takes_the_start_from_the_files_creation_time(url, clips):
    done = invoke(url, "video", str(clips["timed"]), "--session", "Keynote", "--create")
    assert done.exit_code == 0, done.output
    assert "Start time from the file's creation time: 2026-05-03 09:15:00 UTC" in done.output
    assert "3 frames sampled: 3 saved with 9 faces" in done.output
    photos = stored(url, "Keynote")
    assert [p["taken_at"] for p in photos] == [datetime(2026, 5, 3, 9, 15, s) for s in (0, 1, 2)]

    explicit = invoke(
        url, "video", str(clips["untimed"]), "--session", "Keynote", "--start", "2026-05-03 11:00"
    )
    assert explicit.exit_code == 0 and "creation time" not in explicit.output
    assert stored(url, "Keynote")[-1]["taken_at"] == datetime(2026, 5, 3, 11, 0, 2)


def test_video_refuses_unknown_sessions_unreadable_clips_and_missing_start_times(url, clips):
    unknown = invoke(url, "video", str(clips["timed"]), "--session", "Nobody")
    assert unknown.exit_code == 2 and "No session 'Nobody'" in unknown.output
    engine = make_engine(url)
    queries.create_event_session(engine, "Keynote", actor=ADMIN)
    engine.dispose()
    untimed = invoke(url, "video", str(clips["untimed"]), "--session", "Keynote")
    assert untimed.exit_code == 2
    assert "untimed.mp4 has no creation time" in untimed.output and "--start" in untimed.output
    broken = invoke(url, "video", str(clips["broken"]), "--session", "Keynote")
    assert broken.exit_code == 1 and "cannot read this video" in broken.output
    assert stored(url, "Keynote") == []


def write_folder(folder: Path, clip: Path) -> Path:
    """Three photos of 2, 3 and 4 faces and one clip, as a camera card from an event."""
    folder.mkdir()
    for i, faces in enumerate((2, 3, 4)):
        folder.joinpath(f"IMG_{i}.jpg").write_bytes(encode(group_photo(faces, seed=20 + i)[0]))
    folder.joinpath(clip.name).write_bytes(clip.read_bytes())
    return folder


def test_import_takes_photos_and_clips_from_one_folder(url, clips, tmp_path):
    folder = write_folder(tmp_path / "card", clips["timed"])
    args = ("import", str(folder), "--session", "Open day", "--create", "--workers", "1")
    done = invoke(url, *args, "--json")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["session"]["name"] == "Open day" and summary["failed"] == 0
    assert summary["photo_totals"] == {"saved": {"files": 3, "faces": 9}}
    assert [p["file"] for p in summary["photos"]] == ["IMG_0.jpg", "IMG_1.jpg", "IMG_2.jpg"]
    [video] = summary["videos"]
    assert video == {
        "file": "keynote.mp4", "start": "2026-05-03T09:15:00", "start_source": "the file's creation time",
        "frames": 3, "saved": 3, "faces": 9, "duplicates": 0, "error": None,
    }  # fmt: skip
    assert len(stored(url, "Open day")) == 6  # 3 photos + 3 frames

    again = invoke(url, *args)  # the human summary; nothing stored twice
    assert again.exit_code == 0, again.output
    assert "video keynote.mp4: 3 frames sampled: 0 saved with 0 faces, 3 already stored" in again.output
    assert "duplicate" in again.output and len(stored(url, "Open day")) == 6


def test_import_stops_before_storing_when_a_clip_has_no_start_time(url, clips, tmp_path):
    folder = write_folder(tmp_path / "card", clips["untimed"])
    args = ("import", str(folder), "--session", "Open day", "--create", "--workers", "1")
    refused = invoke(url, *args)
    assert refused.exit_code == 2 and "untimed.mp4: no creation time" in refused.output
    assert stored(url, "Open day") == []  # the session was made, nothing imported
    done = invoke(url, *args, "--start", "2026-05-03 14:00", "--json")
    assert done.exit_code == 0, done.output
    [video] = json.loads(done.stdout)["videos"]
    assert (video["start"], video["start_source"], video["faces"]) == ("2026-05-03T14:00:00", "--start", 9)


def test_import_reports_an_unreadable_clip_and_keeps_the_rest(url, clips, tmp_path):
    folder = tmp_path / "card"
    folder.mkdir()
    folder.joinpath("IMG_0.jpg").write_bytes(encode(group_photo(2, seed=5)[0]))
    folder.joinpath("broken.mp4").write_bytes(clips["broken"].read_bytes())
    done = invoke(url, "import", str(folder), "--session", "Open day", "--create", "--workers", "1")
    assert done.exit_code == 1
    assert "error broken.mp4: cannot read this video" in done.output and "1 file(s) failed" in done.output
    assert [p["filename"] for p in stored(url, "Open day")] == ["IMG_0.jpg"]
    unknown = invoke(url, "import", str(folder), "--session", "Nobody")
    assert unknown.exit_code == 2 and "No session 'Nobody'" in unknown.output


def test_trends_as_json(url, clips):
    assert invoke(url, "video", str(clips["timed"]), "--session", "Keynote", "--create").exit_code == 0
    done = invoke(url, "trends", "--bucket", "hour", "--json")
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert (document["bucket"], document["min_faces"], document["hidden_buckets"]) == ("hour", 5, 0)
    rows = document["rows"]
    assert {r["bucket_start"] for r in rows} == {"2026-05-03T09:00:00"}
    assert {r["bucket_faces"] for r in rows} == {9} and len(rows) == 7
    assert abs(sum(r["share"] for r in rows) - 1) < 1e-3
    assert date.fromisoformat(rows[0]["bucket_start"][:10]) == date(2026, 5, 3)
