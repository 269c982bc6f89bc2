"""Text alternatives of the figures in campus_fer.figures: a one-line summary per chart (shown under
it on the pages, usable in the report) and the wide table of the numbers behind it. No Streamlit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from fer_core.labels import EMOTIONS


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _ranked(shares: Mapping[str, float]) -> str:
    """'happy 40%, neutral 25%, ...': every expression, largest share first."""
    shares = {e: float(v) for e, v in dict(shares).items() if pd.notna(v)}
    order = sorted(shares, key=lambda e: (-shares[e], EMOTIONS.index(e)))
    return ", ".join(f"{e} {_pct(shares[e])}" for e in order)


def _when(value: object) -> str:
    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def describe_mix(frame: pd.DataFrame) -> str:
    """Rows: expression, share, faces (one group of faces)."""
    if frame.empty:
        return "No readable faces."
    faces = int(frame["faces"].sum())
    shares = frame.groupby("expression", sort=False)["share"].sum()
    return f"Share of {faces:,} readable faces per apparent expression: {_ranked(shares)}."


def describe_trend(frame: pd.DataFrame) -> str:
    """Rows of db.queries.expression_trends: bucket_start, expression, share, faces, bucket_faces."""
    if frame.empty:
        return "No time bucket to show."
    buckets = frame.drop_duplicates("bucket_start")
    faces = frame.groupby("expression", sort=False)["faces"].sum()
    pooled = faces / faces.sum() if faces.sum() else faces
    return (
        f"{len(buckets)} time buckets from {_when(buckets['bucket_start'].min())} to "
        f"{_when(buckets['bucket_start'].max())} UTC; all of them together: {_ranked(pooled)}."
    )


def trend_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per time bucket: its faces and each expression's share."""
    wide = frame.pivot_table(index="bucket_start", columns="expression", values="share", aggfunc="sum")
    wide = wide.reindex(columns=[e for e in EMOTIONS if e in wide.columns])
    faces = frame.drop_duplicates("bucket_start").set_index("bucket_start")["bucket_faces"]
    return wide.assign(faces=faces).reset_index()[["bucket_start", "faces", *wide.columns]]


def describe_bucket_faces(frame: pd.DataFrame) -> str:
    """The faces-per-bucket counts of a trend frame."""
    counts = frame.drop_duplicates("bucket_start")["bucket_faces"]
    if counts.empty:
        return "No time bucket to show."
    return (
        f"{len(counts)} time buckets with {int(counts.min()):,} to {int(counts.max()):,} faces each "
        f"(median {counts.median():,.0f})."
    )


def describe_groups(frame: pd.DataFrame, group: str, what: str) -> str:
    """The largest share in each group (a session, a segment): rows `group`, expression, share."""
    if frame.empty:
        return f"No {what} to show."
    parts = []
    for name, rows in frame.groupby(group, sort=False):
        top = rows.loc[rows["share"].idxmax()]
        parts.append(f"{name}: {top['expression']} {_pct(top['share'])}")
    groups = frame[group].nunique()
    plural = "s" if groups != 1 else ""
    return f"{groups} {what}{plural}; the largest share in each: " + "; ".join(parts) + "."


def group_table(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    """One row per group (session, segment), one column per expression's share."""
    wide = frame.pivot_table(index=group, columns="expression", values="share", aggfunc="sum", sort=False)
    return wide.reindex(columns=[e for e in EMOTIONS if e in wide.columns]).reset_index()


def describe_differences(frame: pd.DataFrame, segment: str) -> str:
    """Rows of campus_fer.agenda.comparison_table for one segment."""
    clear = frame[frame["clear"]]
    if clear.empty:
        return f"{segment}: no expression differs from the rest of the event by more than its uncertainty."
    listed = ", ".join(f"{r.expression} {r.difference * 100:+.0f} points" for r in clear.itertuples())
    return f"{segment} minus the rest of the event, where the 95% interval excludes zero: {listed}."


def describe_p_chart(frame: pd.DataFrame, x: str, period: str) -> str:
    """Rows of campus_fer.control_chart.negative_affect_chart."""
    if frame.empty:
        return f"No {period} to show."
    flagged = frame[frame["flagged"]]
    when = ", ".join(str(v.date()) if isinstance(v, pd.Timestamp) else str(v) for v in flagged[x])
    above = (
        f"{len(flagged)} above the upper limit: {when}." if len(flagged) else "none above the upper limit."
    )
    return (
        f"Negative-affect share over {len(frame)} {period}s, from {_pct(frame['share'].min())} to "
        f"{_pct(frame['share'].max())}; {above}"
    )


def describe_counts(counts: Mapping[str, int], what: str) -> str:
    """'angry 3,995, disgust 436, ...' in EMOTIONS order."""
    return f"{what}: " + ", ".join(f"{e} {int(counts[e]):,}" for e in EMOTIONS if e in counts) + "."


def describe_confusion(matrix: Sequence[Sequence[float]]) -> str:
    """How often each labelled expression (row) is read as itself (counts or row shares)."""
    rows = np.asarray(matrix, dtype=float)
    totals = rows.sum(axis=1)
    right = np.divide(np.diag(rows), totals, out=np.zeros(len(rows)), where=totals > 0)
    return (
        "Share of each labelled expression read as itself: "
        + ", ".join(f"{e} {_pct(v)}" for e, v in zip(EMOTIONS, right))
        + "."
    )


def describe_scores(per_class: pd.DataFrame) -> str:
    """Rows: expression, precision, recall, f1."""
    return (
        "F1 per expression: " + ", ".join(f"{r.expression} {r.f1:.2f}" for r in per_class.itertuples()) + "."
    )


def describe_reliability(served: Mapping) -> str:
    """A model's calibration bins before and after temperature scaling (metrics.json)."""
    before, after = served["calibration_before"]["ece"], served["calibration_after"]["ece"]
    return f"Expected calibration error {before:.3f} before temperature scaling, {after:.3f} after."


def describe_resolution(served: Mapping, truth: str) -> str:
    """A model's agreement as faces shrink (metrics.json "resolution")."""
    curve = served["resolution"]
    first, last = curve[0], curve[-1]
    return (
        f"Agreement with the {truth} from {_pct(first['accuracy'])} at a {first['side']} px crop to "
        f"{_pct(last['accuracy'])} at {last['side']} px; share read as negative from "
        f"{_pct(first['predicted_negative_share'])} to {_pct(last['predicted_negative_share'])}; readability "
        f"floor at a {served['readable_floor']['crop_side']} px crop."
    )


def describe_history(history: pd.DataFrame) -> str:
    """Training history: accuracy per epoch, training and validation."""
    if "val_accuracy" not in history or history.empty:
        return f"{len(history)} epochs."
    best = int(history["val_accuracy"].to_numpy().argmax())
    training = (
        f", training accuracy then {history['accuracy'].iloc[best]:.1%}" if "accuracy" in history else ""
    )
    return (
        f"{len(history)} epochs; best validation accuracy {history['val_accuracy'].iloc[best]:.1%} at epoch "
        f"{best + 1}{training}."
    )
