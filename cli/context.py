"""What every `campus-fer` command shares: settings, the database engine, the consoles, the actor and
the lookup of a session by id or name. Commands reach the consoles as `context.console` so tests can
swap them for wide ones."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.engine import Engine

from campus_fer.settings import AppSettings, load_settings
from db import queries
from db.engine import make_engine
from db.roles import operator
from db.settings import database_url

console = Console()
errors = Console(stderr=True)
#: The CLI acts as the local operator (every role), named in the audit trail as cli:<os user>.
ACTOR = operator("cli")
SessionKey = Annotated[str, typer.Argument(help="session id or name")]


class _State:
    settings: AppSettings = AppSettings()
    engine: Engine | None = None


state = _State()


def main(
    database_url_option: Annotated[
        str | None,
        typer.Option(
            "--database-url", help="SQLAlchemy URL; default $CAMPUS_FER_DATABASE_URL or data/*.sqlite3"
        ),
    ] = None,
) -> None:
    """Read the app's settings once per run (the root callback of every command)."""
    settings = load_settings(secrets={})
    for problem in settings.problems:
        errors.print(f"[yellow]{problem}[/yellow]")
    if database_url_option:
        settings = AppSettings(**{**settings.__dict__, "database_url": database_url_option})
    state.settings, state.engine = settings, None


def engine() -> Engine:
    """One engine per run, made on first use so `--help` never touches the database."""
    if state.engine is None:
        state.engine = make_engine(database_url(state.settings.database_url))
    return state.engine


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error on stderr and return the Exit to raise (2: a usage error, as typer's own)."""
    errors.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code)


def find_session(db: Engine, key: str) -> queries.SessionInfo:
    """A session by id or by exact name; exit 2 (a usage error, as for every command) when there is none."""
    sessions = queries.list_event_sessions(db)
    found = [s for s in sessions if s.name == key or (key.isdigit() and s.id == int(key))]
    if not found:
        raise fail(f"No session '{key}'. `campus-fer sessions list` shows them.")
    return found[0]


def available_cores() -> int:
    return len(os.sched_getaffinity(0))


def progress_bar(unit: str) -> Progress:
    """A bar with done/total, a live rate (field `rate`) and the ETA, drawn on stderr."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} " + unit + "/s"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=errors,
    )
