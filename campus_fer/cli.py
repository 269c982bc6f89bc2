"""`campus-fer`: import a folder of event photos on every core (or a Ray cluster), list and delete
sessions, export trends, purge old observations and manage API tokens. Thin: the work is done by
campus_fer.ingest / campus_fer.folder_import and db.

Settings are the app's environment variables (CAMPUS_FER_DATABASE_URL, CAMPUS_FER_MAX_UPLOAD_MB,
CAMPUS_FER_MIN_FACES_PER_BUCKET, CAMPUS_FER_MODEL).
"""

from __future__ import annotations

import os
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column, Table
from sqlalchemy.engine import Engine

from campus_fer.agenda import SegmentSummary, agenda_from_csv, session_segments
from campus_fer.folder_import import file_refs, find_photos, import_files, write_report
from campus_fer.ingest import ALLOWED_EXTENSIONS, BatchSummary, FileOutcome
from campus_fer.roles import operator
from db import queries, tokens
from db.buckets import BUCKETS
from db.engine import make_engine
from db.models import TOKEN_SCOPES
from db.segments import Segment, agenda, replace_agenda
from db.settings import database_url
from fer_core.config import served_model_path
from fer_core.labels import EMOTIONS
from fer_core.recognizer import Recognizer
from ui.settings import AppSettings, load_settings
from ui.trend_data import export_table, load_trends

app = typer.Typer(
    help="Campus FER from the command line: apparent expressions of event photos, in aggregate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
sessions_app = typer.Typer(help="List, show and delete event sessions.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for the REST API (stored hashed).", no_args_is_help=True)
agenda_app = typer.Typer(
    help="A session's agenda, and the apparent-expression mix per segment with 95% intervals.",
    no_args_is_help=True,
)
app.add_typer(sessions_app, name="sessions")
app.add_typer(token_app, name="token")
app.add_typer(agenda_app, name="agenda")

console = Console()
#: The CLI acts as the local operator (every role), named in the audit trail as cli:<os user>.
ACTOR = operator("cli")
errors = Console(stderr=True)


class _State:
    settings: AppSettings = AppSettings()
    engine: Engine | None = None


state = _State()


def _engine() -> Engine:
    if state.engine is None:
        state.engine = make_engine(database_url(state.settings.database_url))
    return state.engine


def _fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code)


@app.callback()
def main(
    database_url_option: Annotated[
        str | None,
        typer.Option(
            "--database-url", help="SQLAlchemy URL; default $CAMPUS_FER_DATABASE_URL or data/*.sqlite3"
        ),
    ] = None,
) -> None:
    settings = load_settings(secrets={})
    for problem in settings.problems:
        errors.print(f"[yellow]{problem}[/yellow]")
    if database_url_option:
        settings = AppSettings(**{**settings.__dict__, "database_url": database_url_option})
    state.settings, state.engine = settings, None


def _available_cores() -> int:
    return len(os.sched_getaffinity(0))


def _session(engine: Engine, key: str) -> queries.SessionInfo:
    """A session by id or by exact name; exit 2 (a usage error, as for every command) when there is none."""
    sessions = queries.list_event_sessions(engine)
    found = [s for s in sessions if s.name == key or (key.isdigit() and s.id == int(key))]
    if not found:
        raise _fail(f"No session '{key}'. `campus-fer sessions list` shows them.")
    return found[0]


