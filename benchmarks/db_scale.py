"""Does the database stay fast at a term's worth of data? Fill a fresh one and time the app's queries.

    python -m benchmarks.db_scale --backend both --observations 1000000 --sessions 1000

Creates `--sessions` event sessions of 30-180 minutes on weekdays of a ~15-week term, with
`--observations` faces in all (70 % from photos, 30 % from live frames), inserted in batches
through `db.queries.bulk_insert_observations`; then times each trends query (median of
`--repeats` runs). SQLite uses a temporary file; PostgreSQL a scratch schema (dropped at the end)
in the database of --pg-url or $CAMPUS_FER_TEST_POSTGRES_URL. Prints a table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, insert

from db import queries
from db.engine import make_engine, scratch_postgres_schema, writer
from db.models import EventSession, Photo
from fer_core.labels import NUM_CLASSES
from fer_core.model_info import FER2013_V2_ID

TERM_START = datetime(2026, 1, 12)  # a Monday
PHOTO_SHARE = 0.7
TARGET_INSERT_RATE = 20_000
TARGET_QUERY_MS = 300.0
#: Synthetic readings are stored as the v2 model's (the photo rows get the same id by default).
MODEL_ID = FER2013_V2_ID


@dataclass
class Timing:
    name: str
    median_ms: float
    rows: int


def main() -> None:
    args = _parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    lines = [
        f"db_scale: {args.observations:,} observations, {args.sessions:,} sessions over {args.weeks} weeks; "
        f"median of {args.repeats} runs; targets: insert >= {TARGET_INSERT_RATE:,}/s, query <= "
        f"{TARGET_QUERY_MS:.0f} ms",
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start",
    ]
    for backend in backends:
        with _fresh_database(backend, args.pg_url) as url:
            engine = make_engine(url)
            try:
                lines += _run(engine, backend, args)
            finally:
                engine.dispose()
    print("\n".join(lines))
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text("\n".join(lines) + "\n")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=1_000)
    parser.add_argument("--weeks", type=int, default=15)
    parser.add_argument("--batch", type=int, default=20_000, help="observations per insert transaction")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg-url", default=os.environ.get("CAMPUS_FER_TEST_POSTGRES_URL"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", help="also write the table to this file")
    return parser.parse_args()


@contextmanager
def _fresh_database(backend: str, pg_url: str | None) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="db_scale_") as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite3"
        return
    if not pg_url:
        raise SystemExit("PostgreSQL needs --pg-url or CAMPUS_FER_TEST_POSTGRES_URL")
    with scratch_postgres_schema(pg_url, prefix="bench") as url:
        yield url


def _refused(engine: Engine) -> list:
    try:
        queries.expression_trends(engine, "minute")
    except queries.TooManyBucketsError:
        return []  # refused: no rows
    raise AssertionError("minute buckets over the whole term should be refused")


def _run(engine: Engine, backend: str, args: argparse.Namespace) -> list[str]:
    rng = np.random.default_rng(args.seed)
    session_ids, starts = _create_sessions(engine, rng, args.sessions, args.weeks)
    fill = _fill(engine, rng, session_ids, starts, args.observations, args.batch)
    started = time.perf_counter()
    with engine.begin() as connection:  # planner statistics, as autovacuum / PRAGMA optimize keep them
        connection.exec_driver_sql("ANALYZE")
    analyze_s = time.perf_counter() - started
    with engine.connect() as connection:
        sizes = {
            table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in ("observations", "minute_rollups", "hour_rollups")
        }

    chosen = [int(s) for s in rng.choice(session_ids, size=10, replace=False)]
    # Deliberately not minute-aligned, so the sub-minute edges hit the observations table too.
    start = TERM_START + timedelta(weeks=2, hours=3, minutes=30, seconds=17)
    end = TERM_START + timedelta(weeks=9, seconds=43)
    day_start = TERM_START + timedelta(weeks=4)
    cases: list[tuple[str, Callable[[], object]]] = [
        # Minute buckets follow one event (queries.MAX_MINUTE_SPAN); wider spans are refused.
        (
            "trends minute, all sessions, one day",
            lambda: queries.expression_trends(
                engine, "minute", None, day_start, day_start + timedelta(days=1)
            ),
        ),
        ("trends minute, 1 session", lambda: queries.expression_trends(engine, "minute", chosen[:1])),
        ("trends minute, whole term (refused)", lambda: _refused(engine)),
    ]
    for bucket in ("hour", "day", "week"):
        cases.append(
            (f"trends {bucket}, all sessions", lambda b=bucket: queries.expression_trends(engine, b))
        )
    for bucket in ("hour", "day", "week"):
        cases.append(
            (
                f"trends {bucket}, 10 sessions + range",
                lambda b=bucket: queries.expression_trends(engine, b, chosen, start, end),
            )
        )
    cases.append(("session_comparison, all sessions", lambda: queries.session_comparison(engine)))
    cases.append(
        (
            "session_comparison, 10 sessions + range",
            lambda: queries.session_comparison(engine, chosen, start, end),
        )
    )
    cases.append(("list_event_sessions", lambda: queries.list_event_sessions(engine)))
    timings = [_time(name, fn, args.repeats) for name, fn in cases]

    rate = fill.observations / fill.observation_seconds
    version = ".".join(map(str, engine.dialect.server_version_info or ()))
    lines = [
        "",
        f"[{backend}] {engine.dialect.name} {version}",
        f"  insert observations: {fill.observations:,} in {fill.observation_seconds:.1f} s = {rate:,.0f}/s "
        f"({'OK' if rate >= TARGET_INSERT_RATE else 'BELOW TARGET'}; batches of ~{args.batch:,}, "
        "rollups included)",
        f"  insert photo rows:   {fill.photos:,} in {fill.photo_seconds:.1f} s = "
        f"{fill.photos / fill.photo_seconds:,.0f}/s (INSERT ... RETURNING id); ANALYZE {analyze_s:.1f} s",
        "  rows: " + ", ".join(f"{table} {n:,}" for table, n in sizes.items()),
        f"  {'query (time includes building the DataFrame)':<48} {'median ms':>10} {'rows':>9}  target",
    ]
    for t in timings:
        verdict = "OK" if t.median_ms <= TARGET_QUERY_MS else "SLOW"
        lines.append(f"  {t.name:<48} {t.median_ms:>10.1f} {t.rows:>9,}  {verdict}")
    return lines


def _create_sessions(
    engine: Engine, rng: np.random.Generator, n_sessions: int, weeks: int
) -> tuple[list[int], list[datetime]]:
    """Sessions on weekdays between 08:00 and 18:00 of the term."""
    days = rng.integers(0, weeks * 7, n_sessions)
    days = days - (days % 7 >= 5) * rng.integers(1, 3, n_sessions)  # move weekends to Fri/Thu
    minutes = rng.integers(8 * 60, 18 * 60, n_sessions)
    starts = [TERM_START + timedelta(days=int(d), minutes=int(m)) for d, m in zip(days, minutes, strict=True)]
    rows = [
        {"name": f"bench {i:05d}", "event_date": s.date(), "tags": ["bench"], "created_at": s}
        for i, s in enumerate(starts)
    ]
    with writer(engine).begin() as connection:
        ids = connection.scalars(
            insert(EventSession).returning(EventSession.id, sort_by_parameter_order=True), rows
        ).all()
    return list(ids), starts


@dataclass
class Fill:
    observations: int = 0
    observation_seconds: float = 0.0
    photos: int = 0
    photo_seconds: float = 0.0


def _fill(
    engine: Engine,
    rng: np.random.Generator,
    session_ids: list[int],
    starts: list[datetime],
    n_observations: int,
    batch: int,
) -> Fill:
    """Insert photos and observations in batches of about `batch` observations, timing each part."""
    per_session = np.full(len(session_ids), n_observations // len(session_ids))
    per_session[: n_observations % len(session_ids)] += 1
    fill = Fill()
    pending: list[tuple] = []
    pending_rows = 0
    for i, (sid, start, n) in enumerate(zip(session_ids, starts, per_session.tolist(), strict=True)):
        pending.append(_session_data(rng, sid, start, n))
        pending_rows += n
        if pending_rows >= batch or i == len(session_ids) - 1:
            photos, photo_seconds, observation_seconds = _insert(engine, pending)
            fill.observations += pending_rows
            fill.observation_seconds += observation_seconds
            fill.photos += photos
            fill.photo_seconds += photo_seconds
            pending, pending_rows = [], 0
    return fill


def _session_data(rng: np.random.Generator, session_id: int, start: datetime, n: int) -> tuple:
    """Synthetic faces of one session: photos with 1-8 faces, and live frames with 1-3."""
    duration_s = int(rng.integers(30, 181)) * 60
    n_photo_faces = int(n * PHOTO_SHARE)
    photo_sizes = []
    while sum(photo_sizes) < n_photo_faces:
        photo_sizes.append(int(min(rng.integers(1, 9), n_photo_faces - sum(photo_sizes))))
    photo_times = np.sort(rng.integers(0, duration_s, len(photo_sizes)))
    live_times = np.sort(rng.integers(0, duration_s, n - n_photo_faces))
    mood = rng.dirichlet(np.ones(NUM_CLASSES)) * 4 + 0.3
    probabilities = rng.dirichlet(mood, n)
    boxes = rng.integers(10, 400, (n, 4))
    return session_id, start, photo_sizes, photo_times, live_times, probabilities, boxes


def _insert(engine: Engine, pending: list[tuple]) -> tuple[int, float, float]:
    """Insert a batch of sessions' photos, then their observations.

    Returns (photos, seconds for the photos, seconds for the observations).
    """
    photo_rows = []
    for session_id, start, sizes, times, *_ in pending:
        for k, (size, offset) in enumerate(zip(sizes, times.tolist(), strict=True)):
            photo_rows.append(
                {
                    "session_id": session_id,
                    "content_hash": uuid.uuid4().hex * 2,
                    "filename": f"IMG_{k:04d}.jpg",
                    "taken_at": start + timedelta(seconds=offset),
                    "time_source": "exif",
                    "width": 4000,
                    "height": 3000,
                    "n_faces": size,
                    "created_at": start,
                }
            )
    photo_started = time.perf_counter()
    with writer(engine).begin() as connection:
        photo_ids = iter(
            connection.scalars(
                insert(Photo).returning(Photo.id, sort_by_parameter_order=True), photo_rows
            ).all()
        )
    photo_seconds = time.perf_counter() - photo_started
    sessions, observed, photos, probs, boxes = [], [], [], [], []
    photo_index = 0
    for session_id, start, sizes, _times, live_times, probabilities, box in pending:
        for size in sizes:
            photo_id = next(photo_ids)
            taken_at = photo_rows[photo_index]["taken_at"]
            photo_index += 1
            observed += [taken_at] * size
            photos += [photo_id] * size
        observed += [start + timedelta(seconds=s) for s in live_times.tolist()]
        photos += [None] * len(live_times)
        sessions += [session_id] * len(probabilities)
        probs.append(probabilities)
        boxes.append(box)
    started = time.perf_counter()
    queries.bulk_insert_observations(
        engine, sessions, observed, np.concatenate(probs), np.concatenate(boxes), photos, model_id=MODEL_ID
    )
    return len(photo_rows), photo_seconds, time.perf_counter() - started


def _time(name: str, fn: Callable[[], object], repeats: int) -> Timing:
    durations = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        durations.append((time.perf_counter() - started) * 1000)
    return Timing(name, statistics.median(durations), len(result))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
