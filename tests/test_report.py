"""campus_fer.report and campus_fer.wellbeing on a seeded term (tests/term_data.py) in a real SQLite file."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from campus_fer.control_chart import ABOVE_LIMIT, TOO_FEW_FACES
from campus_fer.report import build_report, render_html, report_filename
from campus_fer.wellbeing import event_chart, shown, weekly_chart
from db import queries
from db.engine import make_engine
from fer_core.config import METRICS_PATH
from fer_core.labels import EMOTIONS
from tests.actors import OTHER_ORGANIZER
from tests.term_data import WEEKS, seed_term

NOTICE = "Photos at this seminar series are analysed for apparent expression; ask staff to opt out."


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('report') / 'term.sqlite3'}")
    term = seed_term(engine)
    # Another organiser's event must not appear among "the organiser's other events".
    queries.create_event_session(engine, "Someone else's fair", actor=OTHER_ORGANIZER)
    yield engine, term
    engine.dispose()


def test_report_holds_every_section_and_no_image(seeded):
    engine, term = seeded
    report = build_report(engine, term.with_agenda, min_faces=5, notice=NOTICE)
    document = render_html(report)
    assert report.readable_faces == report.session.n_faces == 120 and report.photos == 20
    assert report.bucket == "minute" and not report.trends.empty
    assert sum(s.shown for s in report.segments) == 4
    for text in (
        "Event report: Week 12 seminar",
        "95% interval",
        "bootstrap over photos",
        "Workshop vs the rest of the event",
        "more frequent than in the rest of the event",
        "Compared with 11 other events created by organizer@campus.test",
        "What the model can and cannot tell",
        NOTICE.replace("'", "&#x27;"),
    ):
        assert text in document, text
    assert "Someone else" not in document
    # The model that read the event, and how often it reads faces as the raters' majority does.
    metrics = json.loads(METRICS_PATH.read_text())["models"]["fer2013"]
    assert report.models == (metrics["id"],)
    agreement = metrics["splits"]["PrivateTest"]["ferplus"]["accuracy"]
    sentence = f"model {metrics['id']} reads a face as the majority of ten human raters does {agreement:.1%}"
    assert sentence in document
    # Self-contained: plotly.js once, inline; no images, no photo names, nothing fetched.
    scripts = re.findall(r"<script[^>]*>.*?</script>", document, flags=re.S)
    library = max(scripts, key=len)
    assert "plotly.js v" in library and sum("plotly.js v" in s for s in scripts) == 1
    assert not re.findall(r"<script[^>]*\bsrc=", document)
    own = document.replace(library, "")  # plotly.js itself mentions <img and data:image in its code
    assert "<img" not in own and "data:image" not in own and "photo_" not in own
    assert report_filename(report.session) == f"campus_fer_report_{term.with_agenda}_week-12-seminar.html"


def test_report_of_a_session_under_the_threshold_shows_no_mix(seeded):
    engine, term = seeded
    report = build_report(engine, term.session_ids[0], min_faces=500, notice=NOTICE)
    document = render_html(report)
    assert not report.mix and "Fewer than 500 readable faces" in document
    assert "No other event to compare with" in document
    with pytest.raises(ValueError, match="does not exist"):
        build_report(engine, 10_000, min_faces=5, notice=NOTICE)


def test_wellbeing_flags_only_the_last_week_and_hides_small_groups(seeded):
    engine, _ = seeded
    weeks = weekly_chart(engine, min_faces=5)
    assert len(weeks) == WEEKS  # the empty session adds no week
    assert list(weeks["status"]).count(ABOVE_LIMIT) == 1 and weeks["flagged"].iloc[-1]
    assert (weeks["unreadable"] == 0).all()
    events = event_chart(engine, min_faces=5)
    assert events["event"].iloc[-1] == "Week 12 seminar" and events["flagged"].iloc[-1]
    strict = weekly_chart(engine, min_faces=121)  # every week has 120 readable faces
    assert set(strict["status"]) == {TOO_FEW_FACES} and shown(strict).empty
    assert strict["share"].isna().all() and (strict["negative"] == 0).all()


def plotted(document: str) -> list[list[dict]]:
    """The traces of each Plotly figure in a report, in order, with numbers decoded."""

    def decoded(value):
        if isinstance(value, dict) and "bdata" in value:
            return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
        return value

    figures = []
    for call in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', document):
        traces, _ = json.JSONDecoder().raw_decode(document, call.end())
        figures.append([{key: decoded(value) for key, value in trace.items()} for trace in traces])
    return figures


def test_report_file_written_for_the_browser_test(seeded, tmp_path: Path):
    """The file a user downloads holds the report's sections, headline figures, mix table and the
    numbers behind each chart, and plotly.js once inline (it opens offline)."""
    engine, term = seeded
    report = build_report(engine, term.with_agenda, min_faces=5, notice=NOTICE)
    path = tmp_path / report_filename(report.session)
    path.write_text(render_html(report), encoding="utf-8")
    document = path.read_text(encoding="utf-8")

    assert re.findall(r"<h[12]>(.*?)</h[12]>", document) == [
        "Event report: Week 12 seminar",
        "Expression mix",
        "Over time (per minute)",
        "Per agenda segment",
        "Compared with the organiser's other events",
        "What the model can and cannot tell",
        "Notice",
    ]
    top = max(report.mix, key=lambda i: i.share)
    assert dict(re.findall(r"<div class='figure'>(.*?)<b>(.*?)</b></div>", document)) == {
        "Photos and video frames": "20",
        "Faces seen": "120",
        "Readable faces": "120",
        "Too small to read (&lt; 16 px)": "0",
        "Most frequent apparent expression": f"{top.expression} {top.share:.1%}",
        "Read by model": report.models[0],
    }
    rows = re.findall(
        r"<tr><td>(\w+)</td><td>([\d.]+%)</td><td>([\d.]+% – [\d.]+%)</td><td>(\d+)</td></tr>", document
    )
    assert rows == [
        (i.expression, f"{i.share:.1%}", f"{i.low:.1%} – {i.high:.1%}", str(i.faces)) for i in report.mix
    ]
    assert [i.expression for i in report.mix] == list(EMOTIONS) and sum(i.faces for i in report.mix) == 120

    # The charts: the mix, the trend, the segments' mix, one comparison per segment, other events.
    shown = [s for s in report.segments if s.versus_rest]
    figures = plotted(document)
    assert len(figures) == 3 + len(shown) + 1 and len(shown) == 4
    mix = {trace["name"]: trace["x"] for trace in figures[0]}
    assert mix == {i.expression: [pytest.approx(i.share)] for i in report.mix}
    trend_times = {x for trace in figures[1] for x in trace["x"]}
    assert len(trend_times) == len(report.trends["bucket_start"].unique())
    assert [trace["name"] for trace in figures[2]] == list(EMOTIONS)
    assert figures[2][0]["x"] == [s.segment.name for s in shown]
    for summary, figure in zip(shown, figures[3:-1], strict=True):
        [bars] = figure
        assert bars["y"] == list(EMOTIONS), summary.segment.name
        assert bars["x"] == pytest.approx([d.difference for d in summary.versus_rest]), summary.segment.name
    assert len(figures[-1][0]["x"]) == 12  # this event and the organiser's 11 others

    # Self-contained: plotly.js once, inline, nothing fetched; the notice is there.
    assert document.count("plotly.js v") == 1 and not re.findall(r"<script[^>]*\bsrc=", document)
    assert path.stat().st_size > 1_000_000
    assert NOTICE.replace("'", "&#x27;") in document
