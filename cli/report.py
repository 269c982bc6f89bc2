"""`campus-fer report`: the shareable HTML report of a session."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import context
from cli.context import SessionKey, find_session


def report(
    session: SessionKey,
    out: Annotated[Path | None, typer.Option("--out", help="HTML file (default: after the session)")] = None,
) -> None:
    """Write the shareable HTML report of a session (aggregates only, no face images)."""
    from campus_fer.report import build_report, render_html, report_filename  # Plotly: only when asked

    info = find_session(context.engine(), session)
    settings = context.state.settings
    html = render_html(
        build_report(
            context.engine(), info.id, min_faces=settings.min_faces_per_bucket, notice=settings.notice
        )
    )
    target = out or Path(report_filename(info))
    target.write_text(html, encoding="utf-8")
    context.console.print(f"Report of '{info.name}' written to {target} ({len(html) / 1e6:.1f} MB).")
