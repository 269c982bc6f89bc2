"""`campus-fer video`: a recorded video into a session, with its start time from the file when the
camera wrote one. `recording_start` and `analyse_video` are shared with `campus-fer import`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from campus_fer.ingest import FileOutcome
from campus_fer.video import DEFAULT_INTERVAL_S, VideoError, probe_video
from campus_fer.video_ingest import VideoResult, ingest_video
from cli import context
from cli.context import ACTOR, find_session, progress_bar
from db import queries
from fer_core.config import served_model_path
from fer_core.recognizer import Recognizer

START_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
FROM_FILE = "the file's creation time"
FROM_OPTION = "--start"


@dataclass(frozen=True)
class RecordingStart:
    """When a recording began (naive UTC) and where that came from (FROM_FILE or FROM_OPTION)."""

    at: datetime
    source: str


class NoStartTime(ValueError):
    """The file carries no creation time and no --start was given."""


def recording_start(path: Path, start: datetime | None, *, option_wins: bool) -> RecordingStart:
    """The start time for a video's frames: the container's creation time or --start.

    `option_wins`: an explicit --start overrides the file (one video); otherwise --start only fills in
    for files without a creation time (a folder of clips, each with its own). VideoError when the file
    cannot be read (only probed when needed); NoStartTime when neither gives a time."""
    if start is not None and option_wins:
        return RecordingStart(start, FROM_OPTION)
    created = probe_video(path).creation_time
    if created is not None:
        return RecordingStart(created, FROM_FILE)
    if start is not None:
        return RecordingStart(start, FROM_OPTION)
    raise NoStartTime(
        f"{path.name} has no creation time in its container, so its start time is not known: "
        "give it with --start 'YYYY-MM-DD HH:MM' (UTC)."
    )


def analyse_video(
    recognizer: Recognizer, session: queries.SessionInfo, path: Path, start: datetime, interval: float
) -> VideoResult:
    """One video through campus_fer.video_ingest, with a progress bar on stderr."""
    with progress_bar("frames") as progress:
        task = progress.add_task(f"Analysing {path.name}", total=None, rate="-")
        started = time.perf_counter()

        def advance(done: int, expected: int | None, _outcome: FileOutcome) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=done, total=expected, rate=f"{rate:.1f}")

        return ingest_video(
            context.engine(), recognizer, session.id, path, filename=path.name, start=start,
            interval_s=interval, on_progress=advance, actor=ACTOR,
        )  # fmt: skip


def video_line(result: VideoResult) -> str:
    """The one-line summary of a video: frames sampled, saved with how many faces, already stored."""
    saved = result.count("saved", "no_face")
    return (
        f"{len(result.frames)} frames sampled: {saved} saved with {result.faces_saved} faces, "
        f"{result.count('duplicate')} already stored"
    )


def session_for_upload(key: str, create: bool) -> queries.SessionInfo:
    """The session named `key` (or with id `key`); with `create`, made when no session has that name."""
    engine = context.engine()
    existing = [s for s in queries.list_event_sessions(engine) if s.name == key.strip()]
    if existing:
        return existing[0]
    if create:
        try:
            session_id = queries.create_event_session(engine, key, actor=ACTOR)
        except ValueError as exc:
            raise context.fail(escape(str(exc))) from None
        context.errors.print(f"Created session [bold]{escape(key.strip())}[/bold] (id {session_id}).")
        created = queries.get_event_session(engine, session_id)
        assert created is not None  # just made, in this process
        return created
    return find_session(engine, key)


def video(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="MP4/WebM/MOV/MKV recording")],
    session: Annotated[str, typer.Option("--session", help="session name or id")],
    start: Annotated[
        datetime | None,
        typer.Option(formats=START_FORMATS, help="recording start (UTC); default: the file's creation time"),
    ] = None,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="seconds between frames")
    ] = DEFAULT_INTERVAL_S,
    create: Annotated[bool, typer.Option("--create", help="create the session if it does not exist")] = False,
) -> None:
    """Analyse a recorded video into a session: one frame every --interval seconds, each frame in its
    own transaction (nothing of the video is kept).

    Without --start the frames are timed from the container's creation time; a file without one needs
    --start (exit 2). Exit code 1 when the video could not be read whole."""
    info = session_for_upload(session, create)
    try:
        begins = recording_start(path, start, option_wins=True)
    except NoStartTime as exc:
        raise context.fail(escape(str(exc))) from None
    except VideoError as exc:
        raise context.fail(escape(f"{path.name}: {exc}"), 1) from None
    if begins.source == FROM_FILE:
        context.console.print(f"Start time from the file's creation time: {begins.at:%Y-%m-%d %H:%M:%S} UTC.")
    recognizer = Recognizer(served_model_path(context.state.settings.model))
    result = analyse_video(recognizer, info, path, begins.at, interval)
    context.console.print(f"{video_line(result)}, into session '{escape(info.name)}'.")
    if result.error:
        context.errors.print(f"[red]{escape(result.error)}[/red]")
        raise typer.Exit(1)
