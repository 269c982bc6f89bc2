"""Does the database stay fast at a campus year? Fill one and time every page's data path.

    python -m benchmarks.db_scale --backend both --observations 10000000 --sessions 10000 --weeks 30

Creates `--sessions` event sessions of 30-180 minutes on weekdays of `--weeks` weeks, owned by
`--organisers` organisers, most with an agenda of 3-5 segments (AGENDA_SHARE), and `--observations`
faces in all (70 % from photos, 30 % from live frames), inserted in batches through
`db.queries.bulk_insert_observations`. Then it times what each page (and the report) loads, through
the same service functions the pages call: median of `--repeats` warm runs (one unreported run first).

A campus year takes minutes to build, so it can be built once and re-timed after each change:
`--sqlite-file /tmp/year.sqlite3` and `--pg-schema bench_year` keep the database (a file / a schema in
the database of --pg-url or $CAMPUS_FER_TEST_POSTGRES_URL); `--reuse` times a kept one again (after
migrating it to head, so a new migration is applied to the full year first, and timed); `--drop`
deletes it at the end. Without them SQLite uses a temporary file and PostgreSQL a scratch schema,
both deleted at the end. Prints a table, the size per observation and the index list.
"""

from __future__ import annotations

import argparse
import inspect
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
import sqlalchemy as sa
from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import make_url

from campus_fer import report, trends, wellbeing
from campus_fer.agenda import summarise_segments
from db import queries, segments
from db.engine import current_revision, make_engine, scratch_postgres_schema, writer
from db.models import AgendaSegment, EventSession, Photo
from fer_core.labels import NUM_CLASSES
from fer_core.model_info import FER2013_V2_ID

TERM_START = datetime(2026, 1, 12)  # a Monday
PHOTO_SHARE = 0.7
#: Share of sessions with an agenda (the others are listed as "without an agenda").
AGENDA_SHARE = 0.8
SEGMENT_NAMES = ("Welcome", "Keynote", "Break", "Workshop", "Panel", "Q&A")
TARGET_INSERT_RATE = 20_000
TARGET_QUERY_MS = 300.0
#: The privacy threshold the pages use by default (campus_fer.settings.min_faces_per_bucket).
MIN_FACES = 5
#: A path whose first run takes longer than this is run once more only (median of what was run).
SLOW_S = 5.0
#: Sessions whose segment trends are timed to estimate a path too slow to run over all of them.
ESTIMATE_FROM = 100
#: Synthetic readings are stored as the v2 model's (the photo rows get the same id by default).
MODEL_ID = FER2013_V2_ID


@dataclass
class Timing:
    name: str
    median_ms: float
    rows: int
    runs: int
    #: This process's CPU time (median): all of SQLite's work, none of the PostgreSQL server's.
    cpu_ms: float


def main() -> None:
    args = _parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    built = (
        "a kept database (its rows below)"
        if args.reuse
        else f"{args.observations:,} observations, {args.sessions:,} sessions over {args.weeks} weeks, "
        f"{args.organisers} organisers, {AGENDA_SHARE:.0%} of sessions with an agenda"
    )
    lines = [
        f"db_scale: {built}; median of "
        f"{args.repeats} warm runs; targets: insert >= {TARGET_INSERT_RATE:,}/s, page data <= "
        f"{TARGET_QUERY_MS:.0f} ms",
        f"{os.cpu_count()} CPUs, load average {load_average()} at start",
    ]
    for backend in backends:
        with _database(backend, args) as (url, path):
            started = time.perf_counter()
            before = _revision(url)
            engine = make_engine(url)  # migrates a kept database to head (timed: a new migration runs here)
            migrate_s = time.perf_counter() - started
            try:
                lines += _run(engine, backend, args, path, before, migrate_s)
            finally:
                engine.dispose()
        print("\n".join(lines), flush=True)
    finish_report(lines, args.output)


