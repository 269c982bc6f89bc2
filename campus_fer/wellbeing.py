"""Negative-affect share per week and per event, ready for campus_fer.stats' p-chart.

Counts come from the rollups through db.queries (readable faces only; faces too small to read are
counted apart as `unreadable`, because tiny faces read 'sad' far too often). The statistics and
the flag rule are campus_fer.stats.negative_affect_chart's; this module only shapes the inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy.engine import Engine

from campus_fer.stats import NEGATIVE_AFFECT, TOO_FEW_FACES, negative_affect_chart
from db import queries

INPUT_COLUMNS = ["period", "faces", "negative", "unreadable"]


def _negative_counts(frame: pd.DataFrame, key: str, total: str) -> pd.DataFrame:
    """Long rows (one per group and expression) -> one row per group: faces, negative, unreadable."""
    if frame.empty:
        return pd.DataFrame(columns=[key, "faces", "negative", "unreadable"])
    negative = frame[frame["expression"].isin(NEGATIVE_AFFECT)].groupby(key)["faces"].sum()
    groups = frame.drop_duplicates(key).set_index(key)
    return pd.DataFrame(
        {
            key: groups.index,
            "faces": groups[total].to_numpy(),
            "negative": negative.reindex(groups.index, fill_value=0).to_numpy(),
            "unreadable": groups["small_faces"].to_numpy(),
        }
    )


def weekly_chart(engine: Engine, min_faces: int, session_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """One row per ISO week with faces: negative-affect share, baseline, p-chart limits, flag, status."""
    trends = queries.expression_trends(engine, "week", session_ids, min_faces=1)
    weeks = _negative_counts(trends, "bucket_start", "bucket_faces").rename(
        columns={"bucket_start": "period"}
    )
    return negative_affect_chart(weeks[INPUT_COLUMNS], min_faces=min_faces)


def event_chart(engine: Engine, min_faces: int) -> pd.DataFrame:
    """One row per event session in date order (event date, else creation time), as a p-chart over events."""
    sessions = {info.id: info for info in queries.list_event_sessions(engine)}
    counts = _negative_counts(queries.session_comparison(engine, min_faces=1), "session_id", "session_faces")
    counts = counts[counts["session_id"].isin(sessions)]
    counts["date"] = [
        pd.Timestamp(sessions[i].event_date or sessions[i].created_at) for i in counts["session_id"]
    ]
    counts = counts.sort_values(["date", "session_id"], ignore_index=True)
    counts["period"] = counts.index  # the events' order; ties on a date keep the session order
    chart = negative_affect_chart(counts[INPUT_COLUMNS], min_faces=min_faces)
    chart.insert(1, "event", [sessions[i].name for i in counts["session_id"]])
    chart.insert(2, "date", counts["date"].to_numpy())
    return chart


def shown(chart: pd.DataFrame) -> pd.DataFrame:
    """Rows at or above the threshold only: smaller groups get no figure at all, not even their counts."""
    return chart[chart["status"] != TOO_FEW_FACES].reset_index(drop=True)
