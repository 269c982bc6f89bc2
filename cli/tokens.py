"""`campus-fer token`: bearer tokens for the REST API (stored hashed)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli import context
from cli.context import ACTOR
from db import tokens
from db.models import TOKEN_SCOPES

app = typer.Typer(help="Bearer tokens for the REST API (stored hashed).", no_args_is_help=True)


@app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="who uses it, e.g. 'kiosk hall A'")],
    scope: Annotated[
        str, typer.Option("--scope", help="read, write (includes read) or admin (all)")
    ] = "read",
) -> None:
    """Create a token and print it once: only its hash is stored."""
    if scope not in TOKEN_SCOPES:
        raise context.fail(f"--scope must be one of {', '.join(TOKEN_SCOPES)}")
    info, secret = tokens.create_token(context.engine(), name, scope, actor=ACTOR)
    context.errors.print(
        f"Token {info.id} '{info.name}' ({info.scope}). Copy it now: it is not stored and not shown again."
    )
    print(secret)


@app.command("list")
def token_list() -> None:
    """Every token: id, name, scope, prefix and whether it is revoked (never the token)."""
    table = Table("id", "name", "scope", "prefix", "created (UTC)", "revoked (UTC)")
    for t in tokens.list_tokens(context.engine()):
        revoked = f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else ""
        table.add_row(str(t.id), t.name, t.scope, t.prefix + "…", f"{t.created_at:%Y-%m-%d %H:%M}", revoked)
    context.console.print(table)


@app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="the id from `campus-fer token list`")],
) -> None:
    """Revoke a token at once."""
    if not tokens.revoke_token(context.engine(), token_id, actor=ACTOR):
        raise context.fail(f"No active token with id {token_id}.")
    context.console.print(f"Token {token_id} revoked.")