def load_average() -> str:
    """What else the machine was running, for the report's first and last lines."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def finish_report(lines: list[str], output: str | None) -> None:
    """Close the report with the load average and keep it in `output` when one is named."""
    lines.append(f"load average {load_average()} at the end")
    print(lines[-1])
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text("\n".join(lines) + "\n")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=1_000)
    parser.add_argument("--weeks", type=int, default=15)
    parser.add_argument("--organisers", type=int, default=50)
    parser.add_argument("--batch", type=int, default=20_000, help="observations per insert transaction")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pg-url", default=os.environ.get("CAMPUS_FER_TEST_POSTGRES_URL"))
    parser.add_argument("--sqlite-file", help="build the SQLite database here and keep it (e.g. under /tmp)")
    parser.add_argument("--pg-schema", help="build the PostgreSQL data in this schema and keep it")
    parser.add_argument("--reuse", action="store_true", help="time the kept database without building it")
    parser.add_argument("--drop", action="store_true", help="delete the kept file / schema at the end")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", help="also write the table to this file")
    return parser.parse_args()


@contextmanager
def _database(backend: str, args: argparse.Namespace) -> Iterator[tuple[str, Path | None]]:
    """(URL, SQLite file or None) of the database to fill or reuse."""
    if backend == "sqlite":
        if args.sqlite_file:
            path = Path(args.sqlite_file)
            if args.reuse != path.exists():
                raise SystemExit(
                    f"{path}: {'missing (build it first)' if args.reuse else 'exists (--reuse?)'}"
                )
            try:
                yield f"sqlite:///{path}", path
            finally:
                if args.drop:
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        with tempfile.TemporaryDirectory(prefix="db_scale_") as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite3", Path(tmp) / "bench.sqlite3"
        return
    if not args.pg_url:
        raise SystemExit("PostgreSQL needs --pg-url or CAMPUS_FER_TEST_POSTGRES_URL")
    if not args.pg_schema:
        with scratch_postgres_schema(args.pg_url, prefix="bench") as url:
            yield url, None
        return
    admin = sa.create_engine(args.pg_url)
    schema = args.pg_schema
    try:
        with admin.begin() as connection:
            exists = connection.execute(
                sa.text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :s"),
                {"s": schema},
            ).scalar_one()
            if args.reuse != bool(exists):
                raise SystemExit(f"schema {schema}: {'missing' if args.reuse else 'exists (--reuse?)'}")
            if not exists:
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        url = make_url(args.pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False), None
    finally:
        if args.drop:
            with admin.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


def _revision(url: str) -> str | None:
    engine = make_engine(url, migrate=False)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def _run(
    engine: Engine,
    backend: str,
    args: argparse.Namespace,
    path: Path | None,
    revision_before: str | None,
    migrate_s: float,
) -> list[str]:
    version = ".".join(map(str, engine.dialect.server_version_info or ()))
    lines = ["", f"[{backend}] {engine.dialect.name} {version}"]
    if args.reuse:
        lines.append(
            f"  reused the kept database; migrated {revision_before} -> {current_revision(engine)} in "
            f"{migrate_s:.1f} s"
        )
    else:
        rng = np.random.default_rng(args.seed)
        session_ids, starts, durations = _create_sessions(engine, rng, args)
        n_segments = _create_agendas(engine, rng, session_ids, starts, durations)
        fill = _fill(engine, rng, session_ids, starts, durations, args.observations, args.batch)
        rate = fill.observations / fill.observation_seconds
        lines += [
            f"  insert observations: {fill.observations:,} in {fill.observation_seconds:.1f} s = "
            f"{rate:,.0f}/s "
            f"({'OK' if rate >= TARGET_INSERT_RATE else 'BELOW TARGET'}; batches of ~{args.batch:,}, "
            "rollups included)",
            f"  insert photo rows:   {fill.photos:,} in {fill.photo_seconds:.1f} s = "
            f"{fill.photos / fill.photo_seconds:,.0f}/s (INSERT ... RETURNING id); {n_segments:,} agenda "
            "segments",
        ]
    started = time.perf_counter()
    with engine.begin() as connection:  # planner statistics, as autovacuum / PRAGMA optimize keep them
        connection.exec_driver_sql("ANALYZE")
    lines.append(f"  ANALYZE {time.perf_counter() - started:.1f} s")
    with engine.connect() as connection:
        sizes = {
            table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in ("observations", "photos", "minute_rollups", "hour_rollups", "agenda_segments")
        }
    lines.append("  rows: " + ", ".join(f"{table} {n:,}" for table, n in sizes.items()))
    lines += _storage(engine, path, sizes["observations"])

    timings = [_time(name, fn, args.repeats) for name, fn in _cases(engine, args.seed)]
    lines.append(
        f"  {'page data path (service functions the page calls)':<66} {'median ms':>10} {'cpu ms':>7} "
        f"{'rows':>8}  target"
    )
    for t in timings:
        verdict = "OK" if t.median_ms <= TARGET_QUERY_MS else "SLOW"
        runs = "" if t.runs == args.repeats else f" ({t.runs} run{'s' if t.runs > 1 else ''})"
        lines.append(f"  {t.name:<66} {t.median_ms:>10.1f} {t.cpu_ms:>7.0f} {t.rows:>8,}  {verdict}{runs}")
    return lines


def _cases(engine: Engine, seed: int) -> list[tuple[str, Callable[[], object]]]:
    """Every page's data path, as the page calls it."""
    infos = queries.list_event_sessions(engine)
    rng = np.random.default_rng(seed + 1)
    with engine.connect() as connection:
        with_agenda = set(connection.scalars(select(AgendaSegment.session_id).distinct()))
    typical = int(rng.choice(sorted(with_agenda)))
    chosen = [int(s) for s in rng.choice([i.id for i in infos], size=10, replace=False)]
    ten = [i for i in infos if i.id in set(chosen)]
    first = min(i.created_at for i in infos)
    # Deliberately not minute-aligned, so the sub-minute edges hit the observations table too.
    start = first + timedelta(weeks=2, hours=3, minutes=30, seconds=17)
    end = first + timedelta(weeks=9, seconds=43)

    def sessions_page() -> list:
        queries.count_event_sessions(engine)  # type: ignore[attr-defined]
        return queries.list_event_sessions(engine, limit=50, offset=50)  # type: ignore[call-arg]

    def photos_page() -> object:
        queries.session_comparison(engine, [typical], min_faces=MIN_FACES)
        # The page's photo list: photo_table since issue 17 (one row per photo), photo_results before.
        return getattr(queries, "photo_table", queries.photo_results)(engine, typical)

    def agenda_page() -> list:
        stored = segments.agenda(engine, typical)
        units = segments.unit_counts(engine, typical)
        return summarise_segments(units, stored, min_faces=MIN_FACES)

    def wellbeing_page(by: str) -> object:
        chart = (
            wellbeing.weekly_chart(engine, MIN_FACES)
            if by == "week"
            else wellbeing.event_chart(engine, MIN_FACES)
        )
        wellbeing.baseline_restarts(engine, wellbeing.shown(chart))
        return chart

    def load(
        bucket: str, ids: list[int] | None, a: datetime | None = None, b: datetime | None = None
    ) -> object:
        return trends.load_trends(engine, bucket, ids, a, b, MIN_FACES).trends

    cases: list[tuple[str, Callable[[], object]]] = [
        (
            "sessions list: list_event_sessions (every page's picker)",
            lambda: queries.list_event_sessions(engine),
        ),
        *(
            [("sessions list: a page of 50 + the count (API ?limit=50)", sessions_page)]
            if "limit" in inspect.signature(queries.list_event_sessions).parameters
            else []
        ),
        ("photos page: mix + photo list, 1 session", photos_page),
        ("trends by time: minute, 1 session", lambda: load("minute", [typical])),
    ]
    for bucket in ("hour", "day", "week"):
        cases.append((f"trends by time: {bucket}, all sessions", lambda b=bucket: load(b, None)))
    for bucket in ("hour", "day", "week"):
        cases.append(
            (f"trends by time: {bucket}, 10 sessions + range", lambda b=bucket: load(b, chosen, start, end))
        )
    cases += [
        ("trends by segment: all sessions", lambda: _segment_trends(engine, infos)),
        (
            "trends by segment: 10 sessions",
            lambda: trends.load_segment_trends(engine, ten, None, None, MIN_FACES).overview,
        ),
        ("agenda page: agenda + unit counts + segments, 1 session", agenda_page),
        (
            "report: build_report, 1 session (vs its organiser's events)",
            lambda: report.build_report(engine, typical, min_faces=MIN_FACES, notice="").others,
        ),
        ("wellbeing: per week (weekly_chart + restarts)", lambda: wellbeing_page("week")),
        ("wellbeing: per event (event_chart + restarts)", lambda: wellbeing_page("event")),
    ]
    return cases


