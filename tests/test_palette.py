"""The expression palette and the charts' second cue and text (issue 17).

Distance: CIEDE2000 between two expression colours after simulating protanopia, deuteranopia and
tritanopia (Machado 2009 at full severity: campus_fer.figures.palette_checks); every pair must stay
>= CVD_MIN_DELTA_E apart under each, and >= NORMAL_MIN_DELTA_E in normal vision. CIEDE2000 ~2 is a
just-noticeable difference; 12 is a difference seen at a glance between two small chart areas.
The charts must draw these colours, each expression's pattern as a second cue, and text >= 14 px.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest

from campus_fer.figures.expressions import bucket_faces, expression_mix, session_bars, trend_area
from campus_fer.figures.model_metrics import class_distribution
from campus_fer.figures.palette_checks import VISION_NAMES, VISIONS, closest_pair, contrast_ratio
from campus_fer.figures.segments import difference_bars, segment_mix, shares_with_intervals
from campus_fer.figures.style import BACKGROUND, FONT_SIZE, TEXT_COLOR
from campus_fer.figures.summaries import describe_groups, describe_mix, describe_trend, group_table
from fer_core.config import PROJECT_ROOT
from fer_core.labels import EMOTION_COLORS, EMOTION_PATTERNS, EMOTIONS

pytest.importorskip("colorspacious")

NORMAL_MIN_DELTA_E = 20.0
CVD_MIN_DELTA_E = 12.0
NON_TEXT_CONTRAST = 3.0  # WCAG 2.2 1.4.11
TEXT_CONTRAST = 4.5  # WCAG 2.2 1.4.3


def test_every_expression_colour_stands_out_from_the_chart_background():
    assert set(EMOTION_COLORS) == set(EMOTIONS)
    ratios = {e: contrast_ratio(c, BACKGROUND) for e, c in EMOTION_COLORS.items()}
    assert min(ratios.values()) >= NON_TEXT_CONTRAST, ratios


@pytest.mark.parametrize("vision", VISIONS)
def test_every_pair_of_expression_colours_stays_apart(vision):
    pair, distance = closest_pair(EMOTION_COLORS, vision)
    floor = NORMAL_MIN_DELTA_E if vision == "normal" else CVD_MIN_DELTA_E
    assert distance >= floor, f"{pair} only {distance:.1f} CIEDE2000 apart with {VISION_NAMES[vision]}"


def test_the_earlier_palette_fails_the_same_check():
    """The check can fail: the earlier (Tableau 10) colours collapse under protanopia (happy/surprise)."""
    earlier = dict(
        zip(EMOTIONS, ("#d62728", "#8c564b", "#9467bd", "#2ca02c", "#1f77b4", "#ff7f0e", "#7f7f7f"))
    )
    pair, distance = closest_pair(earlier, "protanomaly")
    assert pair == ("happy", "surprise") and distance < 2


def test_patterns_are_a_second_cue_one_per_expression():
    assert set(EMOTION_PATTERNS) == set(EMOTIONS)
    assert len(set(EMOTION_PATTERNS.values())) == len(EMOTIONS) and "" not in EMOTION_PATTERNS.values()


def test_chart_text_is_the_theme_text_colour_and_reads():
    theme = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["theme"]
    assert TEXT_COLOR.lower() == theme["textColor"].lower()
    assert contrast_ratio(TEXT_COLOR, BACKGROUND) >= TEXT_CONTRAST
    assert BACKGROUND.lower() == theme["backgroundColor"].lower()


# -- the figures -------------------------------------------------------------------------------------


def _mix() -> pd.DataFrame:
    shares = np.array([0.05, 0.02, 0.08, 0.45, 0.1, 0.1, 0.2])
    return pd.DataFrame({"expression": EMOTIONS, "share": shares, "faces": (shares * 100).astype(int)})


def _intervals() -> pd.DataFrame:
    mix = _mix()
    return mix.assign(low=mix["share"] * 0.8, high=mix["share"] * 1.2)


def _sessions() -> pd.DataFrame:
    return pd.concat(
        [
            _mix().assign(session_id=i, session_name=name, session_faces=100)
            for i, name in enumerate(("A", "B"))
        ]
    )


def _trends() -> pd.DataFrame:
    starts = pd.date_range("2026-09-01 09:00", periods=3, freq="h", tz="UTC")
    return pd.concat([_mix().assign(bucket_start=t, bucket_faces=100) for t in starts], ignore_index=True)


def _segments() -> pd.DataFrame:
    return pd.concat([_intervals().assign(segment=s, segment_faces=100) for s in ("Keynote", "Workshop")])


def _differences() -> pd.DataFrame:
    d = _mix().assign(difference=np.linspace(-0.1, 0.1, 7), segment="Keynote")
    return d.assign(
        low=d["difference"] - 0.05, high=d["difference"] + 0.05, clear=d["difference"].abs() > 0.06
    )


def _figures():
    counts = dict(zip(EMOTIONS, range(100, 800, 100)))
    return {
        "expression_mix": expression_mix(_mix()),
        "session_bars": session_bars(_sessions()),
        "shares_with_intervals": shares_with_intervals(_intervals(), "Mix"),
        "segment_mix": segment_mix(_segments()),
        "class_distribution": class_distribution(counts),
    }


@pytest.mark.parametrize("name", list(_figures()))
def test_bar_charts_draw_each_expression_in_its_colour_and_pattern(name):
    fig = _figures()[name]
    bars = [t for t in fig.data if t.type == "bar"]
    assert {t.name for t in bars} == set(EMOTIONS)
    for trace in bars:
        assert trace.marker.color == EMOTION_COLORS[trace.name]
        assert trace.marker.pattern.shape == EMOTION_PATTERNS[trace.name]


def test_difference_bars_colour_and_pattern_each_expression():
    (bar,) = difference_bars(_differences(), "Keynote").data
    assert list(bar.marker.color) == [EMOTION_COLORS[e] for e in bar.y]
    assert list(bar.marker.pattern.shape) == [EMOTION_PATTERNS[e] for e in bar.y]


def test_stacked_areas_are_solid_patterned_and_labelled_in_stack_order():
    fig = trend_area(_trends())
    areas = [t for t in fig.data if t.stackgroup]
    assert [t.name for t in areas] == list(EMOTIONS)  # first drawn = bottom of the stack
    assert all(t.fillcolor == EMOTION_COLORS[t.name] for t in areas)
    assert all(t.fillpattern.shape == EMOTION_PATTERNS[t.name] for t in areas)
    labels = [a for a in fig.layout.annotations if (a.name or "").startswith("label: ")]
    assert [a.name.removeprefix("label: ") for a in labels] == list(EMOTIONS)
    heights = [a.y for a in labels]
    assert heights == sorted(heights) and min(np.diff(heights)) > 0.05  # bottom to top, never overlapping
    assert fig.layout.showlegend is False


def test_area_labels_stay_inside_the_plot_when_thin_bands_top_the_last_bucket():
    last = pd.Timestamp("2026-09-01 12:00", tz="UTC")
    crowded = pd.DataFrame(
        {"expression": ["happy", "sad", "neutral"], "share": [0.97, 0.01, 0.02], "faces": 1}
    )
    frame = pd.concat([_trends(), crowded.assign(bucket_start=last, bucket_faces=100)], ignore_index=True)
    labels = [a for a in trend_area(frame).layout.annotations if (a.name or "").startswith("label: ")]
    heights = [a.y for a in labels]
    assert len(labels) == len(EMOTIONS) and min(heights) > 0 and max(heights) < 1
    assert min(np.diff(heights)) > 0.05


def _font_sizes(node, inside_font: bool = False):
    """Every font size set anywhere in a figure's JSON (layout, template, traces, annotations)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "size" and inside_font and isinstance(value, int | float):
                yield value
            else:
                yield from _font_sizes(value, inside_font=key.endswith("font") or key == "font")
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _font_sizes(item, inside_font)


