"""Trend and segment data for a date range (the trends page, `GET /v1/trends`, `campus-fer trends`):
aggregates above the privacy threshold, and how many groups fell below it.

Small groups are hidden so no individual can be singled out; counting them lets the page say
so instead of silently showing less. Likewise the models that read the faces are named, and where a
new model starts the chart is marked, instead of silently mixing their readings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from campus_fer.agenda import SegmentSummary, label_counts, mix_table
from campus_fer.provenance import ModelChange, model_changes, models_caption, models_per_key
from campus_fer.stats import expression_intervals
from db import agendas, queries, segments
from db.segments import Segment


@dataclass(frozen=True)
class TrendData:
    trends: pd.DataFrame  # db.queries.expression_trends rows, small buckets removed
    sessions: pd.DataFrame  # db.queries.session_comparison rows, small sessions removed
    hidden_buckets: int
    hidden_sessions: int
    total_faces: int  # all readable faces matching the filters, shown or hidden
    small_faces: int = 0  # faces too small to read: counted, in no share
    #: Per shown bucket and reading model: bucket_start, model_id, faces (db.queries.model_totals).
    models: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["bucket_start", "model_id"]))
    periods: list[queries.ModelPeriod] = field(default_factory=list)  # each model's first/last hour

    @property
    def empty(self) -> bool:
        return self.total_faces == 0 and self.small_faces == 0

    @property
    def model_changes(self) -> list[ModelChange]:
        """The first shown bucket read by each new model (nothing to mark with one model)."""
        return model_changes(self.models, "bucket_start")

    @property
    def models_caption(self) -> str:
        """'Readings by fer2013-v2 until 2026-10-11, ferplus-v3 since 2026-10-12.'"""
        return models_caption(self.periods)


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
    """Query the trends and the per-session comparison (without the threshold, then split into shown
    and hidden groups): one GROUP BY per bucket and model serves the chart, its model marks and the
    face totals, one per session the comparison."""
    ids = list(session_ids) if session_ids is not None else None
    if bucket == "minute":
        queries.check_minute_buckets(engine, ids, start, end)
    totals = queries.model_totals(engine, bucket, ids, start, end)
    all_buckets = queries.trends_from_model_totals(totals)
    shown = all_buckets[all_buckets["bucket_faces"] >= min_faces].reset_index(drop=True)
    all_sessions = queries.session_comparison(engine, ids, start, end, min_faces=1)
    shown_sessions = all_sessions[all_sessions["session_faces"] >= min_faces].reset_index(drop=True)
    readable, small = int(totals["faces"].sum()), int(totals["small_faces"].sum())
    models = totals[totals["bucket_start"].isin(shown["bucket_start"]) & (totals["faces"] > 0)]
    return TrendData(
        trends=shown,
        sessions=shown_sessions,
        hidden_buckets=all_buckets["bucket_start"].nunique() - shown["bucket_start"].nunique(),
        hidden_sessions=all_sessions["session_id"].nunique() - shown_sessions["session_id"].nunique(),
        total_faces=readable,
        small_faces=small,
        models=models[["bucket_start", "model_id", "faces"]].reset_index(drop=True),
        periods=queries.model_periods(engine, ids, start, end),
    )


def export_table(data: TrendData) -> pd.DataFrame:
    """The aggregated table offered as CSV: one row per shown bucket and expression, with the model(s)
    that read the bucket's faces ("fer2013-v2", or "fer2013-v2 + ferplus-v3" where a bucket mixes them)."""
    table = data.trends.copy()
    table["share"] = table["share"].round(4)
    table["mean_probability"] = table["mean_probability"].round(4)
    table["models"] = table["bucket_start"].map(models_per_key(data.models, "bucket_start")).fillna("")
    return table


#: Sessions whose segments the trends page summarises at once (each segment gets its own bootstrap:
#: a campus year has tens of thousands of segments, so longer lists are shown a page at a time).
SEGMENT_SESSIONS_PER_PAGE = 5


