"""`campus-fer`: create sessions, import a folder of event photos and clips on every core (or a Ray
cluster), analyse a video, show sessions, export trends, write reports, set agendas, purge old
observations and manage API tokens. Thin: one module per command group; the work is done by
campus_fer (ingest, folder_import, video_ingest, agenda, report) and db.

Settings are the app's environment variables (CAMPUS_FER_DATABASE_URL, CAMPUS_FER_MAX_UPLOAD_MB,
CAMPUS_FER_MIN_FACES_PER_BUCKET, CAMPUS_FER_MODEL).
"""

from __future__ import annotations

import typer

from cli import agenda, imports, purge, report, sessions, tokens, trends, video
from cli.context import main

app = typer.Typer(
    help="Campus FER from the command line: apparent expressions of event photos, in aggregate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.callback()(main)
app.add_typer(sessions.app, name="sessions")
app.add_typer(agenda.app, name="agenda")
app.add_typer(tokens.app, name="token")
app.command("import")(imports.import_folder)
app.command("video")(video.video)
app.command("trends")(trends.trends)
app.command("report")(report.report)
app.command("purge")(purge.purge)

__all__ = ["app"]
