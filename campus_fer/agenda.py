"""Agenda segments from a typed table or pasted CSV, and each segment's expression mix with intervals.

The statistics are campus_fer.stats' (a bootstrap over photos, since faces in one photo are not
independent); this module only cuts a session's per-photo counts (db.segments.unit_counts) by
segment and keeps segments under the privacy threshold hidden. No Streamlit and no SQL of its own:
`session_segments` is the one place every door (pages, API, CLI, report) gets a session's segments.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from campus_fer.stats import MIN_PHOTOS_FOR_BOOTSTRAP, ShareDifference, ShareInterval, group_statistics
from db.models import COUNT_COLUMNS
from db.segments import OUTSIDE, Segment, agenda, check_agenda, unit_counts

#: Columns of the agenda table (typed in the app or pasted as CSV with this header).
AGENDA_COLUMNS: tuple[str, ...] = ("name", "start", "end")
AGENDA_EXAMPLE = (
    "name,start,end\nWelcome,09:00,09:15\nKeynote,09:15,10:00\nBreak,10:00,10:20\nWorkshop,10:20,11:30\n"
)

#: What the intervals are, for every page and report that shows them (Markdown).
INTERVAL_NOTE = (
    "Intervals are 95% intervals from a **bootstrap over photos**: whole photos are resampled, because "
    "faces in one photo share the moment, the light and the joke, so they are not independent and an "
    "interval that treats each face as a separate coin toss would be too narrow. With fewer than "
    f"{MIN_PHOTOS_FOR_BOOTSTRAP} photos in a group the interval is Wilson's on faces (the table says so), "
    "which may be too narrow. Only faces large enough to read are in the shares."
)


def _moment(value: object, day: date | None, row: int, column: str) -> datetime:
    """'09:15' on `day`, or a full date and time ('2025-05-03 09:15'); pandas parses both."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, time):
        if day is None:
            raise ValueError(
                f"Agenda row {row}: give the event date, or a full date and time for '{column}'."
            )
        return datetime.combine(day, value)
    text = str(value if value is not None else "").strip()
    if not text or text.lower() in {"nan", "nat", "none"}:
        raise ValueError(f"Agenda row {row} has no {column} time.")
    try:
        if len(text) <= 8 and ":" in text:  # a time of day
            value = time.fromisoformat(text if len(text) > 4 else f"0{text}")
        else:
            return pd.Timestamp(text).to_pydatetime()
    except ValueError:
        raise ValueError(
            f"Agenda row {row}: cannot read {column} time '{text}' (use 09:15 or 2025-05-03 09:15)."
        ) from None
    return _moment(value, day, row, column)


def agenda_from_table(table: pd.DataFrame, day: date | None) -> list[Segment]:
    """Segments from a table with name, start, end columns (blank rows are ignored); ValueError if bad."""
    missing = [c for c in AGENDA_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"The agenda needs the columns {', '.join(AGENDA_COLUMNS)} (missing: {', '.join(missing)})."
        )
    segments = []
    for row, values in enumerate(table[list(AGENDA_COLUMNS)].itertuples(index=False), start=1):
        name, start, end = values
        if all(pd.isna(v) or str(v).strip() == "" for v in values):
            continue
        segments.append(
            Segment(
                str(name if not pd.isna(name) else "").strip(),
                _moment(start, day, row, "start"),
                _moment(end, day, row, "end"),
            )
        )
    return check_agenda(segments)


def agenda_from_csv(text: str, day: date | None) -> list[Segment]:
    """Segments from pasted CSV with a `name,start,end` header; ValueError with a readable message."""
    try:
        table = pd.read_csv(io.StringIO(text.strip()), dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"Cannot read the CSV ({exc}).") from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    return agenda_from_table(table, day)


def agenda_table(segments: Sequence[Segment]) -> pd.DataFrame:
    """The stored agenda as the editable table (times as 'YYYY-MM-DD HH:MM')."""
    return pd.DataFrame(
        [(s.name, f"{s.starts_at:%Y-%m-%d %H:%M}", f"{s.ends_at:%Y-%m-%d %H:%M}") for s in segments],
        columns=list(AGENDA_COLUMNS),
    )


# ---------------------------------------------------------------------------------------------
# Statistics per segment


@dataclass(frozen=True)
class SegmentSummary:
    """A segment's counts, and its mix and comparison (both [] when it is under the threshold)."""

    segment: Segment
    photos: int  # photos or live frames with at least one face in the segment
    faces: int  # readable faces
    small_faces: int
    mix: list[ShareInterval] = field(default_factory=list)
    versus_rest: list[ShareDifference] = field(default_factory=list)
    models: tuple[str, ...] = ()  # ids of the models that read its faces, first used first

    @property
    def shown(self) -> bool:
        return bool(self.mix)

    @property
    def clear_differences(self) -> list[ShareDifference]:
        return [d for d in self.versus_rest if d.clear]


