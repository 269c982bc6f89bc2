"""`campus-fer`: folder imports with real photos in worker processes, verdicts and exit codes,
idempotent re-runs, an import killed with SIGKILL halfway and run again, and the other commands."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image
from typer.testing import CliRunner

from campus_fer.folder_import import find_photos
from cli import app
from db import queries, tokens
from db.engine import make_engine
from db.models import observations_table
from fer_core.config import PROJECT_ROOT
from fer_core.model_info import FER2013_V2_ID
from tests.actors import ADMIN
from tests.photos import encode, group_photo

CONSOLE_SCRIPT = Path(sys.executable).parent / "campus-fer"


def write_event(folder: Path, n_photos: int, seed: int = 0, size: tuple[int, int] = (1280, 720)) -> int:
    """JPEG group photos of 2-4 faces into `folder`; returns the number of faces."""
    folder.mkdir(parents=True, exist_ok=True)
    faces = 0
    for i in range(n_photos):
        n = 2 + (seed + i) % 3
        folder.joinpath(f"IMG_{i:04d}.jpg").write_bytes(
            encode(group_photo(n, size=size, seed=seed * 1000 + i)[0])
        )
        faces += n
    return faces


def run_cli(*args: str, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env={**os.environ, "CAMPUS_FER_DATABASE_URL": url, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            photos = connection.execute(
                sa.text("SELECT COUNT(*), COUNT(DISTINCT content_hash) FROM photos")
            ).one()
            faces = connection.execute(
                sa.select(sa.func.count()).select_from(observations_table)
            ).scalar_one()
        rolled_up = sum(s.n_faces for s in queries.list_event_sessions(engine))
    finally:
        engine.dispose()
    return {"photos": photos[0], "distinct": photos[1], "observations": faces, "rollup_faces": rolled_up}


def read_report(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["file"]: row["status"] for row in csv.DictReader(handle)}


def test_import_verdicts_report_and_rerun(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    photos = tmp_path / "card"
    faces = write_event(photos, 5, seed=1)
    faces += write_event(photos / "day2", 2, seed=2)
    exif = Image.Exif()
    exif[0x0132] = "2026-05-02 14:00:00".replace("-", ":")
    photos.joinpath("IMG_9000.HEIC").write_bytes(
        encode(group_photo(2, seed=3)[0], "HEIF", exif=exif.tobytes())
    )
    faces += 2
    photos.joinpath("notes.jpg").write_text("not a photo")
    photos.joinpath("readme.txt").write_text("ignored: not a photo extension")
    assert len(find_photos(photos)) == 7 and len(find_photos(photos, recursive=True)) == 9

    report = tmp_path / "verdicts.csv"
    first = run_cli(
        "import", str(photos), "--session", "Open day", "--create", "--recursive", "--workers", "2",
        "--report", str(report), url=url, cwd=tmp_path,
    )  # fmt: skip
    assert first.returncode == 1, first.stdout + first.stderr  # notes.jpg failed
    assert "not an image" in first.stdout and "photos/s" in first.stdout
    verdicts = read_report(report)
    assert verdicts.pop("notes.jpg") == "refused"
    assert set(verdicts.values()) == {"saved"} and "day2/IMG_0001.jpg" in verdicts
    assert counts(url) == {"photos": 8, "distinct": 8, "observations": faces, "rollup_faces": faces}
    engine = make_engine(url)
    [heic] = [p for p in queries.photo_results(engine, 1) if p["filename"] == "IMG_9000.HEIC"]
    engine.dispose()
    assert (heic["time_source"], heic["taken_at"].isoformat()) == ("exif", "2026-05-02T14:00:00")

    photos.joinpath("notes.jpg").unlink()
    again = run_cli(
        "import", str(photos), "--session", "Open day", "-r", "--report", str(report), url=url, cwd=tmp_path
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert set(read_report(report).values()) == {"duplicate"}
    assert counts(url)["photos"] == 8

    missing = run_cli("import", str(photos), "--session", "No such event", url=url, cwd=tmp_path)
    assert missing.returncode == 2 and "No session 'No such event'" in missing.stderr


#: Runs the CLI with the writer's observation insert held on its Nth call: photo N's row is flushed,
#: its transaction still open. It says so on the pipe and waits there until it is killed.
HELD_IMPORT = """
import os, sys, threading
from db import photo_writes
fd, hold_at = int(sys.argv.pop(1)), int(sys.argv.pop(1))
insert, calls = photo_writes._insert_observations, [0]
def held(*args, **kwargs):
    calls[0] += 1
    if calls[0] == hold_at:
        os.write(fd, b"held")
        threading.Event().wait()
    return insert(*args, **kwargs)
