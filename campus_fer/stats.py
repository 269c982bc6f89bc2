"""Aggregate statistics with their uncertainty stated: expression shares with 95% intervals,
"segment vs the rest of the event". The control chart for the negative-affect share is
campus_fer.control_chart .

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

from campus_fer.settings import AppSettings
from fer_core.labels import EMOTIONS

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
