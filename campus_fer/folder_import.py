"""A folder of photos through the ingest core on every core: worker processes analyse, one writer stores.

libfacedetection (yuface) holds the GIL while it detects: another Python thread gets ~5% of its
normal progress during a `yuface.detect` call (measured by benchmarks/yuface_gil.py), so
threads cannot spread detection over cores. Each worker process therefore has its own
Recognizer and analyses chunks of files; the chunks come back in file order to this process, the
only database writer, which saves each photo in its own transaction (campus_fer.ingest).
Files already in the session (same content hash) are not decoded again, so re-running an import,
or resuming one that was killed, stores every photo exactly once.
"""

from __future__ import annotations

import csv
import multiprocessing
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sqlalchemy.engine import Engine

from campus_fer.ingest import (
    ALLOWED_EXTENSIONS,
    Analysis,
    FileOutcome,
    PhotoFile,
    analyse_photos,
    skipped_after_db_errors,
    store_analyses,
)
from campus_fer.video import VIDEO_EXTENSIONS
from db.photo_index import stored_photos
from db.roles import Actor
from fer_core.recognizer import Recognizer

#: Files per task sent to a worker: their faces share one model call; small enough to keep the
#: workers evenly busy and the progress bar moving.
PHOTOS_PER_TASK = 4
#: (path on disk, name stored and shown) of one file to import.
FileRef = tuple[str, str]


def find_photos(folder: Path, recursive: bool = False) -> list[Path]:
    """Every JPEG/PNG/WebP/HEIC file in `folder` (and below it, if `recursive`), sorted by path."""
    return _find(folder, recursive, ALLOWED_EXTENSIONS)


def find_videos(folder: Path, recursive: bool = False) -> list[Path]:
    """Every MP4/MOV/WebM/MKV file in `folder` (and below it, if `recursive`), sorted by path: an
    event's folder often holds clips next to the photos, and they go through campus_fer.video_ingest."""
    return _find(folder, recursive, VIDEO_EXTENSIONS)


def _find(folder: Path, recursive: bool, extensions: Collection[str]) -> list[Path]:
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        path for path in candidates if path.is_file() and path.suffix.lower().lstrip(".") in extensions
    )


def file_refs(paths: Sequence[Path], root: Path) -> list[FileRef]:
    """Each file with the name it is stored under: its path relative to the imported folder."""
    return [(str(path), path.relative_to(root).as_posix()) for path in paths]


def _read(ref: FileRef) -> PhotoFile | Analysis:
    path, name = ref
    try:
        return PhotoFile(name, Path(path).read_bytes())
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return Analysis(
            name,
            "",
            refused=f"Could not read the file ({reason}); nothing was saved.",
            refused_kind="unreadable",
        )


def analyse_files(
    recognizer: Recognizer, refs: Sequence[FileRef], *, max_bytes: int, skip_hashes: Collection[str]
) -> list[Analysis]:
    """Read and analyse files in order on this process (worker processes and Ray workers call this)."""
    read = [_read(ref) for ref in refs]
    analysed = iter(
        analyse_photos(
            recognizer,
            [item for item in read if isinstance(item, PhotoFile)],
            max_bytes=max_bytes,
            workers=1,
            skip_hashes=skip_hashes,
        )
    )
    return [next(analysed) if isinstance(item, PhotoFile) else item for item in read]


# Worker-process state: one recognizer per process, built once by the pool's initializer.
_worker: dict[str, object] = {}


def _start_worker(model_path: str, max_bytes: int, skip_hashes: frozenset[str]) -> None:
    _worker.update(recognizer=Recognizer(model_path), max_bytes=max_bytes, skip_hashes=skip_hashes)


def _analyse_in_worker(refs: list[FileRef]) -> list[Analysis]:
    recognizer = _worker["recognizer"]
    assert isinstance(recognizer, Recognizer)
    return analyse_files(
        recognizer,
        refs,
        max_bytes=int(_worker["max_bytes"]),
        skip_hashes=_worker["skip_hashes"],  # type: ignore[arg-type]
    )


def import_files(
    engine: Engine,
    session_id: int,
    refs: Sequence[FileRef],
    *,
    model_path: str | Path,
    max_bytes: int,
    workers: int,
    on_progress: Callable[[int, FileOutcome], None] | None = None,
    actor: Actor,
) -> list[FileOutcome]:
    """Analyse `refs` on `workers` processes and store them here; one verdict per file, in order."""
    known = stored_photos(engine, session_id)
    chunks = [list(refs[i : i + PHOTOS_PER_TASK]) for i in range(0, len(refs), PHOTOS_PER_TASK)]
    pool = ProcessPoolExecutor(
        max_workers=max(1, workers),
        mp_context=multiprocessing.get_context("spawn"),  # no fork of a process holding db connections
        initializer=_start_worker,
        initargs=(str(model_path), max_bytes, frozenset(known)),
    )
    try:
        analysed: Iterator[Analysis] = (a for chunk in pool.map(_analyse_in_worker, chunks) for a in chunk)
        outcomes = list(
            store_analyses(engine, session_id, analysed, on_progress=on_progress, known=known, actor=actor)
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return outcomes + skipped_rest(refs, len(outcomes), on_progress)


def skipped_rest(
    refs: Sequence[FileRef], done: int, on_progress: Callable[[int, FileOutcome], None] | None
) -> list[FileOutcome]:
    """Verdicts for the files after the writer stopped (the database kept failing)."""
    rest = []
    for index, (_, name) in enumerate(refs[done:], start=done):
        outcome = skipped_after_db_errors(name)
        if on_progress is not None:
            on_progress(index, outcome)
        rest.append(outcome)
    return rest


REPORT_COLUMNS = ("file", "status", "faces", "photo_id", "taken_at", "time_source", "message")


def write_report(outcomes: Sequence[FileOutcome], path: Path) -> None:
    """One CSV row per file: what happened to it and why."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for o in outcomes:
            taken = o.taken_at.isoformat(sep=" ") if o.taken_at else ""
            writer.writerow(
                (o.filename, o.status, o.n_faces, o.photo_id or "", taken, o.time_source or "", o.message)
            )
