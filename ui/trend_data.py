"""The trend page's data: aggregates above the privacy threshold, and how many groups fell below it.

Small groups are hidden so no individual can be singled out; counting them lets the page say
so instead of silently showing less.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd
from sqlalchemy.engine import Engine

from db import queries


@dataclass(frozen=True)
class TrendData:
    trends: pd.DataFrame  # db.queries.expression_trends rows, small buckets removed
    sessions: pd.DataFrame  # db.queries.session_comparison rows, small sessions removed
    hidden_buckets: int
    hidden_sessions: int
    total_faces: int  # all readable faces matching the filters, shown or hidden
    small_faces: int = 0  # faces too small to read: counted, in no share

    @property
    def empty(self) -> bool:
        return self.total_faces == 0 and self.small_faces == 0


def date_bounds(selected: Sequence[date]) -> tuple[datetime | None, datetime | None]:
    """A date_input range -> [start, end) datetimes; the end date is included; empty -> unbounded."""
    start = datetime.combine(selected[0], time.min) if len(selected) >= 1 else None
    end = datetime.combine(selected[1] + timedelta(days=1), time.min) if len(selected) >= 2 else None
    return start, end


def load_trends(
    engine: Engine,
    bucket: str,
    session_ids: Sequence[int] | None,
    start: datetime | None,
    end: datetime | None,
    min_faces: int,
) -> TrendData:
    """Query the trends and the per-session comparison once with and once without the threshold."""
    ids = list(session_ids) if session_ids is not None else None
    all_buckets = queries.expression_trends(engine, bucket, ids, start, end, min_faces=1)
    shown = all_buckets[all_buckets["bucket_faces"] >= min_faces].reset_index(drop=True)
    all_sessions = queries.session_comparison(engine, ids, start, end, min_faces=1)
    shown_sessions = all_sessions[all_sessions["session_faces"] >= min_faces].reset_index(drop=True)
    readable, small = queries.face_totals(engine, ids, start, end)
    return TrendData(
        trends=shown,
        sessions=shown_sessions,
        hidden_buckets=all_buckets["bucket_start"].nunique() - shown["bucket_start"].nunique(),
        hidden_sessions=all_sessions["session_id"].nunique() - shown_sessions["session_id"].nunique(),
        total_faces=readable,
        small_faces=small,
    )


def export_table(data: TrendData) -> pd.DataFrame:
    """The aggregated table offered as CSV: one row per shown bucket and expression."""
    table = data.trends.copy()
    table["share"] = table["share"].round(4)
    table["mean_probability"] = table["mean_probability"].round(4)
    return table
