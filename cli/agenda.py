"""`campus-fer agenda`: a session's agenda, and the apparent-expression mix per segment."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Column, Table

from campus_fer.agenda import SegmentSummary, agenda_from_csv, session_segments
from cli import context
from cli.context import ACTOR, SessionKey, find_session
from db.segments import Segment, agenda, replace_agenda

app = typer.Typer(
    help="A session's agenda, and the apparent-expression mix per segment with 95% intervals.",
    no_args_is_help=True,
)


def _span(segment: Segment) -> str:
    """'2025-05-03 09:15-10:00', with the end's date only when it is another day."""
    same_day = segment.ends_at.date() == segment.starts_at.date()
    return f"{segment.starts_at:%Y-%m-%d %H:%M}-{segment.ends_at:{'%H:%M' if same_day else '%Y-%m-%d %H:%M'}}"


def _segments_table(stored: list[Segment]) -> Table:
    table = Table("segment", Column("time (UTC)", no_wrap=True))
    for segment in stored:
        table.add_row(escape(segment.name), _span(segment))
    return table


@app.command("set")
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
    engine = context.engine()
    info = find_session(engine, session)
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise context.fail(escape(f"Cannot read {csv_path} as UTF-8 text ({exc})."), 1) from None
    try:
        parsed = agenda_from_csv(text, day.date() if day else info.event_date)
        stored = replace_agenda(engine, info.id, parsed, actor=ACTOR)
    except ValueError as exc:
        raise context.fail(escape(f"{csv_path}: {exc} Nothing was changed."), 1) from None
    name = escape(info.name)
    context.console.print(f"Agenda of '{name}' saved: {len(stored)} segment{'s' * (len(stored) != 1)}.")
    context.console.print(_segments_table(stored))


@app.command("show")
def agenda_show(session: SessionKey) -> None:
    """Each segment's photos and faces, its apparent-expression mix with 95% intervals and how it
    differed from the rest of the event (segments under the privacy threshold are hidden)."""
    engine = context.engine()
    info = find_session(engine, session)
    min_faces = context.state.settings.min_faces_per_bucket
    cut = session_segments(engine, info.id, min_faces=min_faces)
    summaries = cut.summaries
    if not summaries:
        context.console.print(
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
    context.console.print(f"[bold]{escape(info.name)}[/bold] (id {info.id}): {len(summaries)} segments")
    context.console.print(overview)
    if outside := cut.outside_faces:
        context.console.print(
            f"{outside} readable faces fall outside every segment; they count in the rest of the event."
        )
    for s in (s for s in summaries if s.shown):
        _print_segment(s)
    if not any(s.shown for s in summaries):
        context.console.print(f"No segment has {min_faces} readable faces yet, so none can be shown.")


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
    context.console.print(table)
    for what, methods in (("shares", summary.mix), ("differences", summary.versus_rest)):
        if methods:
            context.console.print(f"Intervals on {what}: {'; '.join(sorted({m.method for m in methods}))}.")
    if not summary.versus_rest:
        context.console.print("No comparison: the rest of the event has too few readable faces.")
    elif summary.clear_differences:
        for difference in summary.clear_differences:
            context.console.print(f"- {difference.verdict}")
    else:
        context.console.print(
            "- No expression differed from the rest of the event by more than its uncertainty."
        )


@app.command("clear")
def agenda_clear(session: SessionKey) -> None:
    """Remove a session's agenda (its photos and faces stay)."""
    engine = context.engine()
    info = find_session(engine, session)
    removed = len(agenda(engine, info.id))
    replace_agenda(engine, info.id, [], actor=ACTOR)
    context.console.print(
        f"Agenda of '{escape(info.name)}' cleared ({removed} segment{'s' * (removed != 1)} removed)."
    )