class Estimate(list):
    """Rows of a path too slow to run whole: `ms` is its time extrapolated from a sample of sessions."""

    ms: float = 0.0
    note: str = ""


def _segment_trends(engine: Engine, infos: list[queries.SessionInfo]) -> object:
    """load_segment_trends over every session; when ESTIMATE_FROM sessions take over SLOW_S (one call
    per session before this was fixed: minutes for a year), its time is extrapolated from them."""
    sample = infos[:ESTIMATE_FROM]
    started = time.perf_counter()
    trends.load_segment_trends(engine, sample, None, None, MIN_FACES)
    seconds = time.perf_counter() - started
    if len(infos) <= ESTIMATE_FROM or seconds < SLOW_S:
        return trends.load_segment_trends(engine, infos, None, None, MIN_FACES).overview
    estimate = Estimate(range(0))
    estimate.ms = seconds * 1000 * len(infos) / len(sample)
    estimate.note = f"estimated from the first {len(sample)} sessions"
    return estimate


def _storage(engine: Engine, path: Path | None, observations: int) -> list[str]:
    """Database size per observation and every index with its size."""
    lines = []
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert path is not None
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            pages, free, page_size = (
                connection.exec_driver_sql(f"PRAGMA {pragma}").scalar_one()
                for pragma in ("page_count", "freelist_count", "page_size")
            )
            total = (pages - free) * page_size
            # Pages freed by a dropped index stay in the file (as free pages) until VACUUM.
            file_gb, free_gb = path.stat().st_size / 1e9, free * page_size / 1e9
            what = f"pages in use; the file is {file_gb:.2f} GB with {free_gb:.2f} GB free"
            indexes = connection.exec_driver_sql(
                "SELECT m.name, m.tbl_name, coalesce(m.sql, '(automatic: primary key / unique)'), "
                "(SELECT sum(pgsize) FROM dbstat WHERE dbstat.name = m.name) "
                "FROM sqlite_master m WHERE m.type = 'index' ORDER BY m.tbl_name, m.name"
            ).all()
        else:
            tables = [
                r[0]
                for r in connection.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
            ]
            total = sum(
                connection.exec_driver_sql(f"SELECT pg_total_relation_size('{t}')").scalar_one()
                for t in tables
            )
            what = "tables with indexes and TOAST"
            indexes = connection.exec_driver_sql(
                "SELECT indexname, tablename, indexdef, pg_relation_size(quote_ident(indexname)::regclass) "
                "FROM pg_indexes WHERE schemaname = current_schema() ORDER BY tablename, indexname"
            ).all()
    lines.append(
        f"  size: {total / 1e9:.2f} GB ({what}) = {total / max(observations, 1):.0f} bytes per observation"
    )
    lines.append("  indexes:")
    for name, table, definition, size in indexes:
        size_text = f"{size / 1e6:,.0f} MB" if size else "-"
        lines.append(f"    {table}.{name:<46} {size_text:>9}  {' '.join(str(definition).split())[:110]}")
    return lines


