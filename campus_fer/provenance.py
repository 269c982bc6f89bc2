"""Which models read the faces behind a figure, and where one model's readings give way to another's.

Readings of different models are not comparable: the FER+ consensus model v3 reads about 17 points
less negative affect than the FER2013-label model v2 on the same faces. So a chart over time marks
the first period read by a new model, and a caption names the models and their dates; the wellbeing
chart keeps each model's weeks apart (campus_fer.wellbeing). Plain data here, no drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from db.queries import ModelPeriod


@dataclass(frozen=True)
class ModelChange:
    """The first period (bucket, week or event order) with faces read by a model not seen before."""

    at: object  # the period's key: a bucket start (datetime) or an event's order
    model_id: str
    previous: tuple[str, ...]  # the models that read the periods before


def model_changes(frame: pd.DataFrame, key: str) -> list[ModelChange]:
    """Where new models start, from rows with `key` and `model_id` (one per period and model that read
    faces in it): e.g. db.queries.model_totals, or a wellbeing chart. The first model is no change."""
    if frame.empty or "model_id" not in frame:
        return []
    ordered = frame.sort_values(key, kind="stable")
    seen: list[str] = []
    changes = []
    for at, model in zip(ordered[key], ordered["model_id"].astype(str), strict=True):
        if model in seen:
            continue
        if seen:
            changes.append(ModelChange(at, model, tuple(seen)))
        seen.append(model)
    return changes


def models_per_key(frame: pd.DataFrame, key: str) -> pd.Series:
    """Per period (the index): the ids of the models that read it, joined by " + " (for tables and CSV)."""
    if frame.empty:
        return pd.Series(dtype=str)
    return frame.groupby(key, sort=True)["model_id"].agg(lambda ids: " + ".join(dict.fromkeys(map(str, ids))))


def _day(value: datetime) -> str:
    return f"{value:%Y-%m-%d}"


def models_caption(periods: Sequence[ModelPeriod]) -> str:
    """'Readings by fer2013-v2 until 2026-10-11, ferplus-v3 since 2026-10-12.' (dates in UTC, to the
    day); overlapping models get their date ranges. Empty when there are no readings."""
    if not periods:
        return ""
    if len(periods) == 1:
        return f"All readings by model {periods[0].model_id}."
    sequential = all(a.last_hour < b.first_hour for a, b in zip(periods, periods[1:], strict=False))
    if sequential:
        parts = [f"{periods[0].model_id} until {_day(periods[0].last_hour)}"]
        parts += [f"{p.model_id} from {_day(p.first_hour)} to {_day(p.last_hour)}" for p in periods[1:-1]]
        parts.append(f"{periods[-1].model_id} since {_day(periods[-1].first_hour)}")
        return "Readings by " + ", ".join(parts) + "."
    ranges = ", ".join(f"{p.model_id} ({_day(p.first_hour)} to {_day(p.last_hour)})" for p in periods)
    return f"Readings by {ranges}: the models overlap in time, so some periods mix their readings."


#: Why a change of model matters, for captions under charts and reports.
MODELS_DIFFER = (
    "Different models read the same faces differently (the FER+ consensus model reads far less "
    "negative affect than the FER2013-label model), so a step at a change of model is the model's, "
    "not the audience's."
)
