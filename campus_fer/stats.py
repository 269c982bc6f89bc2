"""Aggregate statistics with their uncertainty stated: expression shares with 95% intervals,
"segment vs the rest of the event", and a control chart for the negative-affect share.

Inputs are plain top-label counts (numpy arrays in fer_core.labels.EMOTIONS order, one row per
photo where photos are known); no database, no Streamlit. Shares are top-label shares, as the
trends page reports them (db.aggregates.long_format "share"): the fraction of readable faces whose
most probable expression is X. Groups with fewer faces than `min_faces` get no figure at all.

Why a bootstrap over photos: faces in one photo share lighting, camera angle and the moment
(everyone laughs at the same joke), so they are not independent. An interval that counts faces
as independent trials (Wilson) is then too narrow: on clustered faces it covers the true share
far less often than 95% (tests/test_stats.py measures it). Resampling whole photos keeps that
dependence; Wilson is right, and used, when each unit holds one face or only totals are known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import norm
from scipy.stats import t as student_t
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from fer_core.labels import EMOTIONS
from ui.settings import AppSettings  # plain dataclass module: importing it does not import Streamlit

#: Default minimum faces for any figure; pages pass the operator's setting (min_faces_per_bucket).
DEFAULT_MIN_FACES: int = AppSettings.min_faces_per_bucket
CONFIDENCE: float = 0.95
BOOTSTRAP_RESAMPLES: int = 2000
#: Below this many photos a percentile bootstrap has too few distinct resamples to be trusted;
#: Wilson on faces is used instead (and the method says so: it may be too narrow).
MIN_PHOTOS_FOR_BOOTSTRAP: int = 10
#: The resample x photo weight matrix is built in blocks of at most this many cells (memory bound).
_BLOCK_CELLS: int = 4_000_000

CLUSTER_BOOTSTRAP = "bootstrap over photos"
WILSON = "Wilson (faces as independent)"
WILSON_FEW_PHOTOS = "Wilson (too few photos for a bootstrap; may be too narrow)"
NEWCOMBE = "Newcombe (faces as independent)"
NEWCOMBE_FEW_PHOTOS = "Newcombe (too few photos for a bootstrap; may be too narrow)"

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

# What tests/test_stats.py checks by simulation, quoted by the README (seeded, so reproducible).
#: 95% interval coverage over this many simulated events must fall within CHECKED_COVERAGE_RANGE
#: (measured: bootstrap over photos 0.941; Wilson on the same clustered faces 0.873).
CHECKED_COVERAGE_EVENTS: int = 2000
CHECKED_COVERAGE_RANGE: tuple[float, float] = (0.93, 0.97)
#: Simulated event: photos, true share, faces per photo (mean), intra-photo correlation of faces.
CHECKED_EVENT_PHOTOS: int = 30
CHECKED_EVENT_SHARE: float = 0.30
CHECKED_FACES_PER_PHOTO: float = 6.0
CHECKED_INTRA_PHOTO_CORRELATION: float = 0.10
#: Simulated term: weeks, baseline negative share, readable faces per week (in photos of
#: CHECKED_FACES_PER_PHOTO faces with CHECKED_INTRA_PHOTO_CORRELATION, as above).
CHECKED_TERM_WEEKS: int = 15
CHECKED_BASELINE_SHARE: float = 0.20
CHECKED_WEEKLY_FACES: int = 400
#: A rise of CHECKED_SHIFT (absolute share, 20% -> 30%) starting in week CHECKED_SHIFT_WEEK is
#: flagged within CHECKED_WITHIN_WEEKS weeks in at least CHECKED_MIN_POWER of CHECKED_SHIFT_TERMS terms
#: (measured 0.83 over 1,000 terms; a rise not flagged in its first week enters the baseline, so
#: later weeks add little: a p-chart is built to catch clear jumps, not slow drifts) ...
CHECKED_SHIFT: float = 0.10
CHECKED_SHIFT_WEEK: int = 10
CHECKED_WITHIN_WEEKS: int = 3
CHECKED_SHIFT_TERMS: int = 400
CHECKED_MIN_POWER: float = 0.75
#: ... and at most CHECKED_MAX_FALSE_ALARM_RATE of CHECKED_STABLE_TERMS stable terms raise any flag
#: (measured 0.038 over 1,000 terms; a textbook 3-sigma p-chart with a known center would give
#: about 0.012 over the 9 judged weeks, estimating the center and sigma_z from 6-8 weeks costs the rest).
CHECKED_STABLE_TERMS: int = 200
CHECKED_MAX_FALSE_ALARM_RATE: float = 0.06


@dataclass(frozen=True)
class ShareInterval:
    """One expression share with its interval; `method` says how the interval was made."""

    expression: str
    faces: int  # faces with this top label
    total: int  # readable faces in the group
    share: float
    low: float
    high: float
    method: str


# ---------------------------------------------------------------------------------------------
# Intervals on shares


def wilson_interval(
    successes: ArrayLike, totals: ArrayLike, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (vectorised): right when every face is an independent trial."""
    low, high = proportion_confint(
        np.asarray(successes), np.asarray(totals), alpha=1.0 - confidence, method="wilson"
    )
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def bootstrap_weights(n_units: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples, n_units) how often each unit is drawn in each resample with replacement."""
    picks = rng.integers(0, n_units, size=(resamples, n_units))
    rows = np.arange(resamples)[:, None] * n_units
    return np.bincount((rows + picks).ravel(), minlength=resamples * n_units).reshape(resamples, n_units)


def cluster_bootstrap_shares(counts: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples, k) shares of each column of `counts` (photos x k) when whole photos are resampled.

    Each resample's share is its label count over its face count (a ratio over photos), so big
    photos weigh as much as they hold. Photos without faces must be removed beforehand.
    """
    counts = np.asarray(counts, dtype=np.float64)
    n_units = len(counts)
    faces = counts.sum(axis=1)
    block = max(1, _BLOCK_CELLS // max(n_units, 1))
    shares = []
    for start in range(0, resamples, block):
        weights = bootstrap_weights(n_units, min(block, resamples - start), rng).astype(np.float64)
        shares.append((weights @ counts) / (weights @ faces)[:, None])
    return np.concatenate(shares)


def percentile_interval(
    samples: np.ndarray, n_units: int, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Expanded percentile interval (Hesterberg 2015) of bootstrap samples along axis 0.

    A plain percentile interval over n photos is too narrow when n is small (it misses the
    (n-1)/n variance bias and the t-versus-normal tails: 91% coverage at 10 photos, 93% at 40 in
    our simulations); taking the quantiles at Phi(sqrt(n/(n-1)) t_{n-1}) instead of alpha/2
    fixes most of that (95% at 10 photos) and tends to alpha/2 as n grows.
    """
    n_units = max(n_units, 2)
    alpha = 1.0 - confidence
    tail = float(norm.cdf(np.sqrt(n_units / (n_units - 1)) * student_t.ppf(alpha / 2.0, n_units - 1)))
    low, high = np.quantile(samples, [tail, 1.0 - tail], axis=0)
    return low, high


def expression_intervals(
    counts: ArrayLike,
    *,
    by_photo: bool = True,
    min_faces: int = DEFAULT_MIN_FACES,
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> list[ShareInterval]:
    """Share of each expression in a group of faces, each with its interval; [] below `min_faces`.

    `counts`: top-label counts in EMOTIONS order, one row per photo (`by_photo=True`), or a single
    row of totals / rows of independent one-face units (`by_photo=False`). With photos known the
    interval is an (expanded) percentile bootstrap over photos (faces in a photo are not independent);
    Wilson is used when only totals are known, when there are fewer than MIN_PHOTOS_FOR_BOOTSTRAP photos, and
    for a share of exactly 0 or 1 (no resample can vary then, so the bootstrap would give a point).
    """
    counts = np.atleast_2d(np.asarray(counts, dtype=np.int64))
    if counts.shape[1] != len(EMOTIONS):
        raise ValueError(f"counts need {len(EMOTIONS)} columns (EMOTIONS order), not {counts.shape[1]}")
    counts = counts[counts.sum(axis=1) > 0]
    label_faces = counts.sum(axis=0)
    total = int(label_faces.sum())
    if total < max(min_faces, 1):
        return []
    shares = label_faces / total
    low, high = wilson_interval(label_faces, total, confidence)
    methods = np.full(len(EMOTIONS), WILSON if not by_photo else WILSON_FEW_PHOTOS, dtype=object)
    if by_photo and len(counts) >= MIN_PHOTOS_FOR_BOOTSTRAP:
        boot_low, boot_high = percentile_interval(
            cluster_bootstrap_shares(counts, resamples, np.random.default_rng(seed)), len(counts), confidence
        )
        varies = (label_faces > 0) & (label_faces < total)
        low, high = np.where(varies, boot_low, low), np.where(varies, boot_high, high)
        methods[:] = np.where(varies, CLUSTER_BOOTSTRAP, WILSON)
    return [
        ShareInterval(
            name, int(label_faces[i]), total, float(shares[i]), float(low[i]), float(high[i]), methods[i]
        )
        for i, name in enumerate(EMOTIONS)
    ]


def intervals_frame(intervals: Sequence[ShareInterval]) -> pd.DataFrame:
    """ShareIntervals as a table (one row per expression) for charts and reports."""
    columns = ["expression", "faces", "total", "share", "low", "high", "method"]
    return pd.DataFrame([vars(i) for i in intervals], columns=columns)


# ---------------------------------------------------------------------------------------------
# Segment vs the rest of the event


@dataclass(frozen=True)
class ShareDifference:
    """Segment share minus the rest-of-event share for one expression, with its interval."""

    expression: str
    segment_share: float
    rest_share: float
    difference: float
    low: float
    high: float
    segment_faces: int
    rest_faces: int
    method: str

    @property
    def clear(self) -> bool:
        """True when the interval excludes zero: the difference is larger than its uncertainty."""
        return self.low > 0.0 or self.high < 0.0

    @property
    def verdict(self) -> str:
        points = f"{abs(self.difference) * 100:.1f} points"
        if not self.clear:
            return (
                f"No clear difference in '{self.expression}': {points} "
                f"{'more' if self.difference >= 0 else 'less'} than the rest of the event, "
                "within the uncertainty."
            )
        direction = "more" if self.difference > 0 else "less"
        return (
            f"'{self.expression}' was {points} {direction} frequent than in the rest of the event; "
            "larger than its uncertainty."
        )


def compare_segment(
    segment_counts: ArrayLike,
    rest_counts: ArrayLike,
    *,
    min_faces: int = DEFAULT_MIN_FACES,
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> list[ShareDifference]:
    """Every expression's share in a segment minus its share in the rest of the event.

    Both inputs are per-photo top-label counts (photos x EMOTIONS). The interval resamples the
    photos of each side separately (a stratified cluster bootstrap); with fewer than
    MIN_PHOTOS_FOR_BOOTSTRAP photos on either side it is Newcombe's hybrid score interval on faces.
    Returns [] when either side has fewer than `min_faces` faces: no comparison is shown then.
    """
    sides = []
    for counts in (segment_counts, rest_counts):
        counts = np.atleast_2d(np.asarray(counts, dtype=np.int64)).reshape(-1, len(EMOTIONS))
        sides.append(counts[counts.sum(axis=1) > 0])
    (segment, rest) = sides
    seg_labels, rest_labels = segment.sum(axis=0), rest.sum(axis=0)
    seg_total, rest_total = int(seg_labels.sum()), int(rest_labels.sum())
    if min(seg_total, rest_total) < max(min_faces, 1):
        return []
    seg_share, rest_share = seg_labels / seg_total, rest_labels / rest_total
    difference = seg_share - rest_share
    if min(len(segment), len(rest)) >= MIN_PHOTOS_FOR_BOOTSTRAP:
        rng = np.random.default_rng(seed)
        samples = cluster_bootstrap_shares(segment, resamples, rng) - cluster_bootstrap_shares(
            rest, resamples, rng
        )
        low, high = percentile_interval(samples, min(len(segment), len(rest)), confidence)
        method = CLUSTER_BOOTSTRAP
    else:
        low, high = confint_proportions_2indep(
            seg_labels,
            seg_total,
            rest_labels,
            rest_total,
            method="newcomb",
            compare="diff",
            alpha=1.0 - confidence,
        )
        method = NEWCOMBE_FEW_PHOTOS
    return [
        ShareDifference(
            name,
            float(seg_share[i]),
            float(rest_share[i]),
            float(difference[i]),
            float(np.asarray(low)[i]),
            float(np.asarray(high)[i]),
            seg_total,
            rest_total,
            method,
        )
        for i, name in enumerate(EMOTIONS)
    ]


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
    for i in range(n):
        if not usable[i]:
            continue
        history = histories.setdefault(models[i], [])
        base = history[-baseline_weeks:]
        if len(base) < min_baseline_weeks:
            status[i] = BUILDING_BASELINE
            history.append(i)
            continue
        center[i] = negative[base].sum() / faces[base].sum()
        factor[i] = overdispersion_factor(negative[base], faces[base])
        lower[i], upper[i] = p_chart_limits(center[i], faces[i], sigmas, factor[i], faces[base].sum())
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