@app.command("import")
def import_photos(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="folder of photos")],
    session: Annotated[str, typer.Option("--session", help="session name (or id)")],
    create: Annotated[bool, typer.Option("--create", help="create the session if it does not exist")] = False,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="include sub-folders")] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="analysing processes (default: one per core)")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="write a CSV with one row per file")] = None,
    ray_address: Annotated[
        str | None, typer.Option("--ray", metavar="auto|ADDRESS", help="analyse on an existing Ray cluster")
    ] = None,
) -> None:
    """Import every JPEG/PNG/WebP/HEIC photo of FOLDER into a session, one transaction per photo.

    Re-running it saves nothing twice (content hash); exit code 1 when any file failed.
    """
    engine = _engine()
    settings = state.settings
    existing = [s for s in queries.list_event_sessions(engine) if s.name == session.strip()]
    if existing:
        session_id = existing[0].id
    elif create:
        session_id = queries.create_event_session(engine, session, actor=ACTOR)
        console.print(f"Created session [bold]{session.strip()}[/bold] (id {session_id}).")
    else:
        session_id = _session(engine, session).id
    refs = file_refs(find_photos(folder, recursive), folder)
    if not refs:
        console.print(f"No {'/'.join(e.upper() for e in ALLOWED_EXTENSIONS)} files in {folder}.")
        return
    workers = workers or _available_cores()
    where = (
        f"Ray cluster {ray_address}" if ray_address else f"{workers} worker process{'es' * (workers != 1)}"
    )
    console.print(f"Importing {len(refs)} photos from {folder} into session {session_id} on {where}.")
    started = time.perf_counter()
    with Progress(*_progress_columns("photos"), console=errors, transient=False) as progress:
        task = progress.add_task("Importing", total=len(refs), rate="-")

        def advance(_index: int, _outcome: FileOutcome) -> None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            done = progress.tasks[task].completed + 1
            progress.update(task, advance=1, rate=f"{done / elapsed:.1f}")

        options = {"max_bytes": settings.max_upload_bytes, "on_progress": advance}
        model = served_model_path(settings.model)
        if ray_address:
            from campus_fer.ray_import import import_with_ray  # Ray is an optional extra

            outcomes = import_with_ray(
                engine, session_id, refs, address=ray_address, model_path=model, actor=ACTOR, **options
            )
        else:
            outcomes = import_files(
                engine, session_id, refs, model_path=model, workers=workers, actor=ACTOR, **options
            )
    seconds = time.perf_counter() - started
    _print_summary(outcomes, seconds)
    if report is not None:
        write_report(outcomes, report)
        console.print(f"Verdicts written to {report}.")
    if BatchSummary(outcomes).failed:
        raise typer.Exit(1)


def _progress_columns(unit: str) -> tuple:
    """A bar with done/total, a live rate and the ETA (rich)."""
    return (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} " + unit + "/s"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )


def _print_summary(outcomes: list[FileOutcome], seconds: float) -> None:
    summary = BatchSummary(outcomes)
    console.print(f"{len(outcomes)} files in {seconds:.1f} s: {len(outcomes) / seconds:.1f} photos/s")
    table = Table()
    table.add_column("verdict")
    table.add_column("files", justify="right")
    table.add_column("faces", justify="right")
    for status in ("saved", "no_face", "duplicate", "refused", "error", "db_error", "skipped"):
        rows = [o for o in outcomes if o.status == status]
        if rows:
            table.add_row(status, str(len(rows)), str(sum(o.n_faces for o in rows)))
    console.print(table)
    for outcome in (o for o in outcomes if not o.ok):
        console.print(f"[red]{outcome.status}[/red] {outcome.filename}: {outcome.message}")
    if summary.failed:
        console.print(f"[red]{summary.failed} file(s) failed[/red]; fix them and run the same command again.")


@sessions_app.command("list")
def sessions_list() -> None:
    """Every session with its photo and face counts, newest first."""
    table = Table("id", "name", "event date", "tags", "photos", "faces", "created (UTC)")
    for s in queries.list_event_sessions(_engine()):
        date_text = s.event_date.isoformat() if s.event_date else ""
        created = f"{s.created_at:%Y-%m-%d %H:%M}"
        table.add_row(
            str(s.id), s.name, date_text, ", ".join(s.tags), str(s.n_photos), str(s.n_faces), created
        )
    console.print(table)


@sessions_app.command("show")
def sessions_show(session: Annotated[str, typer.Argument(help="session id or name")]) -> None:
    """A session's counts and its expression mix (hidden below the privacy threshold)."""
    engine = _engine()
    info = _session(engine, session)
    console.print(f"[bold]{info.name}[/bold] (id {info.id}): {info.n_photos} photos, {info.n_faces} faces")
    if info.models:
        console.print(f"Read by model{'s' if len(info.models) > 1 else ''}: {', '.join(info.models)}")
    min_faces = state.settings.min_faces_per_bucket
    mix = queries.session_comparison(engine, [info.id], min_faces=min_faces)
    if mix.empty:
        console.print(f"The expression mix is shown from {min_faces} faces on.")
        return
    table = Table("apparent expression", "faces", "share")
    for row in mix.itertuples():
        table.add_row(row.expression, str(row.faces), f"{row.share:.1%}")
    console.print(table)