@pytest.mark.parametrize("name", ["trend_area", "bucket_faces", "difference_bars", *_figures()])
def test_chart_text_is_at_least_14_px_in_the_text_colour(name):
    builders = {"trend_area": lambda: trend_area(_trends()), "bucket_faces": lambda: bucket_faces(_trends()),
                "difference_bars": lambda: difference_bars(_differences(), "Keynote")}  # fmt: skip
    fig = builders[name]() if name in builders else _figures()[name]
    layout = fig.layout.template.layout
    assert layout.font.size >= FONT_SIZE and layout.font.color == TEXT_COLOR
    assert layout.xaxis.tickfont.size >= FONT_SIZE and layout.legend.font.size >= FONT_SIZE
    assert min(_font_sizes(fig.to_plotly_json())) >= FONT_SIZE
    assert layout.plot_bgcolor == BACKGROUND


def test_faces_per_bucket_is_drawn_wider_than_a_pixel():
    fig = bucket_faces(_trends())
    bar, dots = fig.data
    assert bar.marker.line.width >= 2 and dots.mode == "markers" and dots.marker.size >= 8


def test_summaries_name_every_expression_and_group():
    assert all(e in describe_mix(_mix()) for e in EMOTIONS)
    assert describe_mix(_mix()).split(": ")[1].startswith("happy 45%")
    assert "3 time buckets" in describe_trend(_trends())
    assert describe_groups(_sessions(), "session_name", "session").startswith("2 sessions")
    assert list(group_table(_sessions(), "session_name").columns) == ["session_name", *EMOTIONS]
