"""Plotly figures that show uncertainty: shares with interval bars, differences against zero, a p-chart.

Plotly only (no Streamlit), so the pages and the HTML report (campus_fer.report) draw the same
figures. Every expression keeps its EMOTION_COLORS colour, as in campus_fer.figures.expressions.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from campus_fer.figures.expressions import mark_model_changes
from campus_fer.figures.style import TEXT_COLOR, expression_patterns, pattern, styled
from fer_core.labels import EMOTION_COLORS, EMOTION_PATTERNS, EMOTIONS

_ORDER = {"expression": list(EMOTIONS)}
FLAG_COLOR = "#d62728"
#: Flagged periods are told by their shape too, not by colour alone.
FLAG_SYMBOL = "diamond"
LIMIT_COLOR = "#7f7f7f"


def _tidy(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10}, legend_title_text="")
    return expression_patterns(styled(fig))


def _error_bars(frame: pd.DataFrame, value: str) -> dict:
    return {
        "error_x" if value == "x" else "error_y": "upper",
        "error_x_minus" if value == "x" else "error_y_minus": "lower",
    }


def shares_with_intervals(frame: pd.DataFrame, title: str) -> go.Figure:
    """Horizontal bars of each expression's share with its interval (rows: expression, share, low, high)."""
    data = frame.assign(upper=frame["high"] - frame["share"], lower=frame["share"] - frame["low"])
    fig = px.bar(
        data, x="share", y="expression", color="expression", orientation="h", category_orders=_ORDER,
        color_discrete_map=EMOTION_COLORS, title=title, **_error_bars(data, "x"),
        labels={"share": "Share of readable faces (95% interval)", "expression": ""},
        hover_data={"faces": True, "low": ":.1%", "high": ":.1%", "share": ":.1%", "upper": False,
                    "lower": False},
    )  # fmt: skip
    fig.update_layout(showlegend=False, xaxis_tickformat=".0%", xaxis_range=[0, 1])
    return _tidy(fig, 320)


def segment_mix(frame: pd.DataFrame) -> go.Figure:
    """Grouped bars: each segment's expression shares with 95% intervals (campus_fer.agenda.mix_table)."""
    data = frame.assign(upper=frame["high"] - frame["share"], lower=frame["share"] - frame["low"])
    fig = px.bar(
        data, x="segment", y="share", color="expression", barmode="group", category_orders=_ORDER,
        color_discrete_map=EMOTION_COLORS, title="Apparent expressions per agenda segment (95% intervals)",
        **_error_bars(data, "y"),
        labels={"share": "Share of readable faces", "segment": "Segment"},
        hover_data={"segment_faces": True, "low": ":.1%", "high": ":.1%", "share": ":.1%", "upper": False,
                    "lower": False},
    )  # fmt: skip
    fig.update_layout(yaxis_tickformat=".0%", yaxis_range=[0, 1], xaxis={"type": "category"})
    return _tidy(fig, 420)


def difference_bars(frame: pd.DataFrame, segment: str) -> go.Figure:
    """One segment minus the rest of the event per expression, with intervals; zero is 'no difference'.

    Rows: campus_fer.agenda.comparison_table for one segment. Differences whose interval excludes
    zero are drawn solid, the others faded.
    """
    data = frame.assign(
        upper=frame["high"] - frame["difference"],
        lower=frame["difference"] - frame["low"],
        opacity=frame["clear"].map({True: 1.0, False: 0.35}),
    )
    fig = go.Figure(
        go.Bar(
            x=data["difference"],
            y=data["expression"],
            orientation="h",
            marker={
                "color": [EMOTION_COLORS[e] for e in data["expression"]],
                "opacity": data["opacity"],
                "pattern": pattern([EMOTION_PATTERNS[e] for e in data["expression"]]),
            },
            error_x={"type": "data", "array": data["upper"], "arrayminus": data["lower"]},
            hovertemplate="%{y}: %{x:+.1%}<extra></extra>",
        )
    )
    fig.add_vline(x=0, line_color=TEXT_COLOR)
    fig.update_layout(
        title=f"{segment} vs the rest of the event (difference in share, 95% interval)",
        xaxis_tickformat="+.0%",
        yaxis={"categoryorder": "array", "categoryarray": list(EMOTIONS)[::-1]},
    )
    return _tidy(fig, 320)


def p_chart(frame: pd.DataFrame, x: str, title: str) -> go.Figure:
    """Negative-affect share per period against its baseline and p-chart limits (campus_fer.control_chart
    negative_affect_chart rows); flagged periods as red diamonds, the unreadable-face share dashed.

    Each reading model gets its own line segments (a model's baseline never continues into
    another's), and a dotted line marks where a new model's baseline starts."""
    fig = go.Figure()
    models = list(dict.fromkeys(frame["model_id"].astype(str))) if "model_id" in frame else [""]
    for k, model in enumerate(models):
        part = frame[frame["model_id"].astype(str) == model] if "model_id" in frame else frame
        legend = {"showlegend": k == 0}
        suffix = f" ({model})" if len(models) > 1 else ""
        fig.add_trace(
            go.Scatter(x=part[x], y=part["upper"], name="upper limit", mode="lines", legendgroup="upper",
                       line={"color": LIMIT_COLOR, "dash": "dot", "shape": "hv"}, **legend)
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=part[x], y=part["lower"], name="lower limit", mode="lines", legendgroup="lower",
                       line={"color": LIMIT_COLOR, "dash": "dot", "shape": "hv"}, **legend)
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=part[x], y=part["baseline_share"], name="rolling baseline", mode="lines",
                       legendgroup="baseline", line={"color": "#4c78a8", "shape": "hv"}, **legend)
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=part[x], y=part["share"], name="negative-affect share", mode="lines+markers",
                legendgroup="share", line={"color": "#333333"},
                marker={"size": [13 if f else 9 for f in part["flagged"]],
                        "color": [FLAG_COLOR if f else "#333333" for f in part["flagged"]],
                        "symbol": [FLAG_SYMBOL if f else "circle" for f in part["flagged"]]},
                customdata=part[["faces", "status"]],
                hovertemplate=f"%{{y:.1%}} of %{{customdata[0]}} readable faces{suffix}: %{{customdata[1]}}"
                "<extra></extra>",
                **legend,
            )
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=part[x], y=part["unreadable_share"], name="share of faces too small to read",
                       mode="lines", legendgroup="unreadable", line={"color": "#857a75", "dash": "dash"},
                       **legend)
        )  # fmt: skip
    firsts = [(frame.loc[frame["model_id"].astype(str) == m, x].iloc[0], m) for m in models[1:]]
    mark_model_changes(fig, firsts, note="from here: new baseline")
    fig.update_layout(title=title, yaxis_tickformat=".0%", yaxis_rangemode="tozero", hovermode="x unified")
    return _tidy(fig, 400)