@sessions_app.command("delete")
def sessions_delete(
    session: Annotated[str, typer.Argument(help="session id or name")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
) -> None:
    """Delete a session with everything recorded in it."""
    engine = _engine()
    info = _session(engine, session)
    if not yes:
        typer.confirm(
            f"Delete '{info.name}' with {info.n_photos} photos and {info.n_faces} faces?", abort=True
        )
    queries.delete_event_session(engine, info.id, actor=ACTOR)
    console.print(f"Deleted session '{info.name}'.")


@app.command()
def trends(
    bucket: Annotated[str, typer.Option("--bucket", help=f"one of {', '.join(BUCKETS)}")] = "day",
    session: Annotated[
        list[str] | None, typer.Option("--session", help="session id or name; repeatable")
    ] = None,
    start: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="first day (UTC)")] = None,
    end: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="last day (UTC), included")
    ] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="write the aggregated table here")] = None,
) -> None:
    """Apparent-expression shares per time bucket, as on the trends page (small buckets hidden)."""
    if bucket not in BUCKETS:
        raise _fail(f"--bucket must be one of {', '.join(BUCKETS)}")
    engine = _engine()
    ids = [_session(engine, key).id for key in session] if session else None
    end_at = end + timedelta(days=1) if end else None
    min_faces = state.settings.min_faces_per_bucket
    try:
        data = load_trends(engine, bucket, ids, start, end_at, min_faces)
    except queries.TooManyBucketsError as exc:
        raise _fail(str(exc)) from None
    table = export_table(data)
    if csv_path is not None:
        table.to_csv(csv_path, index=False)
        console.print(f"{len(table)} rows written to {csv_path}.")
    if table.empty:
        console.print(f"No {bucket} bucket has {min_faces} or more faces with these filters.")
        return
    shares = table.pivot(index="bucket_start", columns="expression", values="share")[list(EMOTIONS)]
    totals = table.groupby("bucket_start")["bucket_faces"].first()
    shown = Table("faces", *shares.columns)
    shown.columns.insert(0, Column("bucket (UTC)", no_wrap=True))
    for start_at, row in shares.iterrows():
        shown.add_row(f"{start_at:%Y-%m-%d %H:%M}", str(totals[start_at]), *(f"{v:.0%}" for v in row))
    console.print(shown)
    if data.hidden_buckets:
        console.print(f"{data.hidden_buckets} bucket(s) with fewer than {min_faces} faces hidden.")
    console.print(data.models_caption)
    for change in data.model_changes:
        console.print(
            f"Model change at {change.at:%Y-%m-%d %H:%M}: {change.model_id} from here "
            f"({', '.join(change.previous)} before); readings before and after are not directly comparable."
        )


@app.command()
def video(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="MP4/WebM/MOV/MKV recording")],
    session: Annotated[str, typer.Option("--session", help="session name or id")],
    start: Annotated[
        datetime,
        typer.Option(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"], help="recording start (UTC)"),
    ],
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="seconds between frames")] = 1.0,
) -> None:
    """Analyse a recorded video into a session: one frame every --interval seconds, each frame in its
    own transaction (nothing of the video is kept). Exit code 1 when the video could not be read whole."""
    from campus_fer.video_ingest import ingest_video

    engine = _engine()
    info = _session(engine, session)
    recognizer = Recognizer(served_model_path(state.settings.model))
    with Progress(*_progress_columns("frames"), console=errors) as progress:
        task = progress.add_task(f"Analysing {path.name}", total=None, rate="-")
        started = time.perf_counter()

        def advance(done: int, expected: int | None, _outcome: FileOutcome) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=done, total=expected, rate=f"{rate:.1f}")

        result = ingest_video(
            engine, recognizer, info.id, path, filename=path.name, start=start, interval_s=interval,
            on_progress=advance, actor=ACTOR,
        )  # fmt: skip
    saved = result.count("saved", "no_face")
    console.print(
        f"{len(result.frames)} frames sampled: {saved} saved with {result.faces_saved} faces, "
        f"{result.count('duplicate')} already stored, into session '{info.name}'."
    )
    if result.error:
        errors.print(f"[red]{result.error}[/red]")
        raise typer.Exit(1)


