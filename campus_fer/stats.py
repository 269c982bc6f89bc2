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

How the photos are resampled: a Poisson bootstrap (Hanley & MacGibbon 2006; Chamandy et al. 2012),
each photo drawn Poisson(1) times independently, rather than n draws with replacement. To first
order the two give the same variance (for a share, the multinomial's covariance term vanishes), and
tests/test_stats.py checks the intervals against scipy.stats.bootstrap and their coverage by
simulation. Independent draws are what make it fast: one (resamples x photos) weight matrix of a
whole event serves every agenda segment *and* its "rest of the event" (group_statistics), where a
multinomial resample of each segment's rest would need a fresh draw over most of the event per
segment (2.8 s for an event of 100,000 faces and eight segments; benchmarks/large_event.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import norm, poisson
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
_BLOCK_CELLS: int = 1_000_000
#: Poisson bootstrap weights: counts above this are never drawn (their probability is under 1e-19),
#: uniforms are cut into this many slices, and a table entry of _STRADDLES means "finish with a uniform".
_POISSON_MAX: int = 20
_SLICES: int = 2**16
_STRADDLES: int = 255

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


def _poisson_tables() -> tuple[np.ndarray, np.ndarray]:
    """The Poisson(1) CDF, and each of the 65,536 equal slices of [0, 1) mapped to the count that
    inverts the CDF on the whole slice (_STRADDLES where a step of the CDF falls inside the slice)."""
    cdf = poisson.cdf(np.arange(_POISSON_MAX + 1), 1.0)
    low = np.arange(_SLICES) / _SLICES
    first = np.searchsorted(cdf, low, side="right")
    last = np.searchsorted(cdf, low + 1.0 / _SLICES, side="left")
    return cdf, np.where(first == last, first, _STRADDLES).astype(np.uint8)


def poisson_weights(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """(resamples, units) independent Poisson(1) counts (uint8): how often each unit is drawn in each
    resample of a Poisson bootstrap, the with-replacement resample whose units are drawn independently.

    Exact inversion of a uniform U, done cheaply: 16 random bits pick U's slice of [0, 1) (one of
    65,536) and a table gives the count for every slice that lies within one step of the CDF; in the
    8 slices a step crosses (1 draw in 8,192) a second uniform places U within its slice.
    """
    cdf, table = _POISSON_TABLES
    cells = int(np.prod(shape))
    # Raw 64-bit draws cut into four 16-bit slice numbers: several times faster than rng.integers.
    slices = rng.bit_generator.random_raw(-(-cells // 4)).view(np.uint16)[:cells]
    weights = np.take(table, slices)
    crossed = np.flatnonzero(weights == _STRADDLES)
    if len(crossed):
        u = (slices[crossed] + rng.random(len(crossed))) / _SLICES
        weights[crossed] = np.searchsorted(cdf, u, side="right")
    return weights.reshape(shape)


_POISSON_TABLES = _poisson_tables()


def grouped_bootstrap_sums(
    counts: np.ndarray, groups: np.ndarray, n_groups: int, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_groups, resamples, k) each group's column sums of `counts` (units x k) in every resample of
    one Poisson bootstrap over all units (`groups`: each unit's group, 0..n_groups-1).

    Units are drawn independently (poisson_weights), so the groups are resampled independently of
    each other and one draw serves every group and every union of groups: the resampled sums of "all
    units but group g" are the sums over all groups minus g's. Weights are drawn in blocks of at most
    _BLOCK_CELLS and multiplied with the counts in one matrix product per group and block.
    """
    counts = np.asarray(counts)
    groups = np.asarray(groups, dtype=np.int64)
    order = np.argsort(groups, kind="stable")
    edges = np.searchsorted(groups[order], np.arange(n_groups + 1))
    # float32 holds every sum exactly while it stays under 2**24 (weights are at most _POISSON_MAX).
    exact32 = float(np.abs(counts).sum()) * _POISSON_MAX < 2**24
    values = np.ascontiguousarray(counts[order].T, dtype=np.float32 if exact32 else np.float64)
    n_units = values.shape[1]
    sums = np.zeros((n_groups, resamples, values.shape[0]), dtype=np.float64)
    block = max(1, _BLOCK_CELLS // max(n_units, 1))
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        weights = poisson_weights((stop - start, n_units), rng).astype(values.dtype)
        for group in range(n_groups):
            a, b = edges[group], edges[group + 1]
            if b > a:
                # einsum, not BLAS: these skinny products are memory-bound, and a multithreaded BLAS
                # spends several times the CPU (and far more wall time on a busy machine) on them.
                sums[group, start:stop] = np.einsum("kn,rn->rk", values[:, a:b], weights[:, a:b])
    return sums


def resampled_shares(sums: np.ndarray) -> np.ndarray:
    """Shares of each column in resampled label sums (..., k); NaN for a resample that drew no face."""
    faces = sums.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(faces > 0, sums / np.where(faces > 0, faces, 1.0), np.nan)


def percentile_interval(
    samples: np.ndarray, n_units: int, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Expanded percentile interval (Hesterberg 2015) of bootstrap samples along axis 0.

    A plain percentile interval over n photos is too narrow when n is small (it misses the
    (n-1)/n variance bias and the t-versus-normal tails: 91% coverage at 10 photos, 93% at 40 in
    our simulations); taking the quantiles at Phi(sqrt(n/(n-1)) t_{n-1}) instead of alpha/2
    fixes most of that (95% at 10 photos) and tends to alpha/2 as n grows. NaN samples (a
    resample that drew no face) are left out.
    """
    n_units = max(n_units, 2)
    alpha = 1.0 - confidence
    tail = float(norm.cdf(np.sqrt(n_units / (n_units - 1)) * student_t.ppf(alpha / 2.0, n_units - 1)))
    quantile = np.nanquantile if np.isnan(samples).any() else np.quantile
    low, high = quantile(samples, [tail, 1.0 - tail], axis=0)
    return low, high


def _units(counts: ArrayLike) -> np.ndarray:
    """Top-label counts as (units, 7) int64 without the units that hold no readable face."""
    counts = np.atleast_2d(np.asarray(counts, dtype=np.int64))
    if counts.shape[1] != len(EMOTIONS):
        raise ValueError(f"counts need {len(EMOTIONS)} columns (EMOTIONS order), not {counts.shape[1]}")
    return counts[counts.sum(axis=1) > 0]


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
    counts = _units(counts)
    bootstrap = by_photo and len(counts) >= MIN_PHOTOS_FOR_BOOTSTRAP and counts.sum() >= max(min_faces, 1)
    sums = (
        grouped_bootstrap_sums(counts, np.zeros(len(counts)), 1, resamples, np.random.default_rng(seed))[0]
        if bootstrap
        else None
    )
    return _share_intervals(counts.sum(axis=0), len(counts), sums, by_photo, min_faces, confidence)


def _share_intervals(
    label_faces: np.ndarray,
    n_units: int,
    sums: np.ndarray | None,
    by_photo: bool,
    min_faces: int,
    confidence: float,
) -> list[ShareInterval]:
    """expression_intervals from a group's label totals and, where it is bootstrapped, its resampled
    label sums (resamples x 7); [] below `min_faces`."""
    total = int(label_faces.sum())
    if total < max(min_faces, 1):
        return []
    shares = label_faces / total
    low, high = wilson_interval(label_faces, total, confidence)
    methods = np.full(len(EMOTIONS), WILSON if not by_photo else WILSON_FEW_PHOTOS, dtype=object)
    if sums is not None:
        boot_low, boot_high = percentile_interval(resampled_shares(sums), n_units, confidence)
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
    photos of each side independently (a two-sample cluster bootstrap); with fewer than
    MIN_PHOTOS_FOR_BOOTSTRAP photos on either side it is Newcombe's hybrid score interval on faces.
    Returns [] when either side has fewer than `min_faces` faces: no comparison is shown then.
    """
    segment, rest = _units(segment_counts), _units(rest_counts)
    sums = None
    if min(len(segment), len(rest)) >= MIN_PHOTOS_FOR_BOOTSTRAP:
        groups = np.repeat([0, 1], [len(segment), len(rest)])
        both = np.concatenate([segment, rest])
        sums = grouped_bootstrap_sums(both, groups, 2, resamples, np.random.default_rng(seed))
    return _share_differences(
        segment.sum(axis=0), rest.sum(axis=0), min(len(segment), len(rest)), sums, min_faces, confidence
    )


def _share_differences(
    seg_labels: np.ndarray,
    rest_labels: np.ndarray,
    n_units: int,
    sums: np.ndarray | None,
    min_faces: int,
    confidence: float,
) -> list[ShareDifference]:
    """compare_segment from both sides' label totals and, where bootstrapped, their resampled label
    sums (2 x resamples x 7: segment, rest); `n_units` is the smaller side's photo count."""
    seg_total, rest_total = int(seg_labels.sum()), int(rest_labels.sum())
    if min(seg_total, rest_total) < max(min_faces, 1):
        return []
    seg_share, rest_share = seg_labels / seg_total, rest_labels / rest_total
    difference = seg_share - rest_share
    if sums is not None:
        samples = resampled_shares(sums[0]) - resampled_shares(sums[1])
        low, high = percentile_interval(samples, n_units, confidence)
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


@dataclass(frozen=True)
class GroupStatistics:
    """One group's expression mix (expression_intervals) and its difference from every other unit
    (compare_segment); each is [] where those functions would return []."""

    mix: list[ShareInterval]
    versus_rest: list[ShareDifference]


def group_statistics(
    counts: ArrayLike,
    groups: ArrayLike,
    n_groups: int,
    *,
    min_faces: int = DEFAULT_MIN_FACES,
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> list[GroupStatistics]:
    """For groups 0..n_groups-1 of one event's photos (e.g. its agenda segments): each group's mix and
    its difference from the rest of the event, with the intervals, thresholds and fallbacks of
    expression_intervals and compare_segment.

    `counts`: per-photo top-label counts (photos x EMOTIONS); `groups`: each photo's group, where a
    value outside 0..n_groups-1 (e.g. -1: outside every segment) puts the photo only in the rest.
    A group's mix is expression_intervals of its photos, seeded alike (so a view that shows one
    segment's mix gets the same interval). The differences all come from one bootstrap over the event's
    photos: each photo is drawn Poisson(1) times independently (grouped_bootstrap_sums), so a group
    and its rest are resampled independently and one photos x resamples draw serves every group,
    instead of a fresh draw over most of the event per group: that is what makes an event of 100,000
    faces and eight segments fast.
    """
    groups = np.asarray(groups, dtype=np.int64).reshape(-1)
    counts = np.asarray(counts, dtype=np.int64).reshape(len(groups), -1 if len(groups) else len(EMOTIONS))
    keep = counts.sum(axis=1) > 0
    counts, groups = _units(counts[keep]), groups[keep]
    groups = np.where((groups >= 0) & (groups < n_groups), groups, n_groups)  # the rest only
    labels = np.zeros((n_groups + 1, len(EMOTIONS)), dtype=np.int64)
    np.add.at(labels, groups, counts)
    photos = np.bincount(groups, minlength=n_groups + 1)
    all_labels, all_photos = labels.sum(axis=0), len(counts)
    settings = {"min_faces": min_faces, "confidence": confidence, "resamples": resamples, "seed": seed}
    mixes = [expression_intervals(counts[groups == g], **settings) for g in range(n_groups)]
    sums = None
    if any(min(photos[g], all_photos - photos[g]) >= MIN_PHOTOS_FOR_BOOTSTRAP for g in range(n_groups)):
        sums = grouped_bootstrap_sums(counts, groups, n_groups + 1, resamples, np.random.default_rng(seed))
        all_sums = sums.sum(axis=0)
    results = []
    for g, mix in enumerate(mixes):
        n_rest = all_photos - photos[g]
        both = (
            np.stack([sums[g], all_sums - sums[g]])
            if sums is not None and min(photos[g], n_rest) >= MIN_PHOTOS_FOR_BOOTSTRAP
            else None
        )
        versus = _share_differences(
            labels[g], all_labels - labels[g], int(min(photos[g], n_rest)), both, min_faces, confidence
        )
        results.append(GroupStatistics(mix, versus))
    return results
