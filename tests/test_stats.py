"""campus_fer.stats against known cases and by simulation (seeded): interval coverage on clustered
faces, the segment comparison, and the negative-affect chart's power and false-alarm rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import bootstrap, chisquare, norm, poisson
from scipy.stats import t as student_t

from campus_fer import control_chart, stats
from fer_core.labels import EMOTIONS

HAPPY, NEUTRAL, SAD = (EMOTIONS.index(name) for name in ("happy", "neutral", "sad"))

# What the simulations below must show, quoted by the README (seeded, so reproducible). The pass
# thresholds are literals here, not imported from campus_fer.stats: loosening one is a visible
# change to this file.
#: 95% interval coverage over this many simulated events must fall within COVERAGE_RANGE
#: (measured: bootstrap over photos 0.941; Wilson on the same clustered faces 0.873).
COVERAGE_EVENTS: int = 2000
COVERAGE_RANGE: tuple[float, float] = (0.93, 0.97)
#: Simulated event: photos, true share, faces per photo (mean), intra-photo correlation of faces.
EVENT_PHOTOS: int = 30
EVENT_SHARE: float = 0.30
FACES_PER_PHOTO: float = 6.0
INTRA_PHOTO_CORRELATION: float = 0.10
#: Simulated term: weeks, baseline negative share, readable faces per week (in photos of
#: FACES_PER_PHOTO faces with INTRA_PHOTO_CORRELATION, as above).
TERM_WEEKS: int = 15
BASELINE_SHARE: float = 0.20
WEEKLY_FACES: int = 400
#: A rise of SHIFT (absolute share, 20% -> 30%) starting in week SHIFT_WEEK is
#: flagged within WITHIN_WEEKS weeks in at least MIN_POWER of SHIFT_TERMS terms
#: (measured 0.83 over 1,000 terms; a rise not flagged in its first week enters the baseline, so
#: later weeks add little: a p-chart is built to catch clear jumps, not slow drifts) ...
SHIFT: float = 0.10
SHIFT_WEEK: int = 10
WITHIN_WEEKS: int = 3
SHIFT_TERMS: int = 400
MIN_POWER: float = 0.75
#: ... and at most MAX_FALSE_ALARM_RATE of STABLE_TERMS stable terms raise any flag
#: (measured 0.038 over 1,000 terms; a textbook 3-sigma p-chart with a known center would give
#: about 0.012 over the 9 judged weeks, estimating the center and sigma_z from 6-8 weeks costs the rest).
STABLE_TERMS: int = 200
MAX_FALSE_ALARM_RATE: float = 0.06
#: Bootstrap resamples in the coverage simulation (enough for 2.5% quantiles, keeps the test fast).
SIMULATION_RESAMPLES = 1000


def clustered_counts(
    rng: np.random.Generator,
    n_photos: int,
    share: float,
    label: int = HAPPY,
    faces_per_photo: float = FACES_PER_PHOTO,
    correlation: float = INTRA_PHOTO_CORRELATION,
) -> np.ndarray:
    """Per-photo top-label counts: each photo has its own share ~ Beta with mean `share` and
    intra-photo correlation `correlation` (faces in one photo look alike); the rest are neutral."""
    faces = 1 + rng.poisson(faces_per_photo - 1, n_photos)
    spread = 1.0 / correlation - 1.0
    photo_share = rng.beta(share * spread, (1.0 - share) * spread, n_photos)
    hits = rng.binomial(faces, photo_share)
    counts = np.zeros((n_photos, len(EMOTIONS)), dtype=np.int64)
    counts[:, label] = hits
    counts[:, NEUTRAL] += faces - hits
    return counts


def simulated_term(
    rng: np.random.Generator, shift: float = 0.0, shift_week: int | None = None
) -> pd.DataFrame:
    """Weekly readable faces and negative-affect counts of one term, built from clustered photos."""
    rows = []
    n_photos = round(WEEKLY_FACES / FACES_PER_PHOTO)
    for week in range(TERM_WEEKS):
        share = BASELINE_SHARE + (shift if shift_week is not None and week >= shift_week else 0.0)
        counts = clustered_counts(rng, n_photos, share, label=SAD)
        rows.append((week, int(counts.sum()), int(control_chart.negative_affect(counts.sum(axis=0))[0])))
    return pd.DataFrame(rows, columns=["period", "faces", "negative"])


# ---------------------------------------------------------------------------------------------
# Intervals: known cases


def test_wilson_matches_the_textbook_values():
    low, high = stats.wilson_interval([0, 5], [10, 10])
    assert low[0] == 0.0 and high[0] == pytest.approx(0.2775, abs=1e-4)
    assert (low[1], high[1]) == pytest.approx((0.2366, 0.7634), abs=1e-4)


def test_poisson_weights_draw_each_photo_poisson_one_times_reproducibly():
    weights = stats.poisson_weights((400, 5000), np.random.default_rng(0))
    assert weights.dtype == np.uint8 and weights.shape == (400, 5000)
    # The counts 0..6 and 7+ against Poisson(1): a chi-square test cannot tell them apart.
    observed = np.bincount(weights.ravel(), minlength=8)
    expected = poisson.pmf(np.arange(7), 1.0) * weights.size
    pooled = [*observed[:7], observed[7:].sum()], [*expected, weights.size - expected.sum()]
    assert chisquare(*pooled).pvalue > 0.01
    assert weights.mean() == pytest.approx(1.0, abs=0.005) and weights.var() == pytest.approx(1.0, abs=0.01)
    assert (stats.poisson_weights((400, 5000), np.random.default_rng(0)) == weights).all()


def test_grouped_bootstrap_sums_resample_each_group_from_one_draw():
    counts = np.arange(12, dtype=np.int64).reshape(6, 2)
    groups = np.array([1, 0, 1, 2, 0, 1])
    sums = stats.grouped_bootstrap_sums(counts, groups, 3, 50, np.random.default_rng(4))
    assert sums.shape == (3, 50, 2)
    # Unweighted, the sums would be each group's totals; resampled, they scatter around them.
    for group in range(3):
        totals = counts[groups == group].sum(axis=0)
        assert np.allclose(sums[group].mean(axis=0), totals, rtol=0.35)
    # Each resample's sum is a whole-number mix of the group's photos (weights are counts).
    assert np.array_equal(sums, np.round(sums))
    again = stats.grouped_bootstrap_sums(counts, groups, 3, 50, np.random.default_rng(4))
    assert np.array_equal(sums, again)


def test_bootstrap_interval_matches_scipy_percentile_bootstrap_over_photos():
    """Our interval against scipy.stats.bootstrap resampling whole photos (multinomial draws) at the
    same quantiles: they agree within the Monte Carlo error of 4,000 resamples."""
    counts = clustered_counts(np.random.default_rng(3), 300, 0.3)
    ours = stats.expression_intervals(counts, resamples=4000, seed=1)[HAPPY]
    n = len(counts)
    tail = norm.cdf(np.sqrt(n / (n - 1)) * student_t.ppf(0.025, n - 1))  # the expanded percentile's
    reference = bootstrap(
        (counts[:, HAPPY], counts.sum(axis=1)),
        lambda happy, faces, axis: happy.sum(axis=axis) / faces.sum(axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=4000,
        confidence_level=1 - 2 * tail,
        method="percentile",
        rng=np.random.default_rng(1),
    ).confidence_interval
    width = reference.high - reference.low
    assert ours.method == stats.CLUSTER_BOOTSTRAP
    assert ours.low == pytest.approx(reference.low, abs=0.05 * width)
    assert ours.high == pytest.approx(reference.high, abs=0.05 * width)


def test_expression_intervals_use_photos_when_known_and_hide_small_groups():
    counts = clustered_counts(np.random.default_rng(1), 40, 0.3)
    intervals = {i.expression: i for i in stats.expression_intervals(counts)}
    happy = intervals["happy"]
    assert happy.method == stats.CLUSTER_BOOTSTRAP
    assert happy.total == counts.sum() and happy.share == pytest.approx(counts[:, HAPPY].sum() / counts.sum())
    assert happy.low < happy.share < happy.high
    # No face was angry: the bootstrap cannot vary, so Wilson gives a real upper bound.
    assert intervals["angry"].method == stats.WILSON and intervals["angry"].high > 0.0
    # The same faces as independent totals give Wilson, narrower than the clustered bootstrap.
    totals = {i.expression: i for i in stats.expression_intervals(counts.sum(axis=0), by_photo=False)}
    assert totals["happy"].method == stats.WILSON
    assert totals["happy"].high - totals["happy"].low < happy.high - happy.low
    few = stats.expression_intervals(counts[:3])
    assert {i.method for i in few} == {stats.WILSON_FEW_PHOTOS}
    assert stats.expression_intervals(counts[:1], min_faces=int(counts[:1].sum()) + 1) == []
    frame = stats.intervals_frame(stats.expression_intervals(counts))
    assert list(frame["expression"]) == list(EMOTIONS) and frame["share"].sum() == pytest.approx(1.0)


def test_expression_intervals_reject_wrong_columns():
    with pytest.raises(ValueError, match="7 columns"):
        stats.expression_intervals(np.ones((3, 5), dtype=int))


# ---------------------------------------------------------------------------------------------
# Intervals: coverage by simulation


def test_cluster_bootstrap_covers_the_true_share_95_percent_of_simulated_events():
    rng = np.random.default_rng(2026)
    truth = EVENT_SHARE
    covered = wilson_covered = 0
    for event in range(COVERAGE_EVENTS):
        counts = clustered_counts(rng, EVENT_PHOTOS, truth)
        happy = stats.expression_intervals(counts, resamples=SIMULATION_RESAMPLES, seed=event)[HAPPY]
        covered += happy.low <= truth <= happy.high
        wilson = stats.expression_intervals(counts.sum(axis=0), by_photo=False)[HAPPY]
        wilson_covered += wilson.low <= truth <= wilson.high
    coverage = covered / COVERAGE_EVENTS
    low, high = COVERAGE_RANGE
    assert low <= coverage <= high, coverage
    # Why the bootstrap: Wilson treats the clustered faces as independent and covers far less.
    assert wilson_covered / COVERAGE_EVENTS < 0.90


def test_wilson_covers_the_true_share_95_percent_with_independent_faces():
    rng = np.random.default_rng(7)
    n_faces, truth = 150, EVENT_SHARE
    hits = rng.binomial(n_faces, truth, size=COVERAGE_EVENTS)
    low, high = stats.wilson_interval(hits, n_faces)
    coverage = float(np.mean((low <= truth) & (truth <= high)))
    assert COVERAGE_RANGE[0] <= coverage <= COVERAGE_RANGE[1], coverage


# ---------------------------------------------------------------------------------------------
# Segment vs the rest of the event


def test_compare_segment_finds_a_real_difference_and_not_a_null_one():
    rng = np.random.default_rng(5)
    keynote, rest = clustered_counts(rng, 40, 0.6), clustered_counts(rng, 80, 0.25)
    happy = stats.compare_segment(keynote, rest)[HAPPY]
    assert happy.method == stats.CLUSTER_BOOTSTRAP
    assert happy.clear and happy.low > 0 and happy.difference > 0.2
    assert "larger than its uncertainty" in happy.verdict and "more" in happy.verdict
    same = stats.compare_segment(clustered_counts(rng, 30, 0.3), clustered_counts(rng, 60, 0.3))[HAPPY]
    assert not same.clear and same.low < 0 < same.high and "No clear difference" in same.verdict


def test_compare_segment_false_positive_rate_under_no_difference():
    rng = np.random.default_rng(9)
    runs = 300
    clear = sum(
        stats.compare_segment(
            clustered_counts(rng, 20, 0.3), clustered_counts(rng, 40, 0.3), resamples=500, seed=i
        )[HAPPY].clear
        for i in range(runs)
    )
    assert clear / runs <= 0.08  # nominal 5%


def test_compare_segment_with_few_photos_or_faces():
    rng = np.random.default_rng(6)
    few = stats.compare_segment(clustered_counts(rng, 4, 0.6), clustered_counts(rng, 50, 0.2))[HAPPY]
    assert few.method == stats.NEWCOMBE_FEW_PHOTOS and few.low < few.difference < few.high
    tiny = np.zeros((1, len(EMOTIONS)), dtype=int)
    tiny[0, HAPPY] = 2
    assert stats.compare_segment(tiny, clustered_counts(rng, 50, 0.2), min_faces=5) == []


# ---------------------------------------------------------------------------------------------
# Every segment of an event from one bootstrap (group_statistics)


def test_group_statistics_match_the_one_segment_functions():
    """group_statistics gives each segment what expression_intervals and compare_segment give it alone."""
    rng = np.random.default_rng(11)
    keynote, rest = clustered_counts(rng, 40, 0.6), clustered_counts(rng, 80, 0.25)
    counts = np.concatenate([keynote, rest])
    groups = np.repeat([0, -1], [len(keynote), len(rest)])  # -1: outside every segment
    [found] = stats.group_statistics(counts, groups, 1, seed=3)
    # The same photos in the same order draw the same weights as compare_segment: identical results.
    assert found.versus_rest == stats.compare_segment(keynote, rest, seed=3)
    # The mix is the keynote's own expression_intervals (seeded alike): what a one-segment view shows.
    assert found.mix == stats.expression_intervals(keynote, seed=3)
    assert found.mix[HAPPY].method == stats.CLUSTER_BOOTSTRAP
    assert stats.group_statistics(counts, groups, 1, seed=3) == [found]  # seeded: reproducible


def test_group_statistics_keep_the_fallbacks_and_thresholds():
    rng = np.random.default_rng(12)
    few, small, big, rest = (clustered_counts(rng, n, 0.4) for n in (4, 1, 60, 50))
    small[:] = 0
    small[0, HAPPY] = 2  # 2 faces: under min_faces
    counts = np.concatenate([few, small, big, rest, np.zeros((3, len(EMOTIONS)), dtype=np.int64)])
    groups = np.repeat([0, 1, 2, 7, 2], [4, 1, 60, 50, 3])  # 7 is no group: the rest only
    first, second, third = stats.group_statistics(counts, groups, 3, min_faces=5)
    assert {i.method for i in first.mix} == {stats.WILSON_FEW_PHOTOS}
    assert {d.method for d in first.versus_rest} == {stats.NEWCOMBE_FEW_PHOTOS}
    assert first.mix == stats.expression_intervals(few, min_faces=5)  # no bootstrap: exactly the same
    assert (second.mix, second.versus_rest) == ([], [])
    happy = third.mix[HAPPY]
    assert happy.method == stats.CLUSTER_BOOTSTRAP and happy.total == big.sum()  # empty photos add nothing
    assert third.versus_rest[HAPPY].rest_faces == few.sum() + small.sum() + rest.sum()
    assert stats.group_statistics(np.zeros((0, len(EMOTIONS))), [], 2) == [
        stats.GroupStatistics([], []),
        stats.GroupStatistics([], []),
    ]


def test_group_statistics_cover_the_true_share_and_rarely_call_a_null_difference_clear():
    """Simulated events of three segments (30 photos each) and 20 photos outside them, all with the
    same true share: every segment's interval covers it about 95% of the time, and the difference from
    the rest of the event is called clear about 5% of the time."""
    rng = np.random.default_rng(2027)
    events, covered, clear, judged = 400, 0, 0, 0
    groups = np.repeat([0, 1, 2, -1], [30, 30, 30, 20])
    for event in range(events):
        counts = clustered_counts(rng, len(groups), EVENT_SHARE)
        for found in stats.group_statistics(counts, groups, 3, resamples=SIMULATION_RESAMPLES, seed=event):
            happy = found.mix[HAPPY]
            covered += happy.low <= EVENT_SHARE <= happy.high
            clear += found.versus_rest[HAPPY].clear
            judged += 1
    assert COVERAGE_RANGE[0] <= covered / judged <= COVERAGE_RANGE[1], covered / judged
    assert clear / judged <= 0.08, clear / judged


# ---------------------------------------------------------------------------------------------
# Negative affect: p-chart


def test_negative_affect_counts_the_four_negative_labels():
    counts = np.arange(1, 8)  # angry 1, disgust 2, fear 3, happy 4, sad 5, surprise 6, neutral 7
    assert control_chart.negative_affect(counts)[0] == 1 + 2 + 3 + 5


def test_chart_limits_follow_the_textbook_formula_and_flag_only_rises():
    weeks = pd.DataFrame(
        {
            "period": pd.date_range("2026-09-07", periods=9, freq="7D"),
            "faces": [400] * 6 + [3, 400, 400],
            "negative": [80] * 6 + [3, 160, 0],
            "unreadable": [100] * 9,
        }
    )
    chart = control_chart.negative_affect_chart(weeks, min_faces=5, min_baseline_weeks=6)
    assert list(chart.columns) == list(control_chart.CHART_COLUMNS)
    assert (chart["status"][:6] == control_chart.BUILDING_BASELINE).all()
    assert chart.loc[6, "status"] == control_chart.TOO_FEW_FACES and np.isnan(chart.loc[6, "share"])
    assert chart.loc[6, "negative"] == 0  # a group under the threshold shows no count either
    rise = chart.loc[7]
    assert rise["baseline_share"] == pytest.approx(0.2)
    # Six identical weeks: no overdispersion; the center is estimated from 2,400 faces.
    assert rise["overdispersion"] == 1.0
    assert rise["upper"] == pytest.approx(0.2 + 3 * np.sqrt(0.2 * 0.8 * (1 / 400 + 1 / 2400)))
    assert rise["flagged"] and rise["status"] == control_chart.ABOVE_LIMIT
    drop = chart.loc[8]  # far below the lower limit: not a wellbeing signal
    assert drop["share"] < drop["lower"] and not drop["flagged"]
    assert drop["baseline_share"] == pytest.approx(0.2)  # the flagged week stayed out of the baseline
    assert chart.loc[0, "unreadable_share"] == pytest.approx(100 / 500)


def test_chart_rejects_impossible_counts():
    with pytest.raises(ValueError, match="between 0 and the readable faces"):
        control_chart.negative_affect_chart(pd.DataFrame({"period": [1], "faces": [10], "negative": [11]}))


def test_chart_flags_an_injected_rise_within_the_stated_weeks():
    rng = np.random.default_rng(42)
    window = slice(SHIFT_WEEK, SHIFT_WEEK + WITHIN_WEEKS)
    detected = 0
    for _ in range(SHIFT_TERMS):
        term = simulated_term(rng, SHIFT, SHIFT_WEEK)
        detected += control_chart.negative_affect_chart(term)["flagged"].to_numpy()[window].any()
    assert detected / SHIFT_TERMS >= MIN_POWER


def test_chart_false_alarm_rate_on_stable_terms():
    rng = np.random.default_rng(43)
    alarms = sum(
        control_chart.negative_affect_chart(simulated_term(rng))["flagged"].any() for _ in range(STABLE_TERMS)
    )
    assert alarms / STABLE_TERMS <= MAX_FALSE_ALARM_RATE
    # Laney's sigma_z sees weeks that vary more than binomial counts allow (and only then widens).
    assert control_chart.overdispersion_factor(np.array([80] * 4), np.array([400] * 4)) == 1.0
    assert control_chart.overdispersion_factor(np.array([80, 100, 70, 95]), np.array([400] * 4)) > 1.0
