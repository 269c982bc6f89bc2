"""Per-session totals per minute and per hour, kept beside the observations so trends stay fast.

Each total is also per reading model (model_id is part of the key): a period read by two models
keeps two rows, so trends can tell the models apart and the wellbeing chart never mixes them; a
query that wants every model simply sums the rows, as before.

Every write of observations calls `add` in the same transaction; deletes either cascade (sessions)
or call `rebuild` for the periods they touch (retention), so each rollup table always equals a
GROUP BY over the observations. Trend queries read whole hours from `hour_rollups`, whole minutes
from `minute_rollups` and only sub-minute range edges from `observations` (see db.aggregates).

`session_rollups` sums the hour rollups once more, per session and model over all time (with the
first and last hour), for what reads every session without a date range; it is kept by the same
writes, so it always equals a GROUP BY over `hour_rollups`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Column, Connection, MetaData, Table, and_, case, delete, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from db.buckets import bucket_start
from db.bulk import COPY_MIN_ROWS, insert_rows
from db.models import (
    COUNT_COLUMNS,
    PROBABILITY_COLUMNS,
    SUM_COLUMNS,
    hour_rollups_table,
    minute_rollups_table,
    observations_table,
    session_rollups_table,
)
from db.timeutils import ceil_to, floor_to
from fer_core.labels import EMOTIONS, READABLE_MIN_FACE_PX

#: Additive columns of a rollup row.
TOTAL_COLUMNS: tuple[str, ...] = ("faces", "small_faces", *COUNT_COLUMNS, *SUM_COLUMNS)


@dataclass(frozen=True)
class Level:
    period: str  # "minute" | "hour"
    table: Table


#: Coarse to fine.
LEVELS: tuple[Level, ...] = (Level("hour", hour_rollups_table), Level("minute", minute_rollups_table))


def add(
    connection: Connection,
    session_ids: Sequence[int],
    observed_at: Sequence[datetime],
    model_ids: Sequence[str],
    top_labels: Sequence[int] | np.ndarray,
    probabilities: np.ndarray,
    readable: np.ndarray,
) -> None:
    """Add observations (naive UTC times) to the totals of every level and of their sessions."""
    faces = (session_ids, observed_at, model_ids, top_labels, probabilities, readable)
    for level in LEVELS:
        rows = rows_for(level.period, *faces)
        _upsert(connection, level.table, rows)
        if level.table is hour_rollups_table:
            _upsert(connection, session_rollups_table, session_rows(rows))


def session_rows(hour_rows: Sequence[dict]) -> list[dict]:
    """Hour rollup rows summed into one row per (session, model), with their first and last hour."""
    sessions: dict[tuple[int, str], dict] = {}
    for row in hour_rows:
        key = (row["session_id"], row["model_id"])
        total = sessions.get(key)
        if total is None:
            sessions[key] = {
                "session_id": row["session_id"],
                "model_id": row["model_id"],
                "first_hour": row["period_start"],
                "last_hour": row["period_start"],
                **{name: row[name] for name in TOTAL_COLUMNS},
            }
            continue
        total["first_hour"] = min(total["first_hour"], row["period_start"])
        total["last_hour"] = max(total["last_hour"], row["period_start"])
        for name in TOTAL_COLUMNS:
            total[name] += row[name]
    return list(sessions.values())


def rows_for(
    period: str,
    session_ids: Sequence[int],
    observed_at: Sequence[datetime],
    model_ids: Sequence[str],
    top_labels: Sequence[int] | np.ndarray,
    probabilities: np.ndarray,
    readable: np.ndarray,
) -> list[dict]:
    """Aggregate observations into one rollup row per (session, period, model); unreadable faces are
    only counted."""
    groups: dict[tuple[int, datetime, str], int] = {}
    inverse = np.fromiter(
        (
            groups.setdefault((int(sid), floor_to(at, period), str(model)), len(groups))
            for sid, at, model in zip(session_ids, observed_at, model_ids, strict=True)
        ),
        dtype=np.int64,
        count=len(observed_at),
    )
    n_groups = len(groups)
    readable = np.asarray(readable, dtype=bool)
    faces = np.bincount(inverse[readable], minlength=n_groups)
    small = np.bincount(inverse[~readable], minlength=n_groups)
    counts = np.zeros((n_groups, len(EMOTIONS)), dtype=np.int64)
    np.add.at(counts, (inverse[readable], np.asarray(top_labels, dtype=np.int64)[readable]), 1)
    sums = np.zeros((n_groups, len(EMOTIONS)))
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1, len(EMOTIONS))
    np.add.at(sums, inverse[readable], probabilities[readable])
    rows = []
    for j, (session_id, start, model_id) in enumerate(groups):
        row: dict = {
            "session_id": session_id,
            "period_start": start,
            "model_id": model_id,
            "faces": int(faces[j]),
            "small_faces": int(small[j]),
        }
        row.update(zip(COUNT_COLUMNS, counts[j].tolist(), strict=True))
        row.update(zip(SUM_COLUMNS, sums[j].tolist(), strict=True))
        rows.append(row)
    return rows


def rebuild(connection: Connection, start: datetime | None = None, end: datetime | None = None) -> None:
    """Recompute every level for the whole hours overlapping [start, end) from the observations, then
    every session's totals from the hours.

    None leaves that side open; `rebuild(connection)` recomputes everything.
    """
    start = floor_to(start, "hour") if start is not None else None
    end = ceil_to(end, "hour") if end is not None else None
    obs = observations_table
    for level in LEVELS:
        table = level.table
        clear = delete(table)
        if start is not None:
            clear = clear.where(table.c.period_start >= start)
        if end is not None:
            clear = clear.where(table.c.period_start < end)
        connection.execute(clear)

        period = bucket_start(level.period, obs.c.observed_at, connection.dialect.name)
        query = select(
            obs.c.session_id, period.label("period_start"), obs.c.model_id, *observation_totals()
        ).group_by(obs.c.session_id, period, obs.c.model_id)
        if start is not None:
            query = query.where(obs.c.observed_at >= start)
        if end is not None:
            query = query.where(obs.c.observed_at < end)
        columns = ["session_id", "period_start", "model_id", *TOTAL_COLUMNS]
        connection.execute(insert(table).from_select(columns, query))
    rebuild_sessions(connection)


def rebuild_sessions(connection: Connection) -> None:
    """Recompute `session_rollups` from the hour rollups (all sessions: ~3 hour rows each, fast)."""
    hours, sessions = hour_rollups_table, session_rollups_table
    connection.execute(delete(sessions))
    query = select(
        hours.c.session_id,
        hours.c.model_id,
        func.min(hours.c.period_start),
        func.max(hours.c.period_start),
        *(func.sum(hours.c[name]) for name in TOTAL_COLUMNS),
    ).group_by(hours.c.session_id, hours.c.model_id)
    columns = ["session_id", "model_id", "first_hour", "last_hour", *TOTAL_COLUMNS]
    connection.execute(insert(sessions).from_select(columns, query))


def observation_totals() -> list:
    """SQL aggregates over `observations` matching the rollup TOTAL_COLUMNS."""
    obs = observations_table
    readable = or_(obs.c.face_size.is_(None), obs.c.face_size >= READABLE_MIN_FACE_PX)
    return [
        func.count(case((readable, 1))).label("faces"),
        func.count(case((~readable, 1))).label("small_faces"),
        *(
            func.sum(case((and_(readable, obs.c.top_label == i), 1), else_=0)).label(c)
            for i, c in enumerate(COUNT_COLUMNS)
        ),
        *(
            func.sum(case((readable, obs.c[p]), else_=0.0)).label(s)
            for p, s in zip(PROBABILITY_COLUMNS, SUM_COLUMNS, strict=True)
        ),
    ]


def _upsert(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Add `rows` (unique per primary key) to `table` (INSERT ... ON CONFLICT DO UPDATE)."""
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        # Large batches: COPY into a connection-private staging table, then one INSERT ... SELECT.
        stage_name = f"{table.name}_stage"
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage_name} (LIKE {table.name}) ON COMMIT DELETE ROWS"
        )
        stage = Table(stage_name, MetaData(), *(Column(c.name, c.type) for c in table.columns))
        names = [c.name for c in table.columns]
        insert_rows(connection, stage, names, [tuple(row[n] for n in names) for row in rows])
        connection.execute(_adding(table, postgresql.insert(table).from_select(names, select(stage))))
        connection.execute(stage.delete())
    elif dialect in ("postgresql", "sqlite"):
        make_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        connection.execute(_adding(table, make_insert(table)), rows)
    else:
        raise NotImplementedError(f"rollups are implemented for SQLite and PostgreSQL, not {dialect}")


def _adding(table: Table, stmt: Any) -> Any:
    """Make an INSERT add its totals to an existing row with the same key instead of failing (and widen
    a session row's first and last hour)."""
    update = {name: table.c[name] + stmt.excluded[name] for name in TOTAL_COLUMNS}
    if "first_hour" in table.c:
        first, last = stmt.excluded.first_hour, stmt.excluded.last_hour
        update["first_hour"] = case((first < table.c.first_hour, first), else_=table.c.first_hour)
        update["last_hour"] = case((last > table.c.last_hour, last), else_=table.c.last_hour)
    return stmt.on_conflict_do_update(index_elements=list(table.primary_key.columns), set_=update)
