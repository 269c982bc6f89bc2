"""Expression totals per time bucket or per session, computed by GROUP BY in SQL.

A date range is cut into whole hours (read from hour_rollups), whole minutes at its edges
(minute_rollups) and the sub-minute rest (observations), so results are exact for any start/end
while most rows come from the small rollup tables. Per-session totals without a date range come
from session_rollups (one row per session and model). With `by_model` every group is also split by the
model that read its faces (model_id), so callers can tell models apart instead of summing them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Connection, Table, and_, func, or_, select

from db.buckets import bucket_start, epoch_seconds
from db.models import (
    COUNT_COLUMNS,
    SUM_COLUMNS,
    minute_rollups_table,
    observations_table,
    session_rollups_table,
)
from db.rollups import LEVELS, TOTAL_COLUMNS, observation_totals
from db.timeutils import ceil_to, floor_to
from fer_core.labels import EMOTIONS

#: Group by session instead of a time bucket.
BY_SESSION = "session"
#: Source name for the raw observations in a `plan`.
OBSERVATIONS = "observations"

Range = tuple[datetime | None, datetime | None]


def wide_totals(
    connection: Connection,
    by: str,
    session_ids: Sequence[int] | None,
    start: datetime | None,
    end: datetime | None,
    *,
    by_model: bool = False,
    columns: Sequence[str] = TOTAL_COLUMNS,
) -> pd.DataFrame:
    """One row per bucket (bucket_start, epoch seconds) or session: faces, n_<name>, sum_p_<name>.

    `start` is inclusive and `end` exclusive (naive UTC); `session_ids=None` means all sessions.
    `by_model`: one row per group and model instead, with a `model_id` column after the key.
    `columns`: the TOTAL_COLUMNS wanted (all by default); fewer sums cost less over 10,000 sessions.
    """
    unknown = set(columns) - set(TOTAL_COLUMNS)
    if unknown:
        raise ValueError(f"not total columns: {sorted(unknown)}")
    key = "session_id" if by == BY_SESSION else "bucket_start"
    keys = [key, "model_id"] if by_model else [key]
    # A minute bucket cannot come from hourly totals; every other grouping can.
    periods = ("minute",) if by == "minute" else tuple(level.period for level in LEVELS)
    ranges: dict[str, list[Range]] = defaultdict(list)
    if session_ids is None or len(session_ids) > 0:
        for source, a, b in plan(start, end, periods):
            ranges[source].append((a, b))
    dialect = connection.dialect.name
    if by == BY_SESSION and start is None and end is None:
        parts = [_session_totals(connection, session_ids, columns, by_model)] if ranges else []
        return _combine(parts, keys, key, columns)
    parts = []
    for level in LEVELS:
        if level.period in ranges:
            table = level.table
            if by == BY_SESSION:
                group: ColumnElement = table.c.session_id
            elif by == level.period:
                group = table.c.period_start  # already the bucket: no per-row function
            else:
                group = bucket_start(by, table.c.period_start, dialect)
            totals = [func.sum(table.c[c]).label(c) for c in columns]
            where = _filters(table, "period_start", session_ids, ranges[level.period])
            model = table.c.model_id if by_model else None
            parts.append(_fetch(connection, dialect, group, key, totals, where, model))
    if OBSERVATIONS in ranges:
        obs = observations_table
        group = obs.c.session_id if by == BY_SESSION else bucket_start(by, obs.c.observed_at, dialect)
        where = _filters(obs, "observed_at", session_ids, ranges[OBSERVATIONS])
        if session_ids is None:
            where += _sessions_seen(ranges[OBSERVATIONS])
        model = obs.c.model_id if by_model else None
        totals = [t for t in observation_totals() if t.name in columns]
        parts.append(_fetch(connection, dialect, group, key, totals, where, model))
    return _combine(parts, keys, key, columns)


def _session_totals(
    connection: Connection, session_ids: Sequence[int] | None, columns: Sequence[str], by_model: bool
) -> pd.DataFrame:
    """All-time totals per session (and model) from session_rollups."""
    table = session_rollups_table
    totals = [func.sum(table.c[c]).label(c) for c in columns]
    where = [] if session_ids is None else [table.c.session_id.in_(list(session_ids))]
    model = table.c.model_id if by_model else None
    return _fetch(connection, connection.dialect.name, table.c.session_id, "session_id", totals, where, model)


def _combine(parts: list[pd.DataFrame], keys: list[str], key: str, columns: Sequence[str]) -> pd.DataFrame:
    """The parts' totals summed per group, integer counts as int64, sorted by the group keys."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({k: [] for k in keys} | {c: [] for c in columns})
    wide = parts[0] if len(parts) == 1 else pd.concat(parts).groupby(keys, as_index=False).sum()
    integers = [c for c in (key, "faces", "small_faces", *COUNT_COLUMNS) if c in wide.columns]
    wide[integers] = wide[integers].round().astype(np.int64)
    return wide.sort_values(keys, ignore_index=True)