def _create_sessions(
    engine: Engine, rng: np.random.Generator, args: argparse.Namespace
) -> tuple[list[int], list[datetime], list[int]]:
    """Sessions on weekdays between 08:00 and 18:00, 30-180 minutes long: ids, starts, durations (s)."""
    n_sessions = args.sessions
    days = rng.integers(0, args.weeks * 7, n_sessions)
    days = days - (days % 7 >= 5) * rng.integers(1, 3, n_sessions)  # move weekends to Fri/Thu
    minutes = rng.integers(8 * 60, 18 * 60, n_sessions)
    starts = [TERM_START + timedelta(days=int(d), minutes=int(m)) for d, m in zip(days, minutes, strict=True)]
    durations = (rng.integers(30, 181, n_sessions) * 60).tolist()
    owners = rng.integers(0, args.organisers, n_sessions)
    rows = [
        {
            "name": f"bench {i:05d}",
            "event_date": s.date(),
            "tags": ["bench"],
            "created_at": s,
            "owner": f"organiser{int(o):03d}@campus.example",
        }
        for i, (s, o) in enumerate(zip(starts, owners, strict=True))
    ]
    with writer(engine).begin() as connection:
        ids = connection.scalars(
            insert(EventSession).returning(EventSession.id, sort_by_parameter_order=True), rows
        ).all()
    return list(ids), starts, durations


