"""AppTest runs of the Agenda, Event video, Event report and Wellbeing signals pages against a
temporary SQLite file seeded with a term of synthetic observations (tests/term_data.py)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from campus_fer.agenda import agenda_from_csv, session_segments
from campus_fer.trends import SEGMENT_SESSIONS_PER_PAGE, load_segment_trends
from db import queries, segments
from fer_core.model_info import FER2013_V2_ID
from tests.actors import ORGANIZER
from tests.term_data import AGENDA, WEEKS, seed_term
from tests.test_app_pages import db_url, engine, open_page, texts  # noqa: F401 (fixtures)
from tests.test_video import CLIP_FACES, steady_times, write_clip


@pytest.fixture
def term(engine):  # noqa: F811
    return seed_term(engine)


def table_with(at, column: str):
    [frame] = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


def choose(at, session_id: int):
    at.selectbox[0].set_value(session_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# -- Agenda -------------------------------------------------------------------------------------------


def test_agenda_page_shows_segments_with_intervals_and_verdicts(db_url, engine, term):  # noqa: F811
    at = choose(open_page("pages/agenda.py"), term.with_agenda)
    assert at.title[0].value == "Agenda"
    assert "bootstrap over photos" in texts(at.caption)
    assert len(at.get("plotly_chart")) == 1 + 4  # the segment mix and one comparison per shown segment
    markdown = texts(at.markdown)
    assert "'happy' was" in markdown and "more frequent than in the rest of the event" in markdown
    overview = table_with(at, "readable faces")
    assert list(overview["segment"]) == ["Welcome", "Keynote", "Break", "Workshop"]


def test_trends_page_groups_by_agenda_segment_across_sessions(db_url, engine, term):  # noqa: F811
    at = open_page("pages/trends.py")
    at.radio(key="trends_group_by").set_value("agenda segment").run()
    assert not at.exception, [e.value for e in at.exception]
    overview = table_with(at, "readable faces")
    assert list(overview["segment"]) == ["Welcome", "Keynote", "Break", "Workshop"]
    assert set(overview["session"]) == {f"Week {len(term.session_ids)} seminar"}
    expected = {
        s.segment.name: s.faces for s in session_segments(engine, term.with_agenda, min_faces=1).summaries
    }
    assert dict(zip(overview["segment"], overview["readable faces"])) == expected
    assert "Sessions without an agenda here" in texts(at.caption)
    assert "bootstrap over photos" in texts(at.caption)
    assert len(at.get("plotly_chart")) == 1
    # A second session with an agenda: the chart names the session with each segment.
    other = term.session_ids[0]
    day = queries.get_event_session(engine, other).event_date
    segments.replace_agenda(engine, other, agenda_from_csv(AGENDA, day), actor=ORGANIZER)
    at.run()
    assert set(table_with(at, "readable faces")["session"]) == {"Week 1 seminar", f"Week {WEEKS} seminar"}
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert "Week 1 seminar · Keynote" in {x for bar in bars for x in bar["x"]}
    # Only one session picked: its segments alone, and none of the others is listed as lacking one.
    at.multiselect[0].set_value([other]).run()
    assert set(table_with(at, "readable faces")["session"]) == {"Week 1 seminar"}
    assert "Sessions without an agenda here" not in texts(at.caption)


def test_segment_trends_come_a_page_of_sessions_at_a_time(db_url, engine, term):  # noqa: F811
    """With every event given the agenda, the segment view summarises a page of sessions (newest first)
    in three queries; the pages together hold every session once, each segment with the counts and
    intervals the Agenda page shows; the page offers the other pages."""
    for session_id in term.session_ids[:-1]:
        day = queries.get_event_session(engine, session_id).event_date
        segments.replace_agenda(engine, session_id, agenda_from_csv(AGENDA, day), actor=ORGANIZER)
    infos = queries.list_event_sessions(engine)
    pages = [load_segment_trends(engine, infos, None, None, 5, page=p, per_page=4) for p in range(4)]
    assert pages[0].with_agenda == len(infos) == WEEKS and pages[0].pages == -(-WEEKS // 4)
    seen = [name for page in pages[: pages[0].pages] for name in dict.fromkeys(page.overview["session"])]
    assert seen == [info.name for info in infos]  # each once, newest first
    assert pages[-1].first == pages[pages[0].pages - 1].first  # past the end: the last page
    for page in pages[:2]:
        for info in (i for i in infos if i.name in set(page.overview["session"])):
            expected = session_segments(engine, info.id, min_faces=5).summaries
            rows = page.overview[page.overview["session"] == info.name]
            assert list(rows["readable faces"]) == [s.faces for s in expected]
            mix = page.mix[page.mix["session"] == info.name]
            assert [(round(r.low, 9), round(r.high, 9)) for r in mix.itertuples()] == [
                (round(i.low, 9), round(i.high, 9)) for s in expected for i in s.mix
            ]
    at = open_page("pages/trends.py")
    at.radio(key="trends_group_by").set_value("agenda segment").run()
    assert not at.exception, [e.value for e in at.exception]
    first = set(table_with(at, "readable faces")["session"])
    assert len(first) == SEGMENT_SESSIONS_PER_PAGE and f"of {WEEKS} with an agenda" in texts(at.caption)
    at.number_input(key="trends_segment_page").set_value(2).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not set(table_with(at, "readable faces")["session"]) & first


def test_agenda_page_saves_a_pasted_agenda_and_hides_small_segments(db_url, engine):  # noqa: F811
    import numpy as np

    from tests.term_data import synthetic_faces

    session_id = queries.create_event_session(engine, "Talk", datetime(2025, 5, 3).date(), actor=ORGANIZER)
    rng = np.random.default_rng(0)
    for i in range(12):
        queries.save_photo(
            engine, session_id, content_hash=str(i), filename=f"{i}.jpg",
            taken_at=datetime(2025, 5, 3, 9, 5 * i), time_source="exif", width=640, height=480,
            faces=synthetic_faces(["happy"] * 3, rng), model_id=FER2013_V2_ID, actor=ORGANIZER,
        )  # fmt: skip
    at = choose(open_page("pages/agenda.py"), session_id)
    assert "no agenda yet" in texts(at.info)
    at.text_area[0].input("name,start,end\nTalk,09:00,09:55\nQuestions,09:55,10:30\n").run()
    at.button(key="save_pasted").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Saved 2 segments" in texts(at.success)
    assert [s.name for s in segments.agenda(engine, session_id)] == ["Talk", "Questions"]
    overview = table_with(at, "readable faces")
    assert list(overview["readable faces"]) == [33, 3]  # the 09:55 photo opens the Q&A
    assert "hidden" in overview["shown"].iloc[1]
    # An overlapping agenda is refused with a message, and the stored one is kept.
    at.text_area[0].input("name,start,end\nA,09:00,10:00\nB,09:30,10:30\n").run()
    at.button(key="save_pasted").click().run()
    assert "overlap" in texts(at.error)
    assert [s.name for s in segments.agenda(engine, session_id)] == ["Talk", "Questions"]


# -- Event video --------------------------------------------------------------------------------------


def test_video_upload_through_the_page(db_url, engine, tmp_path: Path):  # noqa: F811
    session_id = queries.create_event_session(engine, "Lecture", datetime(2025, 5, 3).date(), actor=ORGANIZER)
    clip = write_clip(tmp_path / "lecture.mp4", steady_times(), size=(640, 360)).read_bytes()
    at = choose(open_page("pages/video.py"), session_id)
    assert at.title[0].value == "Event video"
    at.time_input[0].set_value(datetime(2025, 5, 3, 14, 0).time())
    at.file_uploader[0].set_value([("lecture.mp4", clip, "video/mp4")]).run()
    at.button(key="analyse_video").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "5 frames saved with 15 faces" in texts(at.success)
    rows = queries.photo_results(engine, session_id)
    assert [(p["filename"], p["taken_at"], p["n_faces"]) for p in rows] == [
        (f"lecture.mp4 @ 00:00:{s:04.1f}", datetime(2025, 5, 3, 14, 0, s), CLIP_FACES) for s in range(5)
    ]
    # A truncated file: a clear message, and the frames before the cut are the only rows added.
    at.file_uploader[0].set_value([("cut.mp4", clip[: len(clip) * 2 // 3], "video/mp4")]).run()
    at.button(key="analyse_video").click().run()
    assert not at.exception
    assert "truncated or corrupt" in texts(at.error)
    assert len(queries.photo_results(engine, session_id)) == 5


# -- Event report -------------------------------------------------------------------------------------


def test_report_page_offers_the_html_download(db_url, engine, term):  # noqa: F811
    at = choose(open_page("pages/report.py"), term.with_agenda)
    assert at.title[0].value == "Event report"
    assert not at.error
    [button] = [b for b in at.get("download_button") if "report" in str(b.proto.label).lower()]
    assert button.proto.label == "Download the report (HTML)"


# -- Wellbeing signals --------------------------------------------------------------------------------


def test_wellbeing_page_flags_the_rise_and_shows_the_help_text(db_url, engine, term, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CAMPUS_FER_SUPPORT_TEXT", "Student Support: room B12, support@campus.test")
    at = open_page("pages/wellbeing.py")
    assert at.title[0].value == "Wellbeing signals"
    assert "not a diagnosis" in texts(at.info) or "is not" in texts(at.info)
    assert "support@campus.test" in texts(at.markdown)
    assert "Rise larger than chance in 1 week" in texts(at.error)
    assert at.get("plotly_chart")
    table = table_with(at, "flagged")
    assert len(table) == WEEKS and table["flagged"].sum() == 1 and bool(table["flagged"].iloc[-1])
    at.radio(key="wellbeing_by").set_value("event").run()
    assert not at.exception
    assert "Week 12 seminar" in texts(at.error)


def test_wellbeing_never_shows_a_group_under_the_threshold(db_url, engine, monkeypatch):  # noqa: F811
    import numpy as np

    from tests.term_data import synthetic_faces

    monkeypatch.setenv("CAMPUS_FER_MIN_FACES_PER_BUCKET", "10")
    session_id = queries.create_event_session(engine, "Tiny", actor=ORGANIZER)
    queries.save_photo(
        engine, session_id, content_hash="x", filename="x.jpg", taken_at=datetime(2025, 5, 3, 9),
        time_source="exif", width=640, height=480, model_id=FER2013_V2_ID, actor=ORGANIZER,
        faces=synthetic_faces(["sad"] * 4, np.random.default_rng(0)),
    )  # fmt: skip
    at = open_page("pages/wellbeing.py")
    assert "fewer than 10 readable faces" in texts(at.warning)
    assert not at.get("plotly_chart") and not at.dataframe
