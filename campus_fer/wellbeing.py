"""Negative-affect share per week and per event, ready for campus_fer.control_chart.

Counts come from the rollups through db.queries (readable faces only; faces too small to read are
counted apart as `unreadable`, because tiny faces read 'sad' far too often). The statistics and
the flag rule are campus_fer.control_chart.negative_affect_chart's; this module only shapes the inputs.

Each row is one period *and one reading model*: readings of different models are never pooled or
compared (model v3 reads about 17 points less negative affect than v2 on the same faces). A week (or
event) read by both models is split into one row per model, each judged against its own model's
baseline; the first weeks of a new model build that model's baseline, so the switch raises no flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy.engine import Engine

from campus_fer.control_chart import NEGATIVE_AFFECT, TOO_FEW_FACES, negative_affect_chart
from campus_fer.provenance import model_changes
from db import queries
from db.models import COUNT_COLUMNS
from fer_core.labels import EMOTIONS

INPUT_COLUMNS = ["period", "model_id", "faces", "negative", "unreadable"]
_NEGATIVE_COLUMNS = [COUNT_COLUMNS[EMOTIONS.index(name)] for name in NEGATIVE_AFFECT]
#: The totals the chart reads (the other expressions' counts and the probability sums are not summed).
_CHART_TOTALS = ("faces", "small_faces", *_NEGATIVE_COLUMNS)


def _negative_counts(totals: pd.DataFrame, key: str) -> pd.DataFrame:
    """db.queries.model_totals rows -> per group and model: faces, negative, unreadable. Groups with no
    readable face are left out (as before models were recorded: they have no share to chart)."""
    totals = totals[totals["faces"] > 0]
    return pd.DataFrame(
        {
            key: totals[key].to_numpy(),
            "model_id": totals["model_id"].astype(str).to_numpy(),
            "faces": totals["faces"].to_numpy(dtype="int64"),
            "negative": totals[_NEGATIVE_COLUMNS].sum(axis=1).to_numpy(dtype="int64"),
            "unreadable": totals["small_faces"].to_numpy(dtype="int64"),
        }
    )


def weekly_chart(engine: Engine, min_faces: int, session_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """One row per ISO week and reading model with faces: negative-affect share, baseline (of that
    model's earlier weeks), p-chart limits, flag, status."""
    totals = queries.model_totals(engine, "week", session_ids, columns=_CHART_TOTALS)
    weeks = _negative_counts(totals, "bucket_start").rename(columns={"bucket_start": "period"})
    return negative_affect_chart(_first_model_first(weeks)[INPUT_COLUMNS], min_faces=min_faces)


def event_chart(engine: Engine, min_faces: int) -> pd.DataFrame:
    """One row per event session (and reading model) in date order (event date, else creation time),
    as a p-chart over events."""
    sessions = queries.session_dates(engine)  # name and date: no counts needed here
    totals = queries.model_totals(engine, queries.BY_SESSION, columns=_CHART_TOTALS)
    counts = _negative_counts(totals, "session_id")
    counts = counts[counts["session_id"].isin(sessions.index)].copy()
    counts["date"] = sessions["date"].reindex(counts["session_id"]).to_numpy()
    counts = counts.sort_values(["date", "session_id"], ignore_index=True, kind="stable")
    # The events' order; ties on a date keep the session order, and both models' rows of one event share it.
    counts["period"] = counts.groupby(["date", "session_id"], sort=False).ngroup()
    counts = _first_model_first(counts)
    chart = negative_affect_chart(counts[INPUT_COLUMNS], min_faces=min_faces)
    chart.insert(1, "event", sessions["name"].reindex(counts["session_id"]).to_numpy())
    chart.insert(2, "date", counts["date"].to_numpy())
    return chart


def _first_model_first(rows: pd.DataFrame) -> pd.DataFrame:
    """Sort by period, and within a period by when each model was first used (old model first)."""
    first = rows.groupby("model_id")["period"].min()
    order = rows["model_id"].map(first.rank(method="first"))
    return rows.assign(_order=order).sort_values(["period", "_order"], kind="stable").drop(columns="_order")


@dataclass(frozen=True)
class BaselineRestart:
    """A new model's first period on the chart: from here its own baseline is built."""

    period: object  # the week's start, or the event's order
    model_id: str
    previous: tuple[str, ...]
    since: datetime | None  # first hour read by the new model (weekly charts), else None


def baseline_restarts(
    engine: Engine, chart: pd.DataFrame, session_ids: Sequence[int] | None = None
) -> list[BaselineRestart]:
    """Where the chart's baseline restarts because a new model read the faces (none for one model)."""
    changes = model_changes(chart, "period")
    if not changes:
        return []
    first_hours = {p.model_id: p.first_hour for p in queries.model_periods(engine, session_ids)}
    return [BaselineRestart(c.at, c.model_id, c.previous, first_hours.get(c.model_id)) for c in changes]


def shown(chart: pd.DataFrame) -> pd.DataFrame:
    """Rows at or above the threshold only: smaller groups get no figure at all, not even their counts."""
    return chart[chart["status"] != TOO_FEW_FACES].reset_index(drop=True)