def models_used(units: pd.DataFrame) -> tuple[str, ...]:
    """Ids of the models that read these units' faces, in the order they were first used."""
    if "model_id" not in units or units.empty:
        return ()
    seen = units[units["faces"] + units["small_faces"] > 0].sort_values("observed_at", kind="stable")
    return tuple(dict.fromkeys(seen["model_id"].astype(str)))


def label_counts(units: pd.DataFrame) -> np.ndarray:
    """(units, 7) readable top-label counts in EMOTIONS order."""
    return units[list(COUNT_COLUMNS)].to_numpy(dtype=np.int64).reshape(-1, len(COUNT_COLUMNS))


def summarise_segments(
    units: pd.DataFrame, segments: Sequence[Segment], *, min_faces: int, seed: int = 0
) -> list[SegmentSummary]:
    """Every segment with its counts; mix and "vs the rest of the event" only at `min_faces` or more.

    The rest of the event is every other face of the session (other segments and faces outside
    any segment). `units` comes from db.segments.unit_counts. Each mix is the segment's own
    bootstrap; every comparison with the rest comes from one bootstrap over all the session's photos
    (campus_fer.stats.group_statistics).
    """
    # Each unit's position in `segments` (len(segments): in none of them, so only in the rest).
    position = {segment.id: i for i, segment in enumerate(segments)}
    groups = units["segment_id"].map(position).fillna(len(segments)).to_numpy(dtype=np.int64)
    statistics = group_statistics(label_counts(units), groups, len(segments), min_faces=min_faces, seed=seed)
    summaries = []
    for i, (segment, found) in enumerate(zip(segments, statistics, strict=True)):
        mine = units[groups == i]
        faces = int(mine["faces"].sum())
        mix = found.mix if faces else []
        summaries.append(
            SegmentSummary(
                segment,
                photos=int((mine["faces"] + mine["small_faces"] > 0).sum()),
                faces=faces,
                small_faces=int(mine["small_faces"].sum()),
                mix=mix,
                versus_rest=found.versus_rest if mix else [],
                models=models_used(mine),
            )
        )
    return summaries


@dataclass(frozen=True)
class SessionSegments:
    """A session's agenda cut: per-unit counts, each segment's summary, faces outside every segment."""

    session_id: int
    units: pd.DataFrame
    summaries: list[SegmentSummary]

    @property
    def outside_faces(self) -> int:
        return outside_faces(self.units)


def session_segments(engine: Engine, session_id: int, *, min_faces: int, seed: int = 0) -> SessionSegments:
    """Query a session's agenda and per-photo counts and summarise every segment (see summarise_segments)."""
    units = unit_counts(engine, session_id)
    summaries = summarise_segments(units, agenda(engine, session_id), min_faces=min_faces, seed=seed)
    return SessionSegments(session_id, units, summaries)


def outside_faces(units: pd.DataFrame) -> int:
    """Readable faces that fall in no segment (before, between or after the agenda)."""
    return int(units.loc[units["segment_id"] == OUTSIDE, "faces"].sum())


def mix_table(summaries: Sequence[SegmentSummary]) -> pd.DataFrame:
    """One row per shown segment and expression: share with its interval (for charts, CSV and reports)."""
    rows = [
        {
            "segment": s.segment.name,
            "start": s.segment.starts_at,
            "expression": i.expression,
            "faces": i.faces,
            "segment_faces": i.total,
            "share": i.share,
            "low": i.low,
            "high": i.high,
            "interval": i.method,
        }
        for s in summaries
        for i in s.mix
    ]
    columns = ["segment", "start", "expression", "faces", "segment_faces", "share", "low", "high", "interval"]
    return pd.DataFrame(rows, columns=columns)


def comparison_table(summaries: Sequence[SegmentSummary]) -> pd.DataFrame:
    """One row per shown segment and expression: segment minus rest of event, its interval and verdict."""
    rows = [
        {
            "segment": s.segment.name,
            "expression": d.expression,
            "segment share": d.segment_share,
            "rest of event": d.rest_share,
            "difference": d.difference,
            "low": d.low,
            "high": d.high,
            "clear": d.clear,
            "verdict": d.verdict,
            "interval": d.method,
        }
        for s in summaries
        for d in s.versus_rest
    ]
    columns = [
        "segment", "expression", "segment share", "rest of event", "difference", "low", "high",
        "clear", "verdict", "interval",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
