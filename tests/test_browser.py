"""The real app in headless Chromium: create a session, upload photos, see trends, run the webcam, metrics.

Starts `streamlit run app.py` on a free port with a temporary SQLite database and drives Debian's
Chromium with Playwright (scripts/install_browser.sh installs it; `playwright install` is never
needed). Screenshots of every page go to artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from campus_fer.settings import ENV_PREFIX
from db import queries
from db.engine import make_engine
from db.settings import DATABASE_URL_ENV
from db.timeutils import utcnow
from fer_core.labels import EMOTIONS
from fer_core.model_info import FER2013_V2_ID
from fer_core.recognizer import FaceResult
from tests.actors import ADMIN
from tests.photos import encode, group_photo

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
NOTICE = "no face images"
FACES_PER_PHOTO = (3, 4, 5)
WEBCAM_FACES = 3
TIMEOUT_MS = 90_000


@dataclass(frozen=True)
class Server:
    url: str
    db_url: str


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing; run scripts/install_browser.sh"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> Path:
    """An uncompressed Y4M video Chromium plays as its fake webcam (it loops the file)."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def webcam_video(path: Path) -> Path:
    """A second of 'webcam' video with WEBCAM_FACES real faces drifting slowly to the right."""
    photo, _ = group_photo(WEBCAM_FACES, size=(640, 480), seed=3)
    return write_y4m(path, [np.roll(photo, shift, axis=1) for shift in range(0, 30, 2)])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not become healthy in {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def streamlit_app(tmp: Path, env: dict[str, str], port: int, *extra_args: str) -> Iterator[str]:
    """`streamlit run app.py` on 127.0.0.1:port with this environment; yields its URL once healthy."""
    log = tmp / "streamlit.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "app.py",
                "--server.headless", "true",
                "--server.port", str(port),
                "--server.address", "127.0.0.1",
                "--server.fileWatcherType", "none",
                "--browser.gatherUsageStats", "false",
                *extra_args,
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("browser")
    db_url = f"sqlite:///{tmp / 'browser.sqlite3'}"
    make_engine(db_url).dispose()  # migrate before the app and the test both open it
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env[DATABASE_URL_ENV] = db_url
    env[ENV_PREFIX + "LIVE_RECORD_INTERVAL_S"] = "2"
    with streamlit_app(tmp, env, free_port()) as url:
        yield Server(url, db_url)


@pytest.fixture(scope="module")
def page(server: Server, tmp_path_factory: pytest.TempPathFactory):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    video = webcam_video(tmp_path_factory.mktemp("webcam") / "faces.y4m")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={video}"]
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1700}, permissions=["camera"])
        context.set_default_timeout(TIMEOUT_MS)
        yield context.new_page()
        browser.close()


@pytest.fixture(scope="module")
def engine(server: Server):
    engine = make_engine(server.db_url)
    yield engine
    engine.dispose()


def screenshot(page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to fit it first."""
    page.wait_for_timeout(800)
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return Math.ceil(m ? m.scrollHeight : document.body.scrollHeight); }"
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(height, 6000))})
    page.wait_for_timeout(800)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


def wait_until_idle(page) -> None:
    """Until Streamlit's 'Running…' indicator is gone."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')"
    )


def wait_for_charts(page, n: int) -> None:
    """Until at least n Plotly charts have drawn their SVG."""
    page.wait_for_function(
        "n => Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".filter(p => p.querySelector('.main-svg')).length >= n",
        arg=n,
    )


def notice_visible(page) -> None:
    """The privacy notice app.py puts in the sidebar of every page."""
    page.locator('[data-testid="stSidebar"]').get_by_text(NOTICE, exact=False).wait_for()


def open_from_sidebar(page, title: str, attempts: int = 3) -> None:
    """Click a page in the sidebar, retrying: a rerun still arriving from the last page can undo a click."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    heading = page.get_by_role("heading", name=title, level=1)
    for attempt in range(attempts):
        page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
        try:
            heading.wait_for(timeout=20_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise


def as_int(text: str) -> int:
    digits = text.replace(",", "")
    return int(digits) if digits.isdigit() else 0


def metric_value(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def synthetic_faces(mix: dict[str, int], rng: np.random.Generator) -> list[FaceResult]:
    """Recognizer-shaped faces with a chosen top expression each (demo data for the trend charts)."""
    out = []
    for label, n in mix.items():
        for _ in range(n):
            p = rng.uniform(0.02, 0.15, len(EMOTIONS))
            p[EMOTIONS.index(label)] = rng.uniform(0.5, 0.9)
            out.append(FaceResult((0, 0, 48, 48), (p / p.sum()).astype(np.float32)))
    return out


def test_deep_link_first_runs_inside_the_app(page, server: Server):
    """The first request after start-up is /metrics: it must still get app.py's frame (notice, navigation)."""
    page.goto(f"{server.url}/metrics")
    page.get_by_role("heading", name="Model metrics", level=1).wait_for()
    notice_visible(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Event photos", exact=True).wait_for()


def test_event_photos_create_session_and_upload(page, server: Server, engine, tmp_path: Path):
    page.goto(server.url)
    page.get_by_text("No sessions yet").wait_for()
    page.get_by_label("Session name").fill("Open day 2025")
    page.get_by_label("Tags (optional, comma-separated)").fill("open day, main hall")
    page.get_by_role("button", name="Create session").click()
    page.get_by_text("Created session “Open day 2025”").wait_for()

    files = []
    for i, n in enumerate(FACES_PER_PHOTO):
        path = tmp_path / f"open_day_{i + 1}.jpg"
        path.write_bytes(encode(group_photo(n, seed=100 + i)[0], "JPEG", quality=90))
        files.append(str(path))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files)
    page.get_by_role("button", name="Analyse and save 3 photos").click()
    page.get_by_text(f"3 photos saved with {sum(FACES_PER_PHOTO)} faces.").wait_for(timeout=180_000)
    wait_until_idle(page)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stImage\"] img').length === 3")
    page.locator(".js-plotly-plot").first.wait_for()

    [session] = queries.list_event_sessions(engine)
    assert (session.name, session.tags) == ("Open day 2025", ["open day", "main hall"])
    assert (session.n_photos, session.n_faces) == (3, sum(FACES_PER_PHOTO))
    photos = queries.photo_results(engine, session.id)
    assert sorted((p["filename"], p["n_faces"], p["time_source"]) for p in photos) == [
        (Path(f).name, n, "upload") for f, n in zip(files, FACES_PER_PHOTO, strict=True)
    ]
    notice_visible(page)
    screenshot(page, "event_photos")