photo_writes._insert_observations = held
from cli import app
app(prog_name="campus-fer")
"""


def test_import_killed_halfway_and_rerun_stores_each_photo_once(tmp_path):
    """SIGKILL lands inside the writer's transaction for photo n/4 + 1 (an event from the importer,
    not a poll of the database), so the kill point is the same on every machine."""
    url = f"sqlite:///{tmp_path / 'killed.sqlite3'}"
    photos = tmp_path / "term"
    n_photos = 40
    faces = write_event(photos, n_photos, seed=4)
    args = [sys.executable, "-m", "cli", "import", str(photos), "--session", "Term", "--create"]
    env = {**os.environ, "CAMPUS_FER_DATABASE_URL": url, "PYTHONPATH": str(PROJECT_ROOT)}
    stored_before_kill = n_photos // 4
    read_end, write_end = os.pipe()
    # Its own process group, so SIGKILL reaches the importer and its worker processes at once.
    process = subprocess.Popen(
        [sys.executable, "-c", HELD_IMPORT, str(write_end), str(stored_before_kill + 1), *args[3:],
         "--workers", "2"],
        env=env, cwd=tmp_path, start_new_session=True, pass_fds=(write_end,),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_end)
    try:
        # Blocks until the importer holds (or ends: every writer of the pipe gone reads as b"").
        assert os.read(read_end, 4) == b"held", "the import ended before it was held"
        assert process.poll() is None
    finally:
        os.close(read_end)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    halfway = counts(url)
    assert halfway["photos"] == stored_before_kill, halfway  # the held photo's row was rolled back
    assert halfway["observations"] == halfway["rollup_faces"] > 0  # no half-written photo

    report = tmp_path / "rerun.csv"
    rerun = subprocess.run(
        [*args, "--report", str(report)], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    verdicts = list(read_report(report).values())
    assert verdicts.count("duplicate") == halfway["photos"]
    assert verdicts.count("saved") == n_photos - halfway["photos"]
    assert counts(url) == {
        "photos": n_photos,
        "distinct": n_photos,
        "observations": faces,
        "rollup_faces": faces,
    }


def test_console_script_is_installed():
    """scripts/setup.sh installs the project in editable mode, which creates `campus-fer`."""
    assert CONSOLE_SCRIPT.exists(), "run `bash scripts/setup.sh` (pip install -e .)"
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "--help"], capture_output=True, text=True, cwd="/", check=False
    )
    assert result.returncode == 0 and "import" in result.stdout


@pytest.fixture
def runner_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'commands.sqlite3'}"


def invoke(url: str, *args: str, input: str | None = None):
    result = CliRunner().invoke(app, ["--database-url", url, *args], input=input)
    return result


def test_sessions_trends_purge_and_tokens(runner_url, tmp_path):
    engine = make_engine(runner_url)
    session_id = queries.create_event_session(engine, "Lecture 1", actor=ADMIN)
    probabilities = np.tile([0.05, 0.05, 0.05, 0.6, 0.1, 0.05, 0.1], (7, 1))
    old = np.datetime64("2020-01-01T10:00")
    recent = np.datetime64("2026-11-30T10:00")
    when = [old.astype("datetime64[us]").item()] * 2 + [recent.astype("datetime64[us]").item()] * 5
    queries.bulk_insert_observations(
        engine, [session_id] * 7, when, probabilities, boxes=np.full((7, 4), 64), model_id=FER2013_V2_ID
    )

    listed = invoke(runner_url, "sessions", "list")
    assert listed.exit_code == 0 and "Lecture 1" in listed.output
    shown = invoke(runner_url, "sessions", "show", "Lecture 1")
    assert shown.exit_code == 0 and "happy" in shown.output and "100.0%" in shown.output
    csv_path = tmp_path / "trends.csv"
    trended = invoke(runner_url, "trends", "--bucket", "day", "--csv", str(csv_path))
    assert trended.exit_code == 0
    assert csv_path.read_text().startswith("bucket_start,expression")  # the 2-face day is hidden (< 5)
    assert "1 bucket(s) with fewer than 5 faces hidden" in trended.output
    assert invoke(runner_url, "trends", "--bucket", "year").exit_code == 2

    purged = invoke(runner_url, "purge", "--older-than", "180d", "--yes")
    assert purged.exit_code == 0 and "2 observations" in purged.output
    assert invoke(runner_url, "purge", "--older-than", "soon", "--yes").exit_code == 2

    created = invoke(runner_url, "token", "create", "kiosk hall A", "--scope", "write")
    assert created.exit_code == 0
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith(tokens.TOKEN_PREFIX)
    assert tokens.find_active_token(engine, secret).scope == "write"
    listed_tokens = invoke(runner_url, "token", "list")
    assert "kiosk hall A" in listed_tokens.output and secret not in listed_tokens.output
    assert invoke(runner_url, "token", "revoke", "1").exit_code == 0
    assert tokens.find_active_token(engine, secret) is None
    assert invoke(runner_url, "token", "revoke", "1").exit_code == 2

    refused = invoke(runner_url, "sessions", "delete", "Lecture 1", input="n\n")
    assert refused.exit_code == 1 and queries.get_event_session(engine, session_id) is not None
    assert invoke(runner_url, "sessions", "delete", str(session_id), "--yes").exit_code == 0
    assert queries.get_event_session(engine, session_id) is None
    engine.dispose()


def test_video_and_report_commands(runner_url, tmp_path):
    from tests.test_video import write_clip

    engine = make_engine(runner_url)
    queries.create_event_session(engine, "Keynote", actor=ADMIN)
    clip = write_clip(tmp_path / "keynote.mp4", [0.0, 1.0, 2.0, 3.0])
    analysed = invoke(runner_url, "video", str(clip), "--session", "Keynote", "--start", "2026-11-30 10:00")
    assert analysed.exit_code == 0, analysed.output
    assert "4 frames sampled: 4 saved" in analysed.output
    photos = queries.photo_results(engine, queries.list_event_sessions(engine)[0].id)
    assert [p["filename"] for p in photos][:2] == ["keynote.mp4 @ 00:00:00.0", "keynote.mp4 @ 00:00:01.0"]
    assert photos[1]["taken_at"].isoformat() == "2026-11-30T10:00:01"
    again = invoke(runner_url, "video", str(clip), "--session", "Keynote", "--start", "2026-11-30 10:00")
    assert "4 already stored" in again.output  # nothing counted twice

    broken = tmp_path / "cut.mp4"
    broken.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    failed = invoke(runner_url, "video", str(broken), "--session", "Keynote", "--start", "2026-11-30 11:00")
    assert failed.exit_code == 1

    out = tmp_path / "keynote.html"
    written = invoke(runner_url, "report", "Keynote", "--out", str(out))
    assert written.exit_code == 0, written.output
    html = out.read_text()
    assert "Keynote" in html and "<img" not in html  # aggregates and charts only, no face images
    engine.dispose()
