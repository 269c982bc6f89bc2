"""A shareable event report: one self-contained HTML file per session, aggregates only.

Headline figures, the expression mix with 95% intervals, the mix over time, per agenda segment
(with "segment vs the rest of the event"), the comparison with the organiser's other events, the
model's limits and the notice text. Plotly figures are embedded (plotly.js inline once, so the file
opens offline); there is never a face image, a photo or a file name in it. No Streamlit here: the
page, and any CLI or API door, call `build_report` then `render_html`.

PDF: not offered. Plotly figures need a browser to draw (WeasyPrint and other HTML-to-PDF
libraries run no JavaScript, and static export needs Kaleido with its own Chrome); the HTML has a
print stylesheet, so "Print -> Save as PDF" in any browser gives a PDF.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from sqlalchemy.engine import Engine

from campus_fer.agenda import SegmentSummary, comparison_table, label_counts, mix_table, session_segments
from campus_fer.figures.expressions import session_bars, trend_area
from campus_fer.figures.segments import difference_bars, segment_mix, shares_with_intervals
from campus_fer.figures.style import CHART_CONFIG
from campus_fer.figures.summaries import describe_differences, describe_groups, describe_trend
from campus_fer.model_report import ModelReport, card_section, load_report
from campus_fer.provenance import MODELS_DIFFER, ModelChange, model_changes, models_caption
from campus_fer.stats import ShareInterval, expression_intervals, intervals_frame
from db import queries
from db.timeutils import utcnow
from fer_core.config import MODEL_CARD_PATH
from fer_core.labels import READABLE_MIN_FACE_PX

#: Events this long or shorter are charted per minute, longer ones per hour.
MINUTE_BUCKETS_UP_TO_S = 2 * 3600


@dataclass(frozen=True)
class EventReport:
    """Everything the report shows, computed once (aggregates only)."""

    session: queries.SessionInfo
    min_faces: int
    notice: str
    generated_at: datetime
    photos: int  # photos and video frames with at least one face
    first_seen: datetime | None
    last_seen: datetime | None
    mix: list[ShareInterval]  # [] under the threshold
    bucket: str
    trends: pd.DataFrame
    segments: list[SegmentSummary]
    others: pd.DataFrame  # db.queries.session_comparison rows: this event and the organiser's others
    others_basis: str
    #: Model id -> share of FER2013 PrivateTest faces it reads as the FER+ raters' majority does
    #: (models/metrics.json; the default served model first).
    model_agreement: dict[str, float]
    model_limits: str | None
    #: Which models read this event's faces, when (to the hour) and how many; first used first.
    model_periods: list[queries.ModelPeriod] = field(default_factory=list)
    trend_changes: list[ModelChange] = field(default_factory=list)  # first bucket of each new model
    other_models: dict[int, tuple[str, ...]] = field(default_factory=dict)  # compared events' models

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(p.model_id for p in self.model_periods)

    @property
    def readable_faces(self) -> int:
        return self.session.n_faces - self.session.n_small_faces


def _other_events(
    engine: Engine, session: queries.SessionInfo, min_faces: int
) -> tuple[pd.DataFrame, str, dict[int, tuple[str, ...]]]:
    """This event and the organiser's other events (same owner), above the threshold, and the models
    that read each of them. Only that organiser's sessions are listed (one GROUP BY of their rollups)."""
    owned = queries.list_event_sessions(engine, owner=session.owner)
    if session.owner:
        basis = f"events created by {session.owner}"
    else:
        basis = "events with no recorded organiser (created before sign-in)"
    ids = [s.id for s in owned]
    models = {s.id: s.models for s in owned}
    return queries.session_comparison(engine, ids, min_faces=min_faces), basis, models


def _model_agreement(metrics: ModelReport | None) -> dict[str, float]:
    """Each evaluated model's agreement with the FER+ majority, the default served model first."""
    if metrics is None:
        return {}
    ordered = sorted(metrics.models.values(), key=lambda m: m.name != metrics.default)
    return {m.id: m.scores["ferplus"].accuracy for m in ordered}


