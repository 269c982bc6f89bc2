"""Plotly figures of expression shares (photos, trends, sessions), drawn for the pages and the report;
every expression keeps its EMOTION_COLORS colour across charts."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from fer_core.labels import EMOTION_COLORS, EMOTIONS

ORDER = {"expression": list(EMOTIONS)}
LABELS = {
    "expression": "Apparent expression",
    "share": "Share of faces",
    "faces": "Faces",
    "bucket_start": "Time (UTC)",
    "bucket_faces": "Faces in bucket",
    "session_name": "Session",
    "mean_probability": "Mean probability",
}


def tidy(fig: go.Figure, height: int = 360) -> go.Figure:
    """Common height, margins and legend for every figure of this package."""
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
        category_orders=ORDER,
        color_discrete_map=EMOTION_COLORS,
        labels=LABELS,
        title=title,
        hover_data={"faces": True, "share": ":.1%"},
    )
    fig.update_layout(showlegend=False, xaxis_tickformat=".0%")
    return tidy(fig, 320)


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
        category_orders=ORDER,
        color_discrete_map=EMOTION_COLORS,
        labels=LABELS,
        title="Apparent expressions over time",
        hover_data={"faces": True, "bucket_faces": True, "share": ":.1%"},
        markers=len(frame) < 8 * 7,
    )
    fig.update_layout(yaxis_tickformat=".0%", yaxis_range=[0, 1])
    mark_model_changes(fig, changes)
    return tidy(fig, 400)


def bucket_faces(frame: pd.DataFrame) -> go.Figure:
    """Bars: how many faces each time bucket is based on."""
    counts = frame.drop_duplicates("bucket_start")[["bucket_start", "bucket_faces"]]
    fig = px.bar(counts, x="bucket_start", y="bucket_faces", labels=LABELS, title="Faces per time bucket")
    fig.update_traces(marker_color="#4c78a8")
    return tidy(fig, 260)


def session_bars(frame: pd.DataFrame) -> go.Figure:
    """Stacked bars: the expression mix of each session (rows from db.queries.session_comparison)."""
    fig = px.bar(
        frame,
        x="share",
        y="session_name",
        color="expression",
        orientation="h",
        category_orders=ORDER,
        color_discrete_map=EMOTION_COLORS,
        labels=LABELS,
        title="Sessions compared",
        hover_data={"faces": True, "session_faces": True, "share": ":.1%"},
    )
    fig.update_layout(barmode="stack", xaxis_tickformat=".0%", yaxis={"type": "category"})
    return tidy(fig, max(260, 90 + 40 * frame["session_name"].nunique()))