def _create_agendas(
    engine: Engine,
    rng: np.random.Generator,
    session_ids: list[int],
    starts: list[datetime],
    durations: list[int],
) -> int:
    """3-5 minute-aligned segments covering most of AGENDA_SHARE of the sessions (the rest have none)."""
    rows = []
    for session_id, start, duration in zip(session_ids, starts, durations, strict=True):
        if rng.random() >= AGENDA_SHARE:
            continue
        k = int(rng.integers(3, 6))
        minutes = duration // 60
        cuts = np.sort(rng.choice(np.arange(5, minutes - 5), size=k - 1, replace=False))
        bounds = [int(rng.integers(0, 5)), *cuts.tolist(), minutes]
        for j, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
            rows.append(
                {
                    "session_id": session_id,
                    "name": SEGMENT_NAMES[j % len(SEGMENT_NAMES)],
                    "starts_at": start + timedelta(minutes=a),
                    "ends_at": start + timedelta(minutes=b),
                }
            )
    with writer(engine).begin() as connection:
        connection.execute(insert(AgendaSegment), rows)
    return len(rows)


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
    durations: list[int],
    n_observations: int,
    batch: int,
) -> Fill:
    """Insert photos and observations in batches of about `batch` observations, timing each part."""
    per_session = np.full(len(session_ids), n_observations // len(session_ids))
    per_session[: n_observations % len(session_ids)] += 1
    fill = Fill()
    pending: list[tuple] = []
    pending_rows = 0
    sessions = zip(session_ids, starts, durations, per_session.tolist(), strict=True)
    for i, (sid, start, duration, n) in enumerate(sessions):
        pending.append(_session_data(rng, sid, start, duration, n))
        pending_rows += n
        if pending_rows >= batch or i == len(session_ids) - 1:
            photos, photo_seconds, observation_seconds = _insert(engine, pending)
            fill.observations += pending_rows
            fill.observation_seconds += observation_seconds
            fill.photos += photos
            fill.photo_seconds += photo_seconds
            pending, pending_rows = [], 0
    return fill


def _session_data(
    rng: np.random.Generator, session_id: int, start: datetime, duration_s: int, n: int
) -> tuple:
    """Synthetic faces of one session: photos with 1-8 faces, and live frames with 1-3."""
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
    """Median of `repeats` runs after one warm-up run; a path slower than SLOW_S runs once more only."""
    started = time.perf_counter()
    result = fn()
    warm_up = time.perf_counter() - started
    durations, cpu = [], []
    for _ in range(1 if warm_up > SLOW_S else repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = fn()
        durations.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    if isinstance(result, Estimate):
        return Timing(f"{name} ({result.note})", result.ms, 0, 1, float("nan"))
    rows = len(result)  # type: ignore[arg-type]
    return Timing(name, statistics.median(durations), rows, len(durations), statistics.median(cpu))


if __name__ == "__main__":
    main()
