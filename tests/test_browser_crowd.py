"""The crowd preview in headless Chromium: a lecture hall of 240 faces of 10-28 px uploaded on the Event
photos page shows boxes without captions, the legend with its counts and a zoom tile.

Uses tests/test_browser.py's server and browser fixtures. The screenshot goes to artifacts/screenshots/;
the README's copy (docs/screenshots/crowd_preview.png) is refreshed with CAMPUS_FER_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from db import queries
from tests.actors import ADMIN
from tests.photos import crowd_photo, encode
from tests.test_browser import (  # noqa: F401 (fixtures)
    Server,
    engine,
    notice_visible,
    page,
    screenshot,
    server,
    wait_until_idle,
)
from tests.test_browser_insights import keep

pytestmark = pytest.mark.browser
CROWD_FACES = 240


def test_crowd_preview_shows_boxes_legend_and_zoom(page, server: Server, engine, tmp_path: Path):  # noqa: F811
    session_id = queries.create_event_session(engine, "Lecture hall A, week 3", actor=ADMIN)
    path = tmp_path / "lecture_hall.jpg"
    path.write_bytes(encode(crowd_photo(CROWD_FACES, face_px=(10, 28), seed=11)[0], "JPEG", quality=92))
    page.goto(server.url)
    page.get_by_role("heading", name="Event photos", level=1).wait_for()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files([str(path)])
    page.get_by_role("button", name="Analyse and save 1 photo").click()
    page.get_by_text("1 photo saved with", exact=False).wait_for(timeout=180_000)
    wait_until_idle(page)

    [photo] = queries.photo_results(engine, session_id)
    small = sum(not f["readable"] for f in photo["faces"])
    assert photo["n_faces"] > 150 and small > 0
    page.get_by_text("too small and close for captions", exact=False).wait_for()
    legend = page.locator("table").filter(has_text="box colour")
    assert "too small to read (thin box)" in legend.inner_text()
    assert str(small) in legend.inner_text()
    verdicts = page.locator('[data-testid="stDataFrame"]').first  # grid cells are drawn on a canvas
    verdicts.get_by_text(f"{small} too small to read", exact=False).first.wait_for(state="attached")
    zoom = page.locator('[data-testid="stSelectbox"]').filter(has_text="Zoom in on part of the photo")
    zoom.click()
    page.get_by_role("option", name="row 2, column 2").click()
    wait_until_idle(page)
    page.get_by_text("lecture_hall.jpg, row 2, column 2").wait_for()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stImage\"] img').length === 2")
    notice_visible(page)
    keep(screenshot(page, "crowd_preview"), "crowd_preview")
