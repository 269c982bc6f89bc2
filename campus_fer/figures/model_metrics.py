"""Plotly figures of a model's quality (metrics.json): confusion matrix, per-class scores, training
curves, class balance, calibration and the resolution curve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from campus_fer.figures.expressions import LABELS, ORDER, tidy
from campus_fer.figures.style import expression_patterns, pattern, styled
from fer_core.labels import EMOTION_COLORS, EMOTIONS


def confusion_heatmap(
    matrix: Sequence[Sequence[float]], normalised: bool, title: str = "Confusion matrix (PrivateTest)"
) -> go.Figure:
    """True expression (rows) against predicted (columns), as counts or row shares."""
    fig = px.imshow(
        matrix,
        x=list(EMOTIONS),
        y=list(EMOTIONS),
        color_continuous_scale="Blues",
        text_auto=".0%" if normalised else "d",
        zmin=0,
        zmax=1 if normalised else None,
        labels={"x": "Predicted", "y": "True", "color": "Share of row" if normalised else "Faces"},
        aspect="auto",
    )
    fig.update_layout(title=title)
    fig.update_xaxes(side="bottom", tickangle=-35)  # seven 14 px names do not fit side by side
    return tidy(fig, 480)


def per_class_bars(frame: pd.DataFrame) -> go.Figure:
    """Grouped bars of precision, recall and F1 per expression (rows: expression + the three scores)."""
    long = frame.melt(
        id_vars="expression", value_vars=["precision", "recall", "f1"], var_name="metric", value_name="score"
    )
    fig = px.bar(
        long,
        x="expression",
        y="score",
        color="metric",
        barmode="group",
        category_orders=ORDER,
        labels={"expression": "Expression", "score": "Score", "metric": ""},
        title="Precision, recall and F1<br>per expression (PrivateTest)",
        color_discrete_sequence=["#4c78a8", "#b35c00", "#54a24b"],
        pattern_shape="metric",
        pattern_shape_sequence=["", "/", "."],  # the three scores told apart without colour too
    )
    fig.update_traces(marker_pattern={k: v for k, v in pattern("").items() if k != "shape"})
    fig.update_layout(yaxis_range=[0, 1])
    return tidy(fig).update_layout(margin={"t": 70})


def training_curves(history: pd.DataFrame) -> go.Figure:
    """Accuracy and loss per epoch, training against validation."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Accuracy", "Loss"))
    epochs = history["epoch"] + 1 if "epoch" in history else pd.Series(range(1, len(history) + 1))
    for col, (metric, val_metric) in enumerate((("accuracy", "val_accuracy"), ("loss", "val_loss")), start=1):
        series = [
            ("training (augmented faces)", metric, "#4c78a8"),
            ("validation", val_metric, "#b35c00"),
        ]
        if metric == "accuracy":  # a FER+ run also logs validation against FER2013's labels
            series.append(("validation vs FER2013 labels", "val_fer2013_accuracy", "#9d755d"))
        for name, column, color in series:
            if column in history:
                fig.add_trace(
                    go.Scatter(
                        x=epochs,
                        y=history[column],
                        name=name,
                        mode="lines+markers",
                        line={"color": color},
                        legendgroup=name,
                        showlegend=col == 1,
                    ),
                    row=1,
                    col=col,
                )
    fig.update_xaxes(title_text="Epoch")
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    return tidy(fig, 340)


def class_distribution(counts: Mapping[str, int]) -> go.Figure:
    """Bars: training faces per expression (shows the class imbalance)."""
    frame = pd.DataFrame({"expression": list(counts), "faces": [int(v) for v in counts.values()]})
    fig = px.bar(
        frame,
        x="expression",
        y="faces",
        color="expression",
        category_orders=ORDER,
        color_discrete_map=EMOTION_COLORS,
        labels=LABELS,
        title="Training faces per expression",
        text="faces",
    )
    fig.update_traces(textposition="outside", cliponaxis=False)
    fig.update_layout(showlegend=False)
    return expression_patterns(tidy(fig, 320))


def reliability_diagram(served: dict) -> go.Figure:
    """Accuracy against confidence per bin, before and after temperature scaling (ECE in the legend)."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="perfect calibration",
            line={"dash": "dot", "color": "grey"},
        )
    )
    # Told apart by dash and marker shape as well as colour.
    for key, name, dash, symbol in (
        ("calibration_before", "before", "dash", "circle"),
        ("calibration_after", "after", "solid", "square"),
    ):
        bins = served[key]
        used = [i for i, n in enumerate(bins["count"]) if n]
        fig.add_trace(
            go.Scatter(
                x=[bins["confidence"][i] for i in used],
                y=[bins["accuracy"][i] for i in used],
                mode="lines+markers",
                line={"dash": dash},
                marker={"symbol": symbol, "size": 8},
                name=f"{name} temperature scaling (ECE {bins['ece']:.3f})",
                customdata=[bins["count"][i] for i in used],
                hovertemplate="confidence %{x:.2f}<br>accuracy %{y:.2f}<br>"
                "%{customdata} faces<extra></extra>",
            )
        )
    fig.update_layout(
        title="Reliability diagram (PrivateTest)",
        xaxis={"title": "confidence (top probability)", "range": [0, 1]},
        yaxis={"title": "agreement with the labels", "range": [0, 1]},
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 50},
    )
    return styled(fig)


def resolution_chart(served: dict, truth: str = "labels") -> go.Figure:
    """Agreement with the labels and the negative share read as faces shrink, with the readability
    floor marked (`served`: a model's metrics.json entry; `truth`: what its agreement is measured
    against)."""
    curve = served["resolution"]
    sides = [row["side"] for row in curve]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=sides,
            y=[r["accuracy"] for r in curve],
            mode="lines+markers",
            name=f"agreement with the {truth}",
            line={"color": "#222222"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=sides,
            y=[r["predicted_negative_share"] for r in curve],
            mode="lines+markers",
            name="share read as negative (sad, fear, angry, disgust)",
            line={"color": EMOTION_COLORS["sad"]},
        )
    )
    fig.add_hline(
        y=curve[0]["true_negative_share"],
        line_dash="dot",
        line_color="grey",
        annotation_text="negative share labelled",
    )
    fig.add_vline(
        x=served["readable_floor"]["crop_side"],
        line_dash="dash",
        line_color="red",
        annotation_text="readability floor",
    )
    fig.update_layout(
        title="Agreement as faces shrink (PrivateTest)",
        xaxis={"title": "face crop side (px)", "autorange": "reversed"},
        yaxis={"title": "share", "tickformat": ".0%", "range": [0, 1]},
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 50},
    )
    return styled(fig)
