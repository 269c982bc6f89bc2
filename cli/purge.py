"""`campus-fer purge`: delete observations past a retention age."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated

import typer

from cli import context
from cli.context import ACTOR
from db import queries


def parse_age(text: str) -> int:
    """'180d' or '180' -> 180 days; '26w' -> 182 days."""
    match = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text.lower())
    if not match:
        raise typer.BadParameter("use days like 180d (or weeks like 26w)")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


def purge(
    older_than: Annotated[str, typer.Option("--older-than", help="age like 180d or 26w")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
) -> None:
    """Delete observations older than the given age (by capture time), and photos left without any."""
    days = parse_age(older_than)
    cutoff = date.today() - timedelta(days=days)
    if not yes:
        typer.confirm(f"Delete every observation from before {cutoff} (UTC)?", abort=True)
    deleted = queries.purge_observations_older_than(context.engine(), days, actor=ACTOR)
    context.console.print(f"{deleted} observations older than {days} days deleted.")
