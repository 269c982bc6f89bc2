"""`campus-fer sessions`: create, list, show and delete event sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli import context
from cli.context import ACTOR, SessionKey, find_session
from cli.output import print_json, session_json
from db import queries

app = typer.Typer(help="Create, list, show and delete event sessions.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts instead of a table")]


@app.command("create")
def sessions_create(
    name: Annotated[str, typer.Argument(help="the session's name, unique")],
    event_date: Annotated[
        datetime | None, typer.Option("--date", formats=["%Y-%m-%d"], help="the event's date")
    ] = None,
    tags: Annotated[str, typer.Option("--tags", help="comma-separated, e.g. 'lecture,hall A'")] = "",
) -> None:
    """Create an empty session to import photos and videos into (exit 2 when the name is taken)."""
    try:
        session_id = queries.create_event_session(
            context.engine(),
            name,
            event_date.date() if event_date else None,
            [t for t in tags.split(",") if t.strip()],
            actor=ACTOR,
        )
    except ValueError as exc:
        raise context.fail(escape(str(exc))) from None
    context.console.print(f"Created session [bold]{escape(name.strip())}[/bold] (id {session_id}).")


@app.command("list")
def sessions_list(as_json: JsonFlag = False) -> None:
    """Every session with its photo and face counts, newest first (--json: a list of session objects)."""
    sessions = queries.list_event_sessions(context.engine())
    if as_json:
        print_json([session_json(s) for s in sessions])
        return
    table = Table("id", "name", "event date", "tags", "photos", "faces", "created (UTC)")
    for s in sessions:
        date_text = s.event_date.isoformat() if s.event_date else ""
        created = f"{s.created_at:%Y-%m-%d %H:%M}"
        table.add_row(
            str(s.id), s.name, date_text, ", ".join(s.tags), str(s.n_photos), str(s.n_faces), created
        )
    context.console.print(table)


@app.command("show")
def sessions_show(session: SessionKey, as_json: JsonFlag = False) -> None:
    """A session's counts and its expression mix (hidden below the privacy threshold).

    --json: the session object plus `min_faces` and `mix` (a list of {expression, faces, share}; empty
    while the session has fewer readable faces than `min_faces`)."""
    engine = context.engine()
    info = find_session(engine, session)
    min_faces = context.state.settings.min_faces_per_bucket
    mix = queries.session_comparison(engine, [info.id], min_faces=min_faces)
    if as_json:
        rows = [
            {"expression": r.expression, "faces": int(r.faces), "share": round(float(r.share), 4)}
            for r in mix.itertuples()
        ]
        print_json({**session_json(info), "min_faces": min_faces, "mix": rows})
        return
    console = context.console
    console.print(f"[bold]{info.name}[/bold] (id {info.id}): {info.n_photos} photos, {info.n_faces} faces")
    if info.models:
        console.print(f"Read by model{'s' if len(info.models) > 1 else ''}: {', '.join(info.models)}")
    if mix.empty:
        console.print(f"The expression mix is shown from {min_faces} faces on.")
        return
    table = Table("apparent expression", "faces", "share")
    for row in mix.itertuples():
        table.add_row(row.expression, str(row.faces), f"{row.share:.1%}")
    console.print(table)


@app.command("delete")
def sessions_delete(
    session: SessionKey,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
) -> None:
    """Delete a session with everything recorded in it."""
    engine = context.engine()
    info = find_session(engine, session)
    if not yes:
        typer.confirm(
            f"Delete '{info.name}' with {info.n_photos} photos and {info.n_faces} faces?", abort=True
        )
    queries.delete_event_session(engine, info.id, actor=ACTOR)
    context.console.print(f"Deleted session '{info.name}'.")