def test_mood_trends_draws_plotly_charts(page, engine):
    # A second, synthetic session spread over the last hours gives the trend chart a shape.
    demo = queries.create_event_session(engine, "Lecture week 1 (synthetic data)", tags=["demo"], actor=ADMIN)
    rng = np.random.default_rng(7)
    now = utcnow()
    for hours_ago in range(6, 0, -1):
        mix = {"happy": 3 + hours_ago % 3, "neutral": 4, "surprise": 1 + hours_ago % 2, "sad": hours_ago % 3}
        observed = now - timedelta(hours=hours_ago, minutes=-10)
        queries.save_live_observations(
            engine, demo, observed, synthetic_faces(mix, rng), model_id=FER2013_V2_ID
        )
    queries.save_live_observations(
        engine, demo, now - timedelta(hours=8), synthetic_faces({"neutral": 2}, rng), model_id=FER2013_V2_ID
    )

    open_from_sidebar(page, "Mood trends")
    wait_until_idle(page)
    wait_for_charts(page, 3)  # shares over time, faces per bucket, sessions compared
    assert page.locator(".js-plotly-plot").count() == 3
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 1  # the stacked areas were drawn
    page.get_by_text(re.compile(r"Hidden with these filters: 1 hour bucket")).wait_for()
    page.get_by_role("button", name="Download CSV").wait_for()
    notice_visible(page)
    screenshot(page, "mood_trends")


def test_live_webcam_processes_frames_and_records(page, engine):
    [before] = queries.list_event_sessions(engine)[-1:]  # "Open day 2025", the oldest session
    open_from_sidebar(page, "Live webcam")
    page.get_by_text("Press START").wait_for()
    page.get_by_text("Record into a session", exact=True).click()
    # Choose the session rather than trust the remembered one: a Streamlit session that reconnected
    # between tests forgets it and defaults to the newest session (the synthetic one).
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Session to record into")
    picker.click()
    page.get_by_role("option", name=before.name).click()
    wait_until_idle(page)
    webrtc = page.frame_locator('iframe[title*="streamlit_webrtc"]')
    webrtc.get_by_role("button", name="START").click()
    deadline = time.monotonic() + 150  # generous: CI machines may be busy (normally ~10 s)
    counts: list[int] = []
    while time.monotonic() < deadline:
        counts.append(as_int(metric_value(page, "Frames analysed")))
        recorded = as_int(metric_value(page, "Faces recorded"))
        if counts[-1] >= 5 and len(counts) >= 2 and counts[-1] > counts[-2] and recorded > 0:
            break
        page.wait_for_timeout(1000)
    assert counts[-1] >= 5 and counts[-1] > counts[-2], counts
    assert float(metric_value(page, "Video FPS")) > 0
    assert as_int(metric_value(page, "Faces now")) == WEBCAM_FACES
    assert as_int(metric_value(page, "Faces recorded")) > 0
    notice_visible(page)
    screenshot(page, "live_webcam")
    webrtc.get_by_role("button", name="STOP").click()
    webrtc.get_by_role("button", name="START").wait_for()
    page.get_by_text("Press START").wait_for()  # the page has rerun with the stream stopped
    wait_until_idle(page)
    after = queries.get_event_session(engine, before.id)
    assert after.n_photos == before.n_photos
    assert after.n_faces > before.n_faces  # live samples were written into the session
    assert (after.n_faces - before.n_faces) % WEBCAM_FACES == 0  # whole frames, one sample at a time


def test_model_metrics_page(page):
    open_from_sidebar(page, "Model metrics")
    wait_until_idle(page)
    page.locator('[data-testid="stMetric"]').filter(has_text="Agreement with the raters").wait_for()
    wait_for_charts(page, 3)  # confusion matrix, per-class scores, class distribution (+ curves)
    assert re.fullmatch(r"\d+\.\d%", metric_value(page, "Agreement with the raters"))
    notice_visible(page)
    screenshot(page, "model_metrics")