@app.command()
def report(
    session: Annotated[str, typer.Argument(help="session id or name")],
    out: Annotated[Path | None, typer.Option("--out", help="HTML file (default: after the session)")] = None,
) -> None:
    """Write the shareable HTML report of a session (aggregates only, no face images)."""
    from campus_fer.report import build_report, render_html, report_filename

    engine = _engine()
    info = _session(engine, session)
    settings = state.settings
    html = render_html(
        build_report(engine, info.id, min_faces=settings.min_faces_per_bucket, notice=settings.notice)
    )
    target = out or Path(report_filename(info))
    target.write_text(html, encoding="utf-8")
    console.print(f"Report of '{info.name}' written to {target} ({len(html) / 1e6:.1f} MB).")


SessionKey = Annotated[str, typer.Argument(help="session id or name")]


def _span(segment: Segment) -> str:
    """'2025-05-03 09:15-10:00', with the end's date only when it is another day."""
    same_day = segment.ends_at.date() == segment.starts_at.date()
    return f"{segment.starts_at:%Y-%m-%d %H:%M}-{segment.ends_at:{'%H:%M' if same_day else '%Y-%m-%d %H:%M'}}"


def _segments_table(stored: list[Segment]) -> Table:
    table = Table("segment", Column("time (UTC)", no_wrap=True))
    for segment in stored:
        table.add_row(escape(segment.name), _span(segment))
    return table


@agenda_app.command("set")
def agenda_set(
    session: SessionKey,
    csv_path: Annotated[
        Path, typer.Option("--csv", exists=True, dir_okay=False, help="CSV with a name,start,end header")
    ],
    day: Annotated[
        datetime | None,
        typer.Option(
            "--date", formats=["%Y-%m-%d"], help="event date for times like 09:15 (default: the session's)"
        ),
    ] = None,
) -> None:
    """Replace a session's agenda with the segments of a CSV file (as the Agenda page accepts it):

    name,start,end / Keynote,09:15,10:00 (times on the photos' clock, UTC), or full dates and times.
    Exit code 1 for a file that cannot be read or segments without a name, ending before they start
    or overlapping; the stored agenda is then unchanged.
    """
    engine = _engine()
    info = _session(engine, session)
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(escape(f"Cannot read {csv_path} as UTF-8 text ({exc})."), 1) from None
    try:
        parsed = agenda_from_csv(text, day.date() if day else info.event_date)
        stored = replace_agenda(engine, info.id, parsed, actor=ACTOR)
    except ValueError as exc:
        raise _fail(escape(f"{csv_path}: {exc} Nothing was changed."), 1) from None
    name = escape(info.name)
    console.print(f"Agenda of '{name}' saved: {len(stored)} segment{'s' * (len(stored) != 1)}.")
    console.print(_segments_table(stored))


@agenda_app.command("show")
def agenda_show(session: SessionKey) -> None:
    """Each segment's photos and faces, its apparent-expression mix with 95% intervals and how it
    differed from the rest of the event (segments under the privacy threshold are hidden)."""
    engine = _engine()
    info = _session(engine, session)
    min_faces = state.settings.min_faces_per_bucket
    cut = session_segments(engine, info.id, min_faces=min_faces)
    summaries = cut.summaries
    if not summaries:
        console.print(
            f"'{escape(info.name)}' has no agenda; `campus-fer agenda set {info.id} --csv FILE` gives it one."
        )
        return
    overview = Table(
        "segment", Column("time (UTC)", no_wrap=True), "photos", "readable faces", "too small", "shown"
    )
    for s in summaries:
        shown = "yes" if s.shown else f"hidden (fewer than {min_faces} faces)"
        overview.add_row(
            escape(s.segment.name), _span(s.segment), str(s.photos), str(s.faces), str(s.small_faces), shown
        )
    console.print(f"[bold]{escape(info.name)}[/bold] (id {info.id}): {len(summaries)} segments")
    console.print(overview)
    if outside := cut.outside_faces:
        console.print(
            f"{outside} readable faces fall outside every segment; they count in the rest of the event."
        )
    for s in (s for s in summaries if s.shown):
        _print_segment(s)
    if not any(s.shown for s in summaries):
        console.print(f"No segment has {min_faces} readable faces yet, so none can be shown.")