def build_report(engine: Engine, session_id: int, *, min_faces: int, notice: str) -> EventReport:
    """Query and compute everything the report shows; ValueError if the session does not exist."""
    session = queries.get_event_session(engine, session_id)
    if session is None:
        raise ValueError(f"Event session {session_id} does not exist (was it deleted?).")
    cut = session_segments(engine, session_id, min_faces=min_faces)
    units = cut.units
    seen = units.loc[units["faces"] + units["small_faces"] > 0, "observed_at"]
    first, last = (seen.min(), seen.max()) if len(seen) else (None, None)
    span = (last - first).total_seconds() if first is not None else 0.0
    bucket = "minute" if span <= MINUTE_BUCKETS_UP_TO_S else "hour"
    trends = queries.expression_trends(engine, bucket, [session_id], min_faces=min_faces)
    bucket_models = queries.model_totals(engine, bucket, [session_id])
    bucket_models = bucket_models[bucket_models["bucket_start"].isin(trends["bucket_start"])]
    others, basis, listed = _other_events(engine, session, min_faces)
    metrics = load_report()
    card = MODEL_CARD_PATH.read_text(encoding="utf-8") if MODEL_CARD_PATH.exists() else ""
    return EventReport(
        session=session,
        min_faces=min_faces,
        notice=notice,
        generated_at=utcnow(),
        photos=int(len(seen)),
        first_seen=None if first is None else pd.Timestamp(first).to_pydatetime(),
        last_seen=None if last is None else pd.Timestamp(last).to_pydatetime(),
        mix=expression_intervals(label_counts(units), min_faces=min_faces),
        bucket=bucket,
        trends=trends,
        segments=cut.summaries,
        others=others,
        others_basis=basis,
        model_agreement=_model_agreement(metrics),
        model_limits=card_section(card, "Limits") if card else None,
        model_periods=queries.model_periods(engine, [session_id]),
        trend_changes=model_changes(bucket_models[bucket_models["faces"] > 0], "bucket_start"),
        other_models={int(i): listed.get(int(i), ()) for i in others["session_id"].unique()},
    )


# ---------------------------------------------------------------------------------------------
# HTML

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; max-width: 1100px;
       margin: 2rem auto; padding: 0 1.5rem; line-height: 1.45; }
