"""The Agenda, Event report, Wellbeing signals and Event video pages in headless Chromium, on a seeded
term of synthetic observations (tests/term_data.py); the report file itself is opened in Chromium too.

Uses tests/test_browser.py's server (streamlit run app.py on a free 127.0.0.1 port, temporary SQLite)
and browser fixtures. Screenshots go to artifacts/screenshots/; the README's copies in docs/screenshots/
were taken by this test with CAMPUS_FER_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from campus_fer.report import build_report, render_html
from tests.term_data import seed_term
from tests.test_browser import (  # noqa: F401 (fixtures)
    ROOT,
    SCREENSHOTS,
    Server,
    engine,
    notice_visible,
    page,
    screenshot,
    server,
    wait_for_charts,
    wait_until_idle,
)
from tests.test_video import steady_times, write_clip

pytestmark = pytest.mark.browser
DOCS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def term(engine):  # noqa: F811
    return seed_term(engine)


def keep(path: Path, name: str) -> None:
    """Refresh the README's copy only when asked (CAMPUS_FER_UPDATE_SCREENSHOTS=1): a test run never
    changes tracked files."""
    if os.environ.get("CAMPUS_FER_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / f"{name}.png")


def open_path(page, server: Server, path: str, title: str) -> None:  # noqa: F811
    page.goto(f"{server.url}/{path}")
    page.get_by_role("heading", name=title, level=1).wait_for()
    notice_visible(page)
    wait_until_idle(page)


def test_report_file_opens_offline_in_chromium(page, engine, term, tmp_path: Path):  # noqa: F811
    path = tmp_path / "report.html"
    report = build_report(engine, term.with_agenda, min_faces=5, notice="Notice: aggregates only.")
    path.write_text(render_html(report), encoding="utf-8")
    page.goto(path.as_uri())
    page.get_by_role("heading", name="Event report: Week 12 seminar").wait_for()
    wait_for_charts(page, 8)  # mix, over time, segments, 4 comparisons, other events
    assert page.locator("img").count() == 0
    page.set_viewport_size({"width": 1200, "height": 1000})
    shot = SCREENSHOTS / "report.png"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    keep(shot, "report")
    page.set_viewport_size({"width": 1400, "height": 1700})


def test_report_page_downloads_the_html(page, server: Server, term):  # noqa: F811
    open_path(page, server, "report", "Event report")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the report (HTML)").click()
    assert download.value.suggested_filename.endswith("week-12-seminar.html")
    assert "Event report: Week 12 seminar" in Path(download.value.path()).read_text(encoding="utf-8")


def test_agenda_page_draws_segments_and_comparisons(page, server: Server, term):  # noqa: F811
    open_path(page, server, "agenda", "Agenda")
    wait_for_charts(page, 5)
    assert page.get_by_text("more frequent than in the rest of the event", exact=False).count() >= 1
    keep(screenshot(page, "agenda"), "agenda")


def test_trends_page_groups_by_agenda_segment_in_chromium(page, server: Server, term):  # noqa: F811
    open_path(page, server, "trends", "Mood trends")
    page.get_by_text("agenda segment", exact=True).click()
    wait_until_idle(page)
    wait_for_charts(page, 1)
    page.get_by_text("Apparent expressions per agenda segment", exact=False).first.wait_for()
    for segment in ("Keynote", "Workshop"):  # category ticks drawn by plotly.js
        assert page.locator("g.xtick text", has_text=segment).count() == 1
    keep(screenshot(page, "mood_trends_segments"), "mood_trends_segments")


def test_wellbeing_page_flags_the_last_week(page, server: Server, term):  # noqa: F811
    open_path(page, server, "wellbeing", "Wellbeing signals")
    wait_for_charts(page, 1)
    page.get_by_text("Rise larger than chance in 1 week", exact=False).wait_for()
    page.get_by_text("What this is not", exact=False).first.wait_for()
    keep(screenshot(page, "wellbeing"), "wellbeing")


def test_video_upload_in_chromium(page, server: Server, engine, term, tmp_path: Path):  # noqa: F811
    from db import queries

    clip = write_clip(tmp_path / "seminar.mp4", steady_times(), size=(640, 360))
    open_path(page, server, "video", "Event video")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(clip))
    page.get_by_text("seminar.mp4", exact=False).first.wait_for()
    page.get_by_role("button", name="Analyse and save video").click()
    page.get_by_text("5 frames saved with 15 faces", exact=False).wait_for()
    keep(screenshot(page, "event_video"), "event_video")
    frames = [
        p for p in queries.photo_results(engine, term.with_agenda) if p["filename"].startswith("seminar.mp4")
    ]
    assert len(frames) == 5 and all(p["n_faces"] == 3 for p in frames)


def test_trends_and_agenda_under_simulated_deuteranopia(page, server: Server, term):  # noqa: F811
    """Chromium's own simulation (DevTools' Emulation.setEmulatedVisionDeficiency) of the two pages
    that compare expressions most: the screenshots in docs/screenshots/ are what a deuteranope sees."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setEmulatedVisionDeficiency", {"type": "deuteranopia"})
    try:
        open_path(page, server, "trends", "Mood trends")
        wait_for_charts(page, 3)  # shares over time (labelled bands), faces per bucket, sessions compared
        keep(screenshot(page, "trends_deuteranopia"), "trends_deuteranopia")
        open_path(page, server, "agenda", "Agenda")
        wait_for_charts(page, 5)  # the segment mix (patterned bars) and one comparison per segment
        keep(screenshot(page, "agenda_deuteranopia"), "agenda_deuteranopia")
    finally:
        cdp.send("Emulation.setEmulatedVisionDeficiency", {"type": "none"})
        cdp.detach()