def _print_segment(summary: SegmentSummary) -> None:
    """A shown segment's mix with intervals, its difference from the rest, and the clear verdicts."""
    versus = {d.expression: d for d in summary.versus_rest}
    table = Table(
        "apparent expression", "faces", "share", "95% interval", "vs rest (points)",
        title=f"{escape(summary.segment.name)}: {summary.faces} readable faces in {summary.photos} photos",
    )  # fmt: skip
    for share in summary.mix:
        difference = versus.get(share.expression)
        versus_text = (
            f"{difference.difference * 100:+.1f} [{difference.low * 100:+.1f}, {difference.high * 100:+.1f}]"
            if difference
            else ""
        )
        table.add_row(
            share.expression, str(share.faces), f"{share.share:.1%}",
            f"{share.low:.1%} to {share.high:.1%}", versus_text,
        )  # fmt: skip
    console.print(table)
    for what, methods in (("shares", summary.mix), ("differences", summary.versus_rest)):
        if methods:
            console.print(f"Intervals on {what}: {'; '.join(sorted({m.method for m in methods}))}.")
    if not summary.versus_rest:
        console.print("No comparison: the rest of the event has too few readable faces.")
    elif summary.clear_differences:
        for difference in summary.clear_differences:
            console.print(f"- {difference.verdict}")
    else:
        console.print("- No expression differed from the rest of the event by more than its uncertainty.")


@agenda_app.command("clear")
def agenda_clear(session: SessionKey) -> None:
    """Remove a session's agenda (its photos and faces stay)."""
    engine = _engine()
    info = _session(engine, session)
    removed = len(agenda(engine, info.id))
    replace_agenda(engine, info.id, [], actor=ACTOR)
    console.print(
        f"Agenda of '{escape(info.name)}' cleared ({removed} segment{'s' * (removed != 1)} removed)."
    )


def parse_age(text: str) -> int:
    """'180d' or '180' -> 180 days; '26w' -> 182 days."""
    match = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text.lower())
    if not match:
        raise typer.BadParameter("use days like 180d (or weeks like 26w)")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


@app.command()
def purge(
    older_than: Annotated[str, typer.Option("--older-than", help="age like 180d or 26w")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
) -> None:
    """Delete observations older than the given age (by capture time), and photos left without any."""
    days = parse_age(older_than)
    cutoff = date.today() - timedelta(days=days)
    if not yes:
        typer.confirm(f"Delete every observation from before {cutoff} (UTC)?", abort=True)
    deleted = queries.purge_observations_older_than(_engine(), days, actor=ACTOR)
    console.print(f"{deleted} observations older than {days} days deleted.")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="who uses it, e.g. 'kiosk hall A'")],
    scope: Annotated[
        str, typer.Option("--scope", help="read, write (includes read) or admin (all)")
    ] = "read",
) -> None:
    """Create a token and print it once: only its hash is stored."""
    if scope not in TOKEN_SCOPES:
        raise _fail(f"--scope must be one of {', '.join(TOKEN_SCOPES)}")
    info, secret = tokens.create_token(_engine(), name, scope, actor=ACTOR)
    errors.print(
        f"Token {info.id} '{info.name}' ({info.scope}). Copy it now: it is not stored and not shown again."
    )
    print(secret)


@token_app.command("list")
def token_list() -> None:
    """Every token: id, name, scope, prefix and whether it is revoked (never the token)."""
    table = Table("id", "name", "scope", "prefix", "created (UTC)", "revoked (UTC)")
    for t in tokens.list_tokens(_engine()):
        revoked = f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else ""
        table.add_row(str(t.id), t.name, t.scope, t.prefix + "…", f"{t.created_at:%Y-%m-%d %H:%M}", revoked)
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="the id from `campus-fer token list`")],
) -> None:
    """Revoke a token at once."""
    if not tokens.revoke_token(_engine(), token_id, actor=ACTOR):
        raise _fail(f"No active token with id {token_id}.")
    console.print(f"Token {token_id} revoked.")


if __name__ == "__main__":
    app()
