"""The negative-affect share of each week against a rolling baseline: a p-chart with Laney's
overdispersion correction, one baseline per reading model. Plain counts in, a table out; no
database, no Streamlit (campus_fer.wellbeing shapes the inputs, pages/wellbeing.py draws it)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from campus_fer.stats import DEFAULT_MIN_FACES
from fer_core.labels import EMOTIONS

#: Negative affect = the four negative-valence FER2013 classes. Surprise is left out because its
#: valence is ambiguous (pleasant and unpleasant surprise look alike), neutral and happy are not
#: negative. Counted from readable faces only: tiny faces drift towards "sad" (fer_core.labels
#: READABLE_MIN_FACE_PX), which would otherwise raise the share in every crowded photo.
NEGATIVE_AFFECT: tuple[str, ...] = ("sad", "fear", "angry", "disgust")
_NEGATIVE_INDEX = [EMOTIONS.index(name) for name in NEGATIVE_AFFECT]

#: Control chart: limits at this many standard errors; only a rise above the upper limit flags.
CONTROL_SIGMAS: float = 3.0
#: The rolling baseline pools up to this many earlier weeks (a teaching term is 10-15 weeks) ...
BASELINE_WEEKS: int = 8
#: ... and no week is judged before this many earlier usable weeks exist.
MIN_BASELINE_WEEKS: int = 6
#: Consecutive-range constant d2 for ranges of two (Laney's sigma_z from the average moving range).
_D2: float = 1.128


# ---------------------------------------------------------------------------------------------
# Negative affect against a rolling baseline: a p-chart with Laney's overdispersion correction


def negative_affect(counts: ArrayLike) -> np.ndarray:
    """Faces whose top label is in NEGATIVE_AFFECT, per row of EMOTIONS-ordered counts."""
    counts = np.atleast_2d(np.asarray(counts, dtype=np.int64))
    return counts[:, _NEGATIVE_INDEX].sum(axis=1)


def p_chart_limits(
    center: ArrayLike,
    faces: ArrayLike,
    sigmas: float = CONTROL_SIGMAS,
    overdispersion: ArrayLike = 1.0,
    baseline_faces: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits for a share from `faces` faces around `center`.

    center +/- sigmas x overdispersion (Laney's sigma_z, at least 1) x binomial standard error,
    clipped to [0, 1]. With `baseline_faces` (the faces the center was estimated from) the
    standard error also carries the baseline's own uncertainty, sqrt(1/faces + 1/baseline_faces):
    a center from four weeks is not known exactly, and ignoring that raises the false-alarm rate.
    """
    center = np.asarray(center, dtype=np.float64)
    inverse = 1.0 / np.maximum(np.asarray(faces, dtype=np.float64), 1.0)
    if baseline_faces is not None:
        inverse = inverse + 1.0 / np.maximum(np.asarray(baseline_faces, dtype=np.float64), 1.0)
    spread = sigmas * np.asarray(overdispersion) * np.sqrt(center * (1.0 - center) * inverse)
    return np.clip(center - spread, 0.0, 1.0), np.clip(center + spread, 0.0, 1.0)


def overdispersion_factor(negative: np.ndarray, faces: np.ndarray) -> float:
    """Laney's sigma_z: how much more the baseline weeks vary than binomial counts would (at least 1).

    Weeks differ by more than chance (different events, rooms, topics, and faces within a photo
    move together), so with hundreds of faces a week the plain binomial limits are so narrow that
    ordinary weeks would flag. sigma_z rescales the limits by the variation actually seen, from the
    average moving range of the weeks' z-scores; the floor of 1 keeps them at least binomial.
    """
    if len(faces) < 2:
        return 1.0
    center = negative.sum() / faces.sum()
    if center <= 0.0 or center >= 1.0:
        return 1.0
    z = (negative / faces - center) / np.sqrt(center * (1.0 - center) / faces)
    return max(1.0, float(np.mean(np.abs(np.diff(z)))) / _D2)


def _limits(
    base_negative: list[int], base_faces: list[int], faces: int, sigmas: float
) -> tuple[float, float, float, float]:
    """(center, overdispersion, lower, upper) of one period against its baseline periods: what
    overdispersion_factor and p_chart_limits compute, in the same operations on plain floats (numpy's
    per-call overhead on a few values made a chart of 10,000 events take a second)."""
    center = sum(base_negative) / sum(base_faces)
    factor = 1.0
    if len(base_faces) >= 2 and 0.0 < center < 1.0:
        z = [
            (n / f - center) / math.sqrt(center * (1.0 - center) / f)
            for n, f in zip(base_negative, base_faces)
        ]
        steps = [abs(b - a) for a, b in zip(z, z[1:])]
        mean = sum(steps) / len(steps) if len(steps) < 8 else float(np.mean(steps))  # numpy's summation order
        factor = max(1.0, mean / _D2)
    inverse = 1.0 / max(float(faces), 1.0) + 1.0 / max(float(sum(base_faces)), 1.0)
    spread = sigmas * factor * math.sqrt(center * (1.0 - center) * inverse)
    return center, factor, min(max(center - spread, 0.0), 1.0), min(max(center + spread, 0.0), 1.0)