def plan(
    start: datetime | None, end: datetime | None, periods: Sequence[str]
) -> list[tuple[str, datetime | None, datetime | None]]:
    """Cut [start, end) into (source, start, end) pieces: whole `periods[0]`s, then finer at the edges.

    The source is a period name (its rollup table) or OBSERVATIONS for what no period covers whole.
    """
    if start is not None and end is not None and start >= end:
        return []
    if not periods:
        return [(OBSERVATIONS, start, end)]
    period, finer = periods[0], periods[1:]
    whole_start = ceil_to(start, period) if start is not None else None
    whole_end = floor_to(end, period) if end is not None else None
    if whole_start is not None and whole_end is not None and whole_start >= whole_end:
        return plan(start, end, finer)
    pieces: list[tuple[str, datetime | None, datetime | None]] = [(period, whole_start, whole_end)]
    if start is not None and whole_start is not None and start < whole_start:
        pieces += plan(start, whole_start, finer)
    if end is not None and whole_end is not None and whole_end < end:
        pieces += plan(whole_end, end, finer)
    return pieces


def long_format(wide: pd.DataFrame, key: str, total_name: str, min_faces: int) -> pd.DataFrame:
    """Wide totals -> one row per (key, expression) with faces, share, mean_probability, total
    (readable faces) and small_faces (faces too small to read, in no share)."""
    wide = wide[wide["faces"] >= max(min_faces, 1)]
    k = len(EMOTIONS)
    totals = wide["faces"].to_numpy(dtype=np.int64)
    counts = wide[list(COUNT_COLUMNS)].to_numpy(dtype=np.int64)
    sums = wide[list(SUM_COLUMNS)].to_numpy(dtype=np.float64)
    denominator = np.maximum(totals, 1)[:, None]
    return pd.DataFrame(
        {
            key: np.repeat(wide[key].to_numpy(), k),
            "expression": np.tile(np.array(EMOTIONS, dtype=object), len(wide)),
            "faces": counts.ravel(),
            "share": (counts / denominator).ravel(),
            "mean_probability": (sums / denominator).ravel(),
            total_name: np.repeat(totals, k),
            "small_faces": np.repeat(wide["small_faces"].to_numpy(dtype=np.int64), k),
        }
    )


def _filters(
    table: Table, time_column: str, session_ids: Sequence[int] | None, ranges: list[Range]
) -> list[ColumnElement[bool]]:
    """WHERE clauses: the sessions, and the union of the time ranges (None: unbounded)."""
    where = [] if session_ids is None else [table.c.session_id.in_(list(session_ids))]
    column = table.c[time_column]
    conditions = []
    for a, b in ranges:
        bounds = ([column >= a] if a is not None else []) + ([column < b] if b is not None else [])
        if not bounds:
            return where  # one range is unbounded: no time filter at all
        conditions.append(and_(*bounds))
    return [*where, or_(*conditions)]


def _sessions_seen(ranges: list[Range]) -> list[ColumnElement[bool]]:
    """For a range edge over all sessions: only the sessions with faces in its minutes (minute rollups,
    by period_start), so that the observations are read through their (session_id, observed_at) index
    and need no index of their own on observed_at (dropped in migration 0008)."""
    if any(a is None or b is None for a, b in ranges):
        return []
    minutes = minute_rollups_table
    seen = or_(
        *(
            and_(minutes.c.period_start >= floor_to(a, "minute"), minutes.c.period_start < b)
            for a, b in ranges
        )
    )
    return [observations_table.c.session_id.in_(select(minutes.c.session_id).where(seen).distinct())]


def _fetch(
    connection: Connection,
    dialect: str,
    group: ColumnElement,
    key: str,
    totals: list,
    where: list[ColumnElement[bool]],
    model: ColumnElement[str] | None = None,
) -> pd.DataFrame:
    """GROUP BY `group` (and `model`, when given) into a DataFrame; time buckets leave SQL as epoch
    seconds so that every column is a plain number and the rows become one float64 array (no
    per-value objects). The per-model split is for charts' model marks: few rows, built plainly."""
    shown = group if key == "session_id" else epoch_seconds(group, dialect)
    if model is not None:
        query = select(shown.label(key), model.label("model_id"), *totals).where(*where)
        result = connection.execute(query.group_by(group, model))
        # Plain tuples: pandas probes each Row's attributes (an exception per probe in SQLAlchemy).
        frame = pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))
        numbers = [c for c in frame.columns if c != "model_id"]
        frame[numbers] = frame[numbers].astype(np.float64)
        return frame
    result = connection.execute(select(shown.label(key), *totals).where(*where).group_by(group))
    columns = list(result.keys())
    rows = result.fetchall()
    flat = itertools.chain.from_iterable(rows)  # iterating Rows directly: no per-row attribute probing
    values = np.fromiter(flat, dtype=np.float64, count=len(rows) * len(columns)).reshape(-1, len(columns))
    return pd.DataFrame(values, columns=columns)
