"""`campus-fer import`: a folder of event photos and video clips into a session.

Photos are analysed on every core (or a Ray cluster) by campus_fer.folder_import; clips go one by one
through campus_fer.video_ingest, each timed from its own creation time (or --start)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from campus_fer.folder_import import file_refs, find_photos, find_videos, import_files, write_report
from campus_fer.ingest import ALLOWED_EXTENSIONS, BatchSummary, FileOutcome
from campus_fer.video import VIDEO_EXTENSIONS, VideoError
from campus_fer.video_ingest import VideoResult
from cli import context
from cli.context import ACTOR, available_cores, progress_bar
from cli.output import print_json
from cli.video import (
    START_FORMATS,
    NoStartTime,
    RecordingStart,
    analyse_video,
    recording_start,
    session_for_upload,
    video_line,
)
from db import queries
from fer_core.config import served_model_path
from fer_core.recognizer import Recognizer

STATUSES = ("saved", "no_face", "duplicate", "refused", "error", "db_error", "skipped")


@dataclass
class VideoImport:
    """One clip of the folder: its start time (None when it could not be read) and what was stored."""

    path: Path
    start: RecordingStart | None
    result: VideoResult

    def as_dict(self) -> dict[str, Any]:
        """Keys: file, start (ISO, UTC), start_source ('the file's creation time' or '--start'),
        frames, saved, faces, duplicates, error (null when read whole)."""
        return {
            "file": self.path.name,
            "start": self.start.at if self.start else None,
            "start_source": self.start.source if self.start else None,
            "frames": len(self.result.frames),
            "saved": self.result.count("saved", "no_face"),
            "faces": self.result.faces_saved,
            "duplicates": self.result.count("duplicate"),
            "error": self.result.error,
        }


def import_folder(
    folder: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="folder of photos and video clips")
    ],
    session: Annotated[str, typer.Option("--session", help="session name (or id)")],
    create: Annotated[bool, typer.Option("--create", help="create the session if it does not exist")] = False,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="include sub-folders")] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="analysing processes (default: one per core)")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="write a CSV with one row per photo")
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option("--ray", metavar="auto|ADDRESS", help="analyse photos on a Ray cluster")
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option(formats=START_FORMATS, help="start (UTC) of clips whose file has no creation time"),
    ] = None,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="seconds between video frames")
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON for scripts")] = False,
) -> None:
    """Import every JPEG/PNG/WebP/HEIC photo and MP4/MOV/WebM/MKV clip of FOLDER into a session.

    Photos: one transaction each. Clips: one frame every --interval seconds, timed from the file's
    creation time (--start for clips without one; exit 2 before anything is stored when a clip has
    neither). Re-running it saves nothing twice (content hash); exit code 1 when any file failed.

    --json prints {"session": {"id", "name"}, "seconds", "photos": [{"file", "status", "faces",
    "message"}], "photo_totals": {status: {"files", "faces"}}, "videos": [see VideoImport.as_dict],
    "failed"} on stdout (the progress and notes go to stderr).
    """
    say = context.errors if as_json else context.console
    info = session_for_upload(session, create)
    photos = file_refs(find_photos(folder, recursive), folder)
    clips = _clips_with_start(find_videos(folder, recursive), start)
    if not photos and not clips:
        kinds = "/".join(e.upper() for e in (*ALLOWED_EXTENSIONS, *VIDEO_EXTENSIONS))
        say.print(f"No {kinds} files in {folder}.")
        return
    started = time.perf_counter()
    outcomes = _import_photos(info, photos, workers, ray_address, say) if photos else []
    photo_seconds = time.perf_counter() - started
    _import_videos(info, clips, interval, say)
    seconds = time.perf_counter() - started
    failed = BatchSummary(outcomes).failed + sum(c.result.error is not None for c in clips)
    if report is not None:
        write_report(outcomes, report)
        say.print(f"Verdicts written to {report}.")
    if as_json:
        print_json(_summary_json(info, outcomes, clips, seconds, failed))
    else:
        _print_summary(outcomes, clips, photo_seconds)
    if failed:
        raise typer.Exit(1)


def _clips_with_start(paths: list[Path], start: datetime | None) -> list[VideoImport]:
    """Each clip with its start time; an unreadable clip keeps its error for the summary. Exit 2,
    before anything is stored, when a clip has no creation time and no --start was given."""
    clips, untimed = [], []
    for path in paths:
        try:
            clips.append(
                VideoImport(path, recording_start(path, start, option_wins=False), VideoResult(path.name))
            )
        except NoStartTime:
            untimed.append(path.name)
        except VideoError as exc:
            clips.append(VideoImport(path, None, VideoResult(path.name, error=str(exc))))
    if untimed:
        raise context.fail(
            escape(f"{', '.join(untimed)}: no creation time in the file, so the start time is not known. ")
            + "Give it with --start 'YYYY-MM-DD HH:MM' (UTC); nothing was imported."
        )
    return clips


def _import_photos(
    info: queries.SessionInfo, refs: list, workers: int | None, ray_address: str | None, say: Any
) -> list[FileOutcome]:
    """The photos on worker processes (or Ray), with a progress bar; one verdict per file."""
    settings = context.state.settings
    engine = context.engine()
    workers = workers or available_cores()
    where = (
        f"Ray cluster {ray_address}" if ray_address else f"{workers} worker process{'es' * (workers != 1)}"
    )
    say.print(f"Importing {len(refs)} photos into session {info.id} on {where}.")
    started = time.perf_counter()
    with progress_bar("photos") as progress:
        task = progress.add_task("Importing", total=len(refs), rate="-")

        def advance(_index: int, _outcome: FileOutcome) -> None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            done = progress.tasks[task].completed + 1
            progress.update(task, advance=1, rate=f"{done / elapsed:.1f}")

        options = {"max_bytes": settings.max_upload_bytes, "on_progress": advance}
        model = served_model_path(settings.model)
        if ray_address:
            from campus_fer.ray_import import import_with_ray  # Ray is an optional extra

            return import_with_ray(
                engine, info.id, refs, address=ray_address, model_path=model, actor=ACTOR, **options
            )
        return import_files(engine, info.id, refs, model_path=model, workers=workers, actor=ACTOR, **options)


def _import_videos(info: queries.SessionInfo, clips: list[VideoImport], interval: float, say: Any) -> None:
    """Each readable clip through the video path, one after the other (results kept on the clip)."""
    readable = [c for c in clips if c.start is not None]
    if not readable:
        return
    recognizer = Recognizer(served_model_path(context.state.settings.model))
    for clip in readable:
        assert clip.start is not None
        say.print(
            f"{clip.path.name}: start time from {clip.start.source}: {clip.start.at:%Y-%m-%d %H:%M:%S} UTC."
        )
        clip.result = analyse_video(recognizer, info, clip.path, clip.start.at, interval)


def _print_summary(outcomes: list[FileOutcome], clips: list[VideoImport], photo_seconds: float) -> None:
    """A table of photo verdicts (with the photo rate), one line per clip, then every failure."""
    console = context.console
    if outcomes:
        rate = len(outcomes) / max(photo_seconds, 1e-9)
        console.print(f"{len(outcomes)} photos in {photo_seconds:.1f} s: {rate:.1f} photos/s")
        table = Table("verdict", "files", "faces")
        for status, row in _photo_totals(outcomes).items():
            table.add_row(status, str(row["files"]), str(row["faces"]))
        console.print(table)
    for clip in clips:
        console.print(f"video {escape(clip.path.name)}: {video_line(clip.result)}")
    for outcome in (o for o in outcomes if not o.ok):
        console.print(f"[red]{outcome.status}[/red] {escape(outcome.filename)}: {escape(outcome.message)}")
    for clip in (c for c in clips if c.result.error):
        console.print(f"[red]error[/red] {escape(clip.path.name)}: {escape(clip.result.error or '')}")
    failed = BatchSummary(outcomes).failed + sum(c.result.error is not None for c in clips)
    if failed:
        console.print(f"[red]{failed} file(s) failed[/red]; fix them and run the same command again.")


def _photo_totals(outcomes: list[FileOutcome]) -> dict[str, dict[str, int]]:
    totals = {}
    for status in STATUSES:
        rows = [o for o in outcomes if o.status == status]
        if rows:
            totals[status] = {"files": len(rows), "faces": sum(o.n_faces for o in rows)}
    return totals


def _summary_json(
    info: queries.SessionInfo,
    outcomes: list[FileOutcome],
    clips: list[VideoImport],
    seconds: float,
    failed: int,
) -> dict[str, Any]:
    return {
        "session": {"id": info.id, "name": info.name},
        "seconds": round(seconds, 2),
        "photos": [
            {"file": o.filename, "status": o.status, "faces": o.n_faces, "message": o.message}
            for o in outcomes
        ],
        "photo_totals": _photo_totals(outcomes),
        "videos": [c.as_dict() for c in clips],
        "failed": failed,
    }
