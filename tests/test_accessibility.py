"""Accessibility in headless Chromium: axe-core on every page, the keyboard alone, and visible focus.

* axe-core (pinned in tests/a11y/package.json, installed by scripts/install_browser.sh with `npm ci`)
  is injected into each page by Playwright and run with the WCAG 2.0/2.1/2.2 A and AA rules; any
  serious or critical violation fails the page's test with a readable list. Pages are checked with the
  seeded term (tests/term_data.py) so that their charts are drawn, plus the start page while empty and
  after an upload.
* With the keyboard alone (Tab, Shift+Tab, Enter, Space, typing; no mouse, no element.click()), a
  session is created, a photo uploaded through the file chooser and Mood trends opened from the sidebar.
* The focus indicator of a sidebar link (also the current page's) and of main-area controls has a
  contrast of at least 3:1 against the background behind it (WCAG 2.2 SC 1.4.11 / 2.4.13's 3:1).

Uses tests/test_browser.py's server (streamlit run app.py on a free 127.0.0.1 port, temporary SQLite)
and browser fixtures. Screenshots go to artifacts/screenshots/; axe results to artifacts/a11y/.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from db import queries
from tests.contrast import contrast_ratio, over, parse_css_color
from tests.photos import encode, group_photo
from tests.term_data import seed_term
from tests.test_browser import (  # noqa: F401 (fixtures)
    ROOT,
    SCREENSHOTS,
    Server,
    engine,
    notice_visible,
    page,
    server,
    wait_for_charts,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

AXE_JS = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RESULTS = ROOT / "artifacts" / "a11y"
#: The WCAG 2.0, 2.1 and 2.2 level A and AA rules (axe has no wcag22a tag: 2.2's new A rule is in wcag22aa).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")
#: Non-text contrast (WCAG 1.4.11) asks 3:1 of a focus indicator against what is next to it.
FOCUS_MIN_CONTRAST = 3.0
#: The keyboard test's photo: test_browser.py's first group photo (3 faces, each found by the detector).
KEYBOARD_FACES, KEYBOARD_SEED = 3, 100


def require_axe() -> None:
    """Like require_chromium: skip on a fresh clone, fail under CI."""
    if AXE_JS.exists():
        return
    message = f"{AXE_JS} is missing; run scripts/install_browser.sh (npm ci --prefix tests/a11y)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def term(engine):  # noqa: F811
    return seed_term(engine)


def run_axe(page) -> list[dict]:  # noqa: F811
    """axe.run on the whole document with WCAG_TAGS; the violations, each node's target and summary."""
    require_axe()
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, iframes: false})
            .then(r => r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({impact: n.impact, target: n.target.join(' '),
                                          summary: n.failureSummary}))})))""",
        WCAG_TAGS,
    )


def blocking(violations: list[dict]) -> list[dict]:
    """Violations with any node of impact serious or critical."""
    out = []
    for v in violations:
        nodes = [n for n in v["nodes"] if (n["impact"] or v["impact"]) in BLOCKING]
        if nodes:
            out.append({**v, "nodes": nodes})
    return out


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}")
        for node in v["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}\n        {summary[:300]}")
    return "\n".join(lines)


def open_path(page, server: Server, path: str, title: str) -> None:  # noqa: F811
    page.goto(f"{server.url}/{path}")
    page.get_by_role("heading", name=title, level=1).wait_for()
    notice_visible(page)
    wait_until_idle(page)


def photo_file(tmp: Path, name: str) -> Path:
    path = tmp / name
    path.write_bytes(encode(group_photo(KEYBOARD_FACES, seed=KEYBOARD_SEED)[0], "JPEG", quality=90))
    return path


def upload_one_photo(page, tmp: Path) -> None:  # noqa: F811
    path = photo_file(tmp, "axe_photo.jpg")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_role("button", name="Analyse and save 1 photo").click()
    page.get_by_text("1 photo saved with", exact=False).wait_for(timeout=180_000)
    wait_until_idle(page)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 1")


@dataclass(frozen=True)
class PageState:
    name: str
    path: str
    title: str
    charts: int = 0  # Plotly charts to wait for before axe runs
    then: Callable | None = None  # what to do on the page first (page, tmp_path)


def trends_by_segment(page, tmp: Path) -> None:  # noqa: F811
    page.get_by_text("agenda segment", exact=True).click()
    wait_until_idle(page)
    page.get_by_text("Apparent expressions per agenda segment", exact=False).first.wait_for()


def report_preview(page, tmp: Path) -> None:  # noqa: F811
    page.get_by_text("Preview here", exact=True).click()
    wait_until_idle(page)
    page.locator('iframe[title="st.iframe"], iframe').first.wait_for()


PAGES = [
    PageState("photos (start page)", "", "Event photos", 1),
    PageState("photos after an upload", "", "Event photos", 1, upload_one_photo),
    PageState("trends", "trends", "Mood trends", 3),
    PageState("trends by segment", "trends", "Mood trends", 1, trends_by_segment),
    PageState("agenda", "agenda", "Agenda", 5),
    PageState("report", "report", "Event report", 0, report_preview),
    PageState("wellbeing", "wellbeing", "Wellbeing signals", 1),
    PageState("video", "video", "Event video"),
    PageState("live", "live", "Live webcam"),
    PageState("metrics", "metrics", "Model metrics", 3),
    PageState("audit", "audit", "Audit trail"),
]


def check_axe(page, name: str) -> None:  # noqa: F811
    violations = run_axe(page)
    AXE_RESULTS.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    (AXE_RESULTS / f"{slug}.json").write_text(json.dumps(violations, indent=1), encoding="utf-8")
    found = blocking(violations)
    assert not found, f"axe-core: serious/critical WCAG 2.2 AA violations on {name}:\n{describe(found)}"


def test_axe_start_page_without_sessions(page, server: Server):  # noqa: F811
    """The first thing a new user sees (runs before the term is seeded): the new-session form."""
    open_path(page, server, "", "Event photos")
    page.get_by_text("No sessions yet", exact=False).first.wait_for()
    check_axe(page, "photos without sessions")


@pytest.mark.parametrize("state", PAGES, ids=[s.name for s in PAGES])
def test_axe_finds_no_serious_violation(page, server: Server, term, state: PageState, tmp_path: Path):  # noqa: F811
    open_path(page, server, state.path, state.title)
    if state.then is not None:
        state.then(page, tmp_path)
    if state.charts:
        wait_for_charts(page, state.charts)
    page.wait_for_timeout(500)  # plotly's transitions and Streamlit's fade-in end
    check_axe(page, state.name)
    # Headings carry no "Link to heading" anchor: each was a tab stop before every control.
    assert page.locator('[data-testid="stHeaderActionElements"] a:visible').count() == 0


# --- The keyboard alone ---------------------------------------------------------------------------


def is_focused(locator) -> bool:
    """True when the element (or something inside it, e.g. a field's input) has the keyboard focus."""
    return locator.evaluate("e => e === document.activeElement || e.contains(document.activeElement)")


def tab_to(page, locator, key: str = "Tab", limit: int = 80) -> None:  # noqa: F811
    """Press Tab (or Shift+Tab) until `locator` has the focus; fails after `limit` presses."""
    locator.first.wait_for()
    for _ in range(limit):
        if is_focused(locator.first):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} x{limit} never reached {locator}; focus is on {focused(page)}")


