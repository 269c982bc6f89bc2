"""Plotly figures of expression shares (photos, trends, sessions), drawn for the pages and the report;
every expression keeps its EMOTION_COLORS colour across charts."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from campus_fer.figures.style import BACKGROUND, FONT_SIZE, color_square, expression_patterns, pattern, styled
from fer_core.labels import EMOTION_COLORS, EMOTION_PATTERNS, EMOTIONS

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
    """Common look (campus_fer.figures.style), height, margins and legend for every figure of this
    package."""
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend_title_text="", hovermode="closest"
    )
    return styled(fig)


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
    fig.update_traces(textposition="outside", cliponaxis=False)
    fig.update_layout(showlegend=False, xaxis_tickformat=".0%")
    return expression_patterns(tidy(fig, 320))


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
    for trace in fig.data:  # solid bands (a translucent fill pales every colour towards grey), patterned
        trace.update(
            fillcolor=EMOTION_COLORS[trace.name],
            fillpattern=pattern(EMOTION_PATTERNS[trace.name]),
            line={"color": BACKGROUND, "width": 1},
        )
    fig.update_layout(yaxis_tickformat=".0%", yaxis_range=[0, 1])
    mark_model_changes(fig, changes)
    return label_last_points(tidy(fig, 400), frame)


#: Direct labels closer than this (share of the plot's height) are pushed apart.
_LABEL_GAP = 0.075


def label_last_points(fig: go.Figure, frame: pd.DataFrame) -> go.Figure:
    """Name each stacked band at the right edge, beside its last bucket ('■ happy', in stack order),
    so that the bands are told apart without their colour; the legend they replace is hidden."""
    if frame.empty:
        return fig
    last = frame[frame["bucket_start"] == frame["bucket_start"].max()].set_index("expression")["share"]
    drawn = [e for e in EMOTIONS if e in set(frame["expression"])]  # px.area draws a band for each
    shares = [float(last.get(e, 0.0)) for e in drawn]
    tops = [sum(shares[: i + 1]) for i in range(len(shares))]
    placed = [top - share / 2 for top, share in zip(tops, shares)]  # the middle of each band
    # Bottom to top, each label at least _LABEL_GAP above the one below; then top to bottom, none
    # past the top and each at least _LABEL_GAP below the one above (7 labels fit: 7 x gap < 1).
    for i in range(len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + _LABEL_GAP if i else _LABEL_GAP / 2)
    for i in reversed(range(len(placed))):
        placed[i] = min(placed[i], placed[i + 1] - _LABEL_GAP if i + 1 < len(placed) else 1 - _LABEL_GAP / 2)
    for expression, y in zip(drawn, placed):
        fig.add_annotation(
            x=1, xref="paper", xanchor="left", y=y, yref="y", yanchor="middle", showarrow=False,
            text=f"{color_square(expression)} {expression}", font={"size": FONT_SIZE},
            name=f"label: {expression}",
        )  # fmt: skip
    fig.update_layout(showlegend=False, margin={"r": 100})
    return fig


#: Colour of the faces-per-bucket stems (one series, not an expression).
BUCKET_COLOR = "#2a6f97"


def bucket_faces(frame: pd.DataFrame) -> go.Figure:
    """Stems with a dot: how many faces each time bucket is based on (a bar of one hour is under a pixel
    wide on a term's time axis; the dot keeps each bucket visible)."""
    counts = frame.drop_duplicates("bucket_start")[["bucket_start", "bucket_faces"]]
    fig = px.bar(counts, x="bucket_start", y="bucket_faces", labels=LABELS, title="Faces per time bucket")
    fig.update_traces(marker={"color": BUCKET_COLOR, "line": {"color": BUCKET_COLOR, "width": 2}})
    fig.add_trace(
        go.Scatter(
            x=counts["bucket_start"], y=counts["bucket_faces"], mode="markers", showlegend=False,
            marker={"color": BUCKET_COLOR, "size": 8}, hoverinfo="skip",
        )
    )  # fmt: skip
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
    return expression_patterns(tidy(fig, max(260, 90 + 40 * frame["session_name"].nunique())))
