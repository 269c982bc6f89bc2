"""`campus-fer trends`: apparent-expression shares per time bucket, as on the trends page."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Column, Table

from campus_fer.trends import TrendData, export_table, load_trends
from cli import context
from cli.context import find_session
from cli.output import print_json
from db import queries
from db.buckets import BUCKETS
from fer_core.labels import EMOTIONS


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
    as_json: Annotated[bool, typer.Option("--json", help="print the rows as JSON for scripts")] = False,
) -> None:
    """Apparent-expression shares per time bucket, as on the trends page (small buckets hidden).

    --json prints {"bucket", "min_faces", "hidden_buckets", "rows": [one per shown bucket and
    expression: bucket_start, expression, faces, share, bucket_faces, mean_probability, models],
    "model_changes": [{"at", "model_id", "previous"}]}."""
    if bucket not in BUCKETS:
        raise context.fail(f"--bucket must be one of {', '.join(BUCKETS)}")
    engine = context.engine()
    ids = [find_session(engine, key).id for key in session] if session else None
    end_at = end + timedelta(days=1) if end else None
    min_faces = context.state.settings.min_faces_per_bucket
    try:
        data = load_trends(engine, bucket, ids, start, end_at, min_faces)
    except queries.TooManyBucketsError as exc:
        raise context.fail(str(exc)) from None
    table = export_table(data)
    say = context.errors if as_json else context.console
    if csv_path is not None:
        table.to_csv(csv_path, index=False)
        say.print(f"{len(table)} rows written to {csv_path}.")
    if as_json:
        print_json(_trends_json(bucket, min_faces, data, table))
        return
    _print_table(data, table, bucket, min_faces)


def _trends_json(bucket: str, min_faces: int, data: TrendData, table: pd.DataFrame) -> dict[str, Any]:
    return {
        "bucket": bucket,
        "min_faces": min_faces,
        "hidden_buckets": data.hidden_buckets,
        "rows": table.to_dict(orient="records"),
        "model_changes": [
            {"at": c.at, "model_id": c.model_id, "previous": list(c.previous)} for c in data.model_changes
        ],
    }


def _print_table(data: TrendData, table: pd.DataFrame, bucket: str, min_faces: int) -> None:
    console = context.console
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
