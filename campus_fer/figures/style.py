"""One look for every figure of campus_fer.figures, on the pages and in the report: white background,
text >= 14 px in the app's text colour, expression colours and patterns from fer_core.labels."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from fer_core.labels import EMOTION_COLORS, EMOTION_PATTERNS

#: Chart text colour: the theme's textColor (.streamlit/config.toml; tests/test_palette.py keeps them
#: equal), >= 4.5:1 on the background.
TEXT_COLOR = "#0e1117"
#: Chart background (paper and plot area); the expression colours are >= 3:1 against it.
BACKGROUND = "#ffffff"
GRID_COLOR = "#d9e2ec"
#: Smallest chart text (ticks, legend, annotations, bar labels), px.
FONT_SIZE = 14
TITLE_SIZE = 17
FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", sans-serif'

_axis = {
    "gridcolor": GRID_COLOR,
    "zerolinecolor": GRID_COLOR,
    "linecolor": TEXT_COLOR,
    "tickcolor": TEXT_COLOR,
    "tickfont": {"size": FONT_SIZE, "color": TEXT_COLOR},
    "title": {"font": {"size": FONT_SIZE, "color": TEXT_COLOR}},
}

#: Plotly template every figure of this package uses (`TEMPLATE` as layout.template).
TEMPLATE = go.layout.Template(pio.templates["plotly_white"])
TEMPLATE.layout.update(
    font={"size": FONT_SIZE, "color": TEXT_COLOR, "family": FONT_FAMILY},
    title={"font": {"size": TITLE_SIZE, "color": TEXT_COLOR}},
    paper_bgcolor=BACKGROUND,
    plot_bgcolor=BACKGROUND,
    legend={"font": {"size": FONT_SIZE, "color": TEXT_COLOR}},
    hoverlabel={"font": {"size": FONT_SIZE}},
    xaxis=_axis,
    yaxis=_axis,
    coloraxis={"colorbar": {"tickfont": {"size": FONT_SIZE, "color": TEXT_COLOR}}},
    annotationdefaults={"font": {"size": FONT_SIZE, "color": TEXT_COLOR}},
)


def styled(fig: go.Figure) -> go.Figure:
    """Apply the template, and the same size to every subplot's axes and annotations (subplot titles
    are annotations made before the template is set)."""
    fig.update_layout(template=TEMPLATE)
    fig.update_xaxes(tickfont={"size": FONT_SIZE, "color": TEXT_COLOR}, title_font_size=FONT_SIZE)
    fig.update_yaxes(tickfont={"size": FONT_SIZE, "color": TEXT_COLOR}, title_font_size=FONT_SIZE)
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


def expression_patterns(fig: go.Figure) -> go.Figure:
    """Give each expression's bar traces its EMOTION_PATTERNS fill (over its colour), the second cue
    beside colour; traces are matched by name (plotly express names them after the expression)."""
    for trace in fig.data:
        if trace.type == "bar" and trace.name in EMOTION_PATTERNS:
            trace.marker.pattern = pattern(EMOTION_PATTERNS[trace.name])
    return fig


def pattern(shape: str | list[str]) -> dict:
    """marker.pattern of EMOTION_PATTERNS shapes (one, or one per bar) in white over the bar's colour,
    so the colour still fills the bar."""
    return {
        "shape": shape,
        "fillmode": "overlay",
        "fgcolor": BACKGROUND,
        "fgopacity": 0.6,
        "size": 8,
        "solidity": 0.25,
    }


def color_square(expression: str) -> str:
    """A small square in the expression's colour, for direct labels ('■ happy')."""
    return f"<span style='color:{EMOTION_COLORS[expression]}'>■</span>"


#: Plotly config of every chart, on the pages and in the report: no mode bar. Its eight buttons were
#: eight tab stops per chart (~48 on Model metrics); zoom and pan still work by mouse, double-click
#: resets, and every chart's numbers are in its text alternative (and the pages' CSV downloads).
CHART_CONFIG: dict = {"displayModeBar": False, "displaylogo": False}