def focused(page) -> str:  # noqa: F811
    return page.evaluate(
        "() => { const e = document.activeElement; return e ? `${e.tagName} ${e.getAttribute('aria-label')"
        " || ''} ${(e.innerText || '').slice(0, 40)}` : 'nothing'; }"
    )


def sidebar_link(page, title: str):  # noqa: F811
    return page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title)


def upload_button(page):  # noqa: F811
    """The file uploader's own button (labelled Upload, or Browse files in older Streamlit)."""
    uploader = page.locator('[data-testid="stFileUploader"]')
    return uploader.get_by_role("button", name=re.compile("Upload|Browse"))


def open_file_chooser(page, button, attempts: int = 3):  # noqa: F811
    """Tab to the upload button and press Enter: the browser's file chooser opens. Retried when a rerun
    still arriving replaced the button between the Tab and the Enter (the focus is then lost)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        wait_until_idle(page)
        tab_to(page, button)
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press("Enter")
            return chooser.value
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise AssertionError(f"Enter opened no file chooser; focus is on {focused(page)}") from None


def press_key_on(page, target, key: str, started, attempts: int = 3) -> None:  # noqa: F811
    """Tab to `target` and press `key` until `started` shows (retried when a rerun arriving between the
    Tab and the key press replaced the target and took the focus with it)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        wait_until_idle(page)
        tab_to(page, target)
        page.keyboard.press(key)
        try:
            started.first.wait_for(timeout=15_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise AssertionError(f"{key} on {target} did nothing; focus is on {focused(page)}") from None


def test_keyboard_alone_creates_a_session_uploads_and_opens_trends(
    page,  # noqa: F811
    server: Server,  # noqa: F811
    engine,  # noqa: F811
    tmp_path: Path,
):
    """Tab, Shift+Tab, Enter, Space and typing only: no mouse and no element.click()."""
    from playwright.sync_api import expect

    name = "Keyboard seminar"
    open_path(page, server, "", "Event photos")
    new_session = page.locator("summary").filter(has_text="New session")
    new_session.wait_for()
    if not new_session.evaluate("summary => summary.parentElement.open"):  # closed once sessions exist
        tab_to(page, new_session)
        page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Session name"))
    page.keyboard.type(name)
    tab_to(page, page.get_by_label("Tags (optional, comma-separated)"))
    page.keyboard.type("keyboard, accessibility")
    tab_to(page, page.get_by_role("button", name="Create session"))
    page.keyboard.press("Enter")
    page.get_by_text(f"Created session “{name}”").wait_for()
    wait_until_idle(page)

    open_file_chooser(page, upload_button(page)).set_files(str(photo_file(tmp_path, "keyboard_photo.jpg")))
    analyse = page.get_by_role("button", name="Analyse and save 1 photo")
    expect(analyse).to_be_enabled()
    saved = page.get_by_text(f"1 photo saved with {KEYBOARD_FACES} faces.")
    press_key_on(page, analyse, "Space", started=page.locator('[data-testid="stProgress"]').or_(saved))
    try:
        saved.wait_for(timeout=180_000)
    finally:
        page.screenshot(path=str(SCREENSHOTS / "keyboard_upload.png"))
    wait_until_idle(page)

    sessions = {s.name: s for s in queries.list_event_sessions(engine)}
    assert name in sessions
    assert (sessions[name].n_photos, sessions[name].n_faces) == (1, KEYBOARD_FACES)
    assert sessions[name].tags == ["keyboard", "accessibility"]
    picker = page.get_by_label("Event session")
    assert name in picker.input_value()  # the new session is the one listed and chosen
    faces = page.locator('[data-testid="stMetric"]').filter(has_text="Faces")
    assert faces.locator('[data-testid="stMetricValue"]').inner_text() == str(KEYBOARD_FACES)

    tab_to(page, sidebar_link(page, "Mood trends"), key="Shift+Tab", limit=120)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Mood trends", level=1).wait_for()
    notice_visible(page)
    assert "/trends" in page.url


# --- Visible focus --------------------------------------------------------------------------------

FOCUS_STYLE_JS = """
() => {
  // The focused element, or the nearest ancestor drawing the outline (a field draws it around itself).
  let e = document.activeElement;
  for (let up = e; up && up !== document.body; up = up.parentElement) {
    const s = getComputedStyle(up);
    if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) { e = up; break; }
  }
  const s = getComputedStyle(e);
  const layers = [];  // background colours from the element up to the root
  for (let up = e; up; up = up.parentElement) layers.push(getComputedStyle(up).backgroundColor);
  return {tag: e.tagName, testid: e.getAttribute('data-testid'), text: (e.innerText || '').slice(0, 40),
          style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor,
          offset: parseFloat(s.outlineOffset), layers};
}
"""


def opaque_background(layers: list[str]) -> tuple[float, float, float]:
    """The colour seen through translucent backgrounds listed from an element up to the root (on white)."""
    colour = (255.0, 255.0, 255.0)
    for css in reversed(layers):
        colour = over(parse_css_color(css), colour)
    return colour


def focus_contrast(page) -> dict:  # noqa: F811
    """The focus outline of the focused element and its contrast with the colours on both sides of it:
    the background around the element and, for an outline drawn inside it, the element's own."""
    found = page.evaluate(FOCUS_STYLE_JS)
    assert found["style"] != "none" and found["width"] >= 2, f"no visible focus outline: {found}"
    outside = opaque_background(found["layers"][1:])
    inside = opaque_background(found["layers"])
    neighbours = [outside, inside] if found["offset"] <= 0 else [outside]
    outline = over(parse_css_color(found["color"]), outside)
    found["ratio"] = min(contrast_ratio(outline, colour) for colour in neighbours)
    return found


FOCUS_RESULTS: dict[str, float] = {}


def test_focus_is_visible_at_3_to_1_in_sidebar_and_main(page, server: Server, term):  # noqa: F811
    open_path(page, server, "", "Event photos")
    targets = {
        "sidebar link, current page (Event photos)": sidebar_link(page, "Event photos"),
        "sidebar link (Mood trends)": sidebar_link(page, "Mood trends"),
        "main: session picker (combobox)": page.get_by_label("Event session"),
        "main: New session expander": page.locator("summary").filter(has_text="New session"),
        "main: Upload button": upload_button(page),
    }
    page.keyboard.press("Tab")
    failures = []
    for label, locator in targets.items():
        tab_to(page, locator)
        found = focus_contrast(page)
        FOCUS_RESULTS[label] = found["ratio"]
        print(f"focus {label}: {found['width']:g}px {found['color']} -> {found['ratio']:.2f}:1")
        if found["ratio"] < FOCUS_MIN_CONTRAST:
            failures.append(f"{label}: {found}")
        if label == "sidebar link (Mood trends)":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "focus_sidebar.png"), clip=FOCUS_CLIP)
        if label == "main: session picker (combobox)":
            page.screenshot(path=str(SCREENSHOTS / "focus_main.png"), clip=FOCUS_CLIP)
    assert not failures, "focus outline under 3:1:\n" + "\n".join(failures)


FOCUS_CLIP = {"x": 0, "y": 0, "width": 1400, "height": 700}