CHART_COLUMNS = (
    "period", "model_id", "faces", "negative", "share", "unreadable", "unreadable_share",
    "baseline_share", "lower", "upper", "overdispersion", "flagged", "status",
)  # fmt: skip
TOO_FEW_FACES = "too few faces"
BUILDING_BASELINE = "building baseline"
WITHIN_LIMITS = "within limits"
ABOVE_LIMIT = "above upper limit"


def negative_affect_chart(
    weeks: pd.DataFrame,
    *,
    min_faces: int = DEFAULT_MIN_FACES,
    baseline_weeks: int = BASELINE_WEEKS,
    min_baseline_weeks: int = MIN_BASELINE_WEEKS,
    sigmas: float = CONTROL_SIGMAS,
) -> pd.DataFrame:
    """Weekly negative-affect share against a rolling baseline, with p-chart limits as data.

    `weeks`: one row per period with `period`, `faces` (readable faces), `negative` (readable faces
    whose top label is negative affect) and optionally `unreadable` (faces too small to read, shown
    so a reader sees how much was left out) and optionally `model_id` (the model that read them). Each
    week is judged against the pooled share of up to `baseline_weeks` earlier usable weeks *read by
    the same model*: center = that share, limits = center +/- sigmas x binomial
    standard error for this week's face count x Laney's sigma_z. Only a share above the upper limit
    flags (a fall is not a wellbeing concern). Flagged weeks stay out of later baselines, so a
    lasting rise keeps flagging instead of silently becoming the new normal. Weeks under `min_faces`
    get no share, no limits and no flag.

    Readings of different models are never compared: a week read by a new model starts that model's
    own baseline (the first `min_baseline_weeks` of it are "building baseline", whatever the old
    model read), so a change of model cannot raise a flag. A period read by two models comes as two
    rows, one per model (campus_fer.wellbeing splits them). Without `model_id` all rows are one model.

    Why a p-chart rather than a CUSUM: face counts change a lot from week to week (exam weeks,
    holidays), and a p-chart's limits follow each week's own count directly and read as "this week
    is higher than chance allows", which support staff can check by eye; a CUSUM would detect a
    small lasting drift sooner but its alarm depends on the weeks before and is harder to explain.
    """
    weeks = weeks.sort_values("period", ignore_index=True, kind="stable")
    models = weeks["model_id"].astype(str).to_numpy() if "model_id" in weeks else np.full(len(weeks), "")
    faces = weeks["faces"].to_numpy(dtype=np.int64)
    negative = weeks["negative"].to_numpy(dtype=np.int64)
    if (negative > faces).any() or (negative < 0).any():
        raise ValueError("negative-affect counts must lie between 0 and the readable faces of their week")
    unreadable = (
        weeks["unreadable"].to_numpy(dtype=np.int64) if "unreadable" in weeks else np.zeros_like(faces)
    )
    n = len(weeks)
    usable = faces >= max(min_faces, 1)
    share = np.where(usable, negative / np.maximum(faces, 1), np.nan)
    center, lower, upper, factor = (np.full(n, np.nan) for _ in range(4))
    flagged = np.zeros(n, dtype=bool)
    status = np.full(n, TOO_FEW_FACES, dtype=object)
    histories: dict[str, list[int]] = {}  # per model: its usable, unflagged weeks so far
    negatives, face_counts = negative.tolist(), faces.tolist()  # plain ints for _limits
    for i in range(n):
        if not usable[i]:
            continue
        history = histories.setdefault(models[i], [])
        base = history[-baseline_weeks:]
        if len(base) < min_baseline_weeks:
            status[i] = BUILDING_BASELINE
            history.append(i)
            continue
        center[i], factor[i], lower[i], upper[i] = _limits(
            [negatives[j] for j in base], [face_counts[j] for j in base], face_counts[i], sigmas
        )
        flagged[i] = share[i] > upper[i]
        status[i] = ABOVE_LIMIT if flagged[i] else WITHIN_LIMITS
        if not flagged[i]:
            history.append(i)
    seen = faces + unreadable
    return pd.DataFrame(
        {
            "period": weeks["period"].to_numpy(),
            "model_id": models,
            "faces": faces,
            "negative": np.where(usable, negative, 0),
            "share": share,
            "unreadable": unreadable,
            "unreadable_share": np.where(seen >= max(min_faces, 1), unreadable / np.maximum(seen, 1), np.nan),
            "baseline_share": center,
            "lower": lower,
            "upper": upper,
            "overdispersion": factor,
            "flagged": flagged,
            "status": status,
        },
        columns=list(CHART_COLUMNS),
    )