@dataclass(frozen=True)
class SegmentTrends:
    """The trends grouped by agenda segment instead of time, over a page of the sessions that have an
    agenda in the dates (newest first, as listed)."""

    overview: pd.DataFrame  # one row per segment: counts and whether it is shown
    mix: pd.DataFrame  # campus_fer.agenda.mix_table rows; `segment` says "session · segment" across sessions
    sessions_without_agenda: list[str]
    with_agenda: int = 0  # sessions with an agenda in the dates, on every page
    first: int = 0  # index of this page's first session among them
    per_page: int = SEGMENT_SESSIONS_PER_PAGE

    @property
    def empty(self) -> bool:
        return self.overview.empty

    @property
    def pages(self) -> int:
        return max(1, -(-self.with_agenda // self.per_page))


OVERVIEW_COLUMNS = ["session", "segment", "start", "end", "photos", "readable faces", "too small", "shown"]


def load_segment_trends(
    engine: Engine,
    sessions: Sequence[queries.SessionInfo],
    start: datetime | None,
    end: datetime | None,
    min_faces: int,
    *,
    page: int = 0,
    per_page: int = SEGMENT_SESSIONS_PER_PAGE,
) -> SegmentTrends:
    """Every segment overlapping [start, end) of page `page` (from 0) of those `sessions` that have one,
    with its mix and 95% intervals (bootstrap over photos, as on the Agenda page); segments under
    `min_faces` readable faces are listed but not shown. Three queries whatever the number of sessions:
    which have an agenda in the dates, the page's agendas, and the page's per-photo counts."""

    def in_dates(segment: Segment) -> bool:
        return (start is None or segment.ends_at > start) and (end is None or segment.starts_at < end)

    have = agendas.sessions_with_agenda(engine, start, end)
    listed = [info for info in sessions if info.id in have]
    without = [info.name for info in sessions if info.id not in have]
    first = min(max(page, 0) * per_page, max(len(listed) - 1, 0) // per_page * per_page)
    shown = listed[first : first + per_page]
    stored = agendas.agendas(engine, [info.id for info in shown])
    units = _Units(segments.sessions_unit_counts(engine, [info.id for info in shown]))
    rows, mixes = [], []
    for info in shown:
        summaries = [
            units.summary(segment, min_faces) for segment in stored.get(info.id, []) if in_dates(segment)
        ]
        for s in summaries:
            rows.append(
                (info.name, s.segment.name, s.segment.starts_at, s.segment.ends_at, s.photos, s.faces,
                 s.small_faces, "yes" if s.shown else f"hidden (fewer than {min_faces} faces)")
            )  # fmt: skip
        mix = mix_table(summaries)
        mix.insert(0, "session", info.name)
        mixes.append(mix)
    mix = pd.concat(mixes, ignore_index=True) if mixes else mix_table([]).assign(session=pd.Series(dtype=str))
    if mix["session"].nunique() > 1:  # segment names repeat across events: name the event too
        mix["segment"] = mix["session"] + " · " + mix["segment"]
    overview = pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)
    return SegmentTrends(overview, mix, without, len(listed), first, per_page)


class _Units:
    """db.segments.sessions_unit_counts rows as arrays: each segment is a mask, not a DataFrame slice."""

    def __init__(self, units: pd.DataFrame) -> None:
        self.segment_ids = units["segment_id"].to_numpy(dtype=np.int64)
        self.counts = label_counts(units)
        self.faces = units["faces"].to_numpy(dtype=np.int64)
        self.small = units["small_faces"].to_numpy(dtype=np.int64)
        self.models = units["model_id"].astype(str).to_numpy()  # in time order within each session

    def summary(self, segment: Segment, min_faces: int) -> SegmentSummary:
        """A segment's counts and mix with intervals, as campus_fer.agenda.summarise_segments makes them
        (same seed, so the same intervals); the comparison with the rest of the event, which this
        view does not show, is left out."""
        mine = self.segment_ids == segment.id
        faces = int(self.faces[mine].sum())
        seen = mine & (self.faces + self.small > 0)
        return SegmentSummary(
            segment,
            photos=int(seen.sum()),
            faces=faces,
            small_faces=int(self.small[mine].sum()),
            mix=expression_intervals(self.counts[mine], min_faces=min_faces) if faces else [],
            models=tuple(dict.fromkeys(self.models[seen].tolist())),
        )