h1 { color: #2a6f97; margin-bottom: .2rem; } h2 { border-bottom: 1px solid #d9e2ec; padding-bottom: .2rem; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }
.figure { background: #f1f4f8; border-radius: 8px; padding: .8rem 1.2rem; min-width: 9rem; }
.figure b { display: block; font-size: 1.6rem; }
.note { color: #52606d; font-size: .92rem; }
.notice { background: #fff8e1; padding: .8rem 1rem; border-radius: 8px; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
td, th { padding: .25rem .6rem; border-bottom: 1px solid #e4e7eb; text-align: left; }
@media print { .plotly-graph-div { break-inside: avoid; } body { margin: 0; } }
"""


def _figure(fig: go.Figure, first: list[bool], summary: str = "") -> str:
    """A figure as an HTML fragment, with its one-line text alternative under it; the first one
    carries plotly.js inline (the file works offline)."""
    include = first[0]
    first[0] = False
    chart = pio.to_html(fig, full_html=False, include_plotlyjs=include, config=CHART_CONFIG)
    return chart + (f"<p class='note'>{html.escape(summary)}</p>" if summary else "")


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _mix_rows(mix: list[ShareInterval]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(i.expression)}</td><td>{_percent(i.share)}</td>"
        f"<td>{_percent(i.low)} – {_percent(i.high)}</td><td>{i.faces}</td></tr>"
        for i in mix
    )
    return (
        "<table><tr><th>apparent expression</th><th>share</th><th>95% interval</th><th>faces</th></tr>"
        f"{rows}</table>"
    )


def _segments_html(report: EventReport, first: list[bool]) -> str:
    if not report.segments:
        return "<p>No agenda was given for this session (add one on the Agenda page).</p>"
    rows = "".join(
        f"<tr><td>{html.escape(s.segment.name)}</td><td>{s.segment.starts_at:%H:%M}–{s.segment.ends_at:%H:%M}</td>"
        f"<td>{s.photos}</td><td>{s.faces}</td>"
        f"<td>{'shown' if s.shown else f'hidden (fewer than {report.min_faces} faces)'}</td></tr>"
        for s in report.segments
    )
    parts = [
        "<table><tr><th>segment</th><th>time</th><th>photos</th><th>readable faces</th><th></th></tr>"
        f"{rows}</table>"
    ]
    mix = mix_table(report.segments)
    if not mix.empty:
        parts.append(_figure(segment_mix(mix), first, describe_groups(mix, "segment", "segment")))
    compared = comparison_table(report.segments)
    for summary in (s for s in report.segments if s.versus_rest):
        name = summary.segment.name
        verdicts = [d.verdict for d in summary.clear_differences] or [
            "No expression differed from the rest of the event by more than its uncertainty."
        ]
        parts.append(f"<h3>{html.escape(name)} vs the rest of the event</h3><ul>")
        parts.extend(f"<li>{html.escape(v)}</li>" for v in verdicts)
        parts.append("</ul>")
        mine = compared[compared["segment"] == name]
        parts.append(_figure(difference_bars(mine, name), first, describe_differences(mine, name)))
    return "".join(parts)


def _others_html(report: EventReport, first: list[bool]) -> str:
    others = report.others
    n_events = others["session_id"].nunique() if not others.empty else 0
    if n_events < 2:
        return (
            f"<p>No other event to compare with ({html.escape(report.others_basis)}, each with at least "
            f"{report.min_faces} readable faces).</p>"
        )
    mine = others[others["session_id"] == report.session.id]
    rest = others[others["session_id"] != report.session.id]
    typical = rest.groupby("expression", sort=False)["share"].median()
    rows = "".join(
        f"<tr><td>{html.escape(r.expression)}</td><td>{_percent(r.share)}</td>"
        f"<td>{_percent(typical.get(r.expression, np.nan))}</td></tr>"
        for r in mine.itertuples()
    )
    table = (
        "<table><tr><th>apparent expression</th><th>this event</th><th>median of the other events</th></tr>"
        f"{rows}</table>"
        if rows
        else ""
    )
    return (
        f"<p>Compared with {n_events - 1} other {html.escape(report.others_basis)}.</p>"
        + table
        + _figure(session_bars(others), first, describe_groups(others, "session_name", "event"))
        + _other_models_note(report)
    )


def _models_note(report: EventReport) -> str:
    """Which models made the figures: every figure of this report sums only this event's readings."""
    if not report.model_periods:
        return ""
    caption = models_caption(report.model_periods)
    if len(report.model_periods) == 1:
        return (
            f"<p class='note'>{html.escape(caption)} Every figure in this report comes from its readings.</p>"
        )
    return (
        f"<p class='note'>{html.escape(caption)} The figures above mix both models' readings of this "
        f"event (the dotted line marks where the newer model starts). {html.escape(MODELS_DIFFER)}</p>"
    )


def _other_models_note(report: EventReport) -> str:
    """Say so when the compared events were read by different models: their differences are partly
    the models'."""
    used: dict[str, int] = {}
    for models in report.other_models.values():
        for model in models:
            used[model] = used.get(model, 0) + 1
    if len(used) < 2:
        return (
            f"<p class='note'>All these events were read by model {html.escape(next(iter(used), '?'))}.</p>"
        )
    counts = ", ".join(f"{html.escape(m)}: {n} event{'s' if n != 1 else ''}" for m, n in used.items())
    return (
        f"<p class='note'>These events were read by different models ({counts}); part of any difference "
        f"between them is the models'. {html.escape(MODELS_DIFFER)}</p>"
    )


def render_html(report: EventReport) -> str:
    """The whole report as one HTML document (plotly.js inline; no images, no photo or file names)."""
    session = report.session
    first = [True]
    title = f"Event report: {session.name}"
    when = session.event_date.isoformat() if session.event_date else "no date given"
    seen = (
        f"{report.first_seen:%Y-%m-%d %H:%M} – {report.last_seen:%H:%M} UTC"
        if report.first_seen
        else "no faces yet"
    )
    figures = [
        ("Photos and video frames", str(report.photos)),
        ("Faces seen", str(session.n_faces)),
        ("Readable faces", str(report.readable_faces)),
        (f"Too small to read (< {READABLE_MIN_FACE_PX} px)", str(session.n_small_faces)),
    ]
    if report.mix:
        top = max(report.mix, key=lambda i: i.share)
        figures.append(("Most frequent apparent expression", f"{top.expression} {_percent(top.share)}"))
    if report.models:
        figures.append((f"Read by model{'s' if len(report.models) > 1 else ''}", " + ".join(report.models)))
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>Event date: {html.escape(when)} · faces seen {html.escape(seen)} · report made "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC by Campus FER</p>",
        "<p>How faces at this event <em>appeared</em> to the expression model, in aggregate. These are "
        "estimates of apparent expression, not of what anyone felt.</p>",
        "<div class='figures'>"
        + "".join(f"<div class='figure'>{html.escape(k)}<b>{html.escape(v)}</b></div>" for k, v in figures)
        + "</div>",
        "<h2>Expression mix</h2>",
    ]
    if report.mix:
        body += [
            _figure(
                shares_with_intervals(intervals_frame(report.mix), "Apparent expression mix (95% intervals)"),
                first,
            ),
            _mix_rows(report.mix),
            f"<p class='note'>Intervals: {html.escape(report.mix[0].method)}. Whole photos are resampled "
            "because faces in one photo share the moment and are not independent; counting each face as "
            "independent would give intervals that are too narrow.</p>",
        ]
    else:
        body.append(f"<p>Fewer than {report.min_faces} readable faces: no mix is shown.</p>")
    body.append(f"<h2>Over time (per {report.bucket})</h2>")
    changes = [(c.at, c.model_id) for c in report.trend_changes]
    body.append(
        _figure(trend_area(report.trends, changes), first, describe_trend(report.trends))
        if not report.trends.empty
        else f"<p>No {report.bucket} has {report.min_faces} readable faces.</p>"
    )
    body.append(_models_note(report))
    body += ["<h2>Per agenda segment</h2>", _segments_html(report, first)]
    body += ["<h2>Compared with the organiser's other events</h2>", _others_html(report, first)]
    described = [m for m in report.models if m in report.model_agreement] or list(report.model_agreement)[:1]
    accuracy = "".join(
        f"On FER2013's PrivateTest faces, model {html.escape(m)} reads a face as the majority of ten human "
        f"raters does {_percent(report.model_agreement[m])} of the time. "
        for m in described
    )
    body += [
        "<h2>What the model can and cannot tell</h2>",
        f"<p>{accuracy}Faces at real events (angles, light, crowds) are read less well than that, and faces "
        f"smaller than {READABLE_MIN_FACE_PX} px are left out of every share. Groups with fewer than "
        f"{report.min_faces} faces are hidden so that no individual can be singled out.</p>",
        f"<p>{html.escape(report.model_limits or '')}</p>",
        "<h2>Notice</h2>",
        f"<div class='notice'>{html.escape(report.notice)}</div>",
        "<p class='note'>This report holds aggregates only: no photos, no face images, no names.</p>",
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>"
    )


def report_filename(session: queries.SessionInfo) -> str:
    """'campus_fer_report_12_open-day-2025.html' (ASCII, no spaces)."""
    slug = "".join(c if c.isalnum() else "-" for c in session.name.lower()).strip("-")[:50] or "session"
    return f"campus_fer_report_{session.id}_{slug}.html"
