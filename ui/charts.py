"""Plotly figures for the pages; every expression keeps its EMOTION_COLORS colour across charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fer_core.labels import EMOTION_COLORS, EMOTIONS

_ORDER = {"expression": list(EMOTIONS)}
_LABELS = {
    "expression": "Apparent expression",
    "share": "Share of faces",
    "faces": "Faces",
    "bucket_start": "Time (UTC)",
    "bucket_faces": "Faces in bucket",
    "session_name": "Session",
    "mean_probability": "Mean probability",
}


def _tidy(fig: go.Figure, height: int = 360) -> go.Figure:
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend_title_text="", hovermode="closest"
    )
    return fig


def expression_mix(frame: pd.DataFrame, title: str = "Expression mix") -> go.Figure:
    """Horizontal bars: share of faces per apparent expression (rows: expression, share, faces)."""
    fig = px.bar(
        frame,
        x="share",
        y="expression",
        color="expression",
        orientation="h",
        text="faces",
        category_orders=_ORDER,
        color_discrete_map=EMOTION_COLORS,
        labels=_LABELS,
        title=title,
        hover_data={"faces": True, "share": ":.1%"},
    )
    fig.update_layout(showlegend=False, xaxis_tickformat=".0%")
    return _tidy(fig, 320)


#: Colour of the dotted line where a new model's readings begin.
MODEL_CHANGE_COLOR = "#6a3d9a"


def mark_model_changes(
    fig: go.Figure, changes: Sequence[tuple[object, str]], note: str = "from here"
) -> go.Figure:
    """A dotted vertical line and a label at each (x, model id) where a new model's readings begin
    (campus_fer.provenance.model_changes): a step there is the model's, not the audience's."""
    for x, model_id in changes:
        fig.add_shape(
            type="line", x0=x, x1=x, xref="x", y0=0, y1=1, yref="paper", name=f"model change: {model_id}",
            line={"color": MODEL_CHANGE_COLOR, "dash": "dot", "width": 2},
        )  # fmt: skip
        fig.add_annotation(
            x=x, y=1, xref="x", yref="paper", text=f"model {model_id} {note}", showarrow=False,
            xanchor="left", yanchor="bottom", font={"color": MODEL_CHANGE_COLOR},
        )  # fmt: skip
    return fig


def trend_area(frame: pd.DataFrame, changes: Sequence[tuple[object, str]] = ()) -> go.Figure:
    """Stacked areas of expression shares per time bucket (rows from db.queries.expression_trends),
    with a dotted line at each `changes` (bucket start, model id) where a new model starts reading."""
    fig = px.area(
        frame,
        x="bucket_start",
        y="share",
        color="expression",
        category_orders=_ORDER,
        color_discrete_map=EMOTION_COLORS,
        labels=_LABELS,
        title="Apparent expressions over time",
        hover_data={"faces": True, "bucket_faces": True, "share": ":.1%"},
        markers=len(frame) < 8 * 7,
    )
    fig.update_layout(yaxis_tickformat=".0%", yaxis_range=[0, 1])
    mark_model_changes(fig, changes)
    return _tidy(fig, 400)


def bucket_faces(frame: pd.DataFrame) -> go.Figure:
    """Bars: how many faces each time bucket is based on."""
    counts = frame.drop_duplicates("bucket_start")[["bucket_start", "bucket_faces"]]
    fig = px.bar(counts, x="bucket_start", y="bucket_faces", labels=_LABELS, title="Faces per time bucket")
    fig.update_traces(marker_color="#4c78a8")
    return _tidy(fig, 260)


def session_bars(frame: pd.DataFrame) -> go.Figure:
    """Stacked bars: the expression mix of each session (rows from db.queries.session_comparison)."""
    fig = px.bar(
        frame,
        x="share",
        y="session_name",
        color="expression",
        orientation="h",
        category_orders=_ORDER,
        color_discrete_map=EMOTION_COLORS,
        labels=_LABELS,
        title="Sessions compared",
        hover_data={"faces": True, "session_faces": True, "share": ":.1%"},
    )
    fig.update_layout(barmode="stack", xaxis_tickformat=".0%", yaxis={"type": "category"})
    return _tidy(fig, max(260, 90 + 40 * frame["session_name"].nunique()))


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
    fig.update_xaxes(side="bottom", tickangle=0)
    return _tidy(fig, 480)


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
        category_orders=_ORDER,
        labels={"expression": "Expression", "score": "Score", "metric": ""},
        title="Precision, recall and F1 per expression (PrivateTest)",
        color_discrete_sequence=["#4c78a8", "#f58518", "#54a24b"],
    )
    fig.update_layout(yaxis_range=[0, 1])
    return _tidy(fig)


def training_curves(history: pd.DataFrame) -> go.Figure:
    """Accuracy and loss per epoch, training against validation."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Accuracy", "Loss"))
    epochs = history["epoch"] + 1 if "epoch" in history else pd.Series(range(1, len(history) + 1))
    for col, (metric, val_metric) in enumerate((("accuracy", "val_accuracy"), ("loss", "val_loss")), start=1):
        series = [
            ("training (augmented faces)", metric, "#4c78a8"),
            ("validation", val_metric, "#f58518"),
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
    return _tidy(fig, 340)


def class_distribution(counts: Mapping[str, int]) -> go.Figure:
    """Bars: training faces per expression (shows the class imbalance)."""
    frame = pd.DataFrame({"expression": list(counts), "faces": [int(v) for v in counts.values()]})
    fig = px.bar(
        frame,
        x="expression",
        y="faces",
        color="expression",
        category_orders=_ORDER,
        color_discrete_map=EMOTION_COLORS,
        labels=_LABELS,
        title="Training faces per expression",
        text="faces",
    )
    fig.update_layout(showlegend=False)
    return _tidy(fig, 320)


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
    for key, name in (("calibration_before", "before"), ("calibration_after", "after")):
        bins = served[key]
        used = [i for i, n in enumerate(bins["count"]) if n]
        fig.add_trace(
            go.Scatter(
                x=[bins["confidence"][i] for i in used],
                y=[bins["accuracy"][i] for i in used],
                mode="lines+markers",
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
    return fig


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
    return fig
