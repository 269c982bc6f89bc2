"""Pieces of page layout shared by every page: the accessibility styles, the privacy notice and the
session picker."""

from __future__ import annotations

import re
from collections.abc import Sequence

import streamlit as st

from db.queries import SessionInfo
from ui.settings import load_settings

#: st.session_state key remembering the chosen event session across pages and reruns.
ACTIVE_SESSION_KEY = "active_session_id"


#: What .streamlit/config.toml's theme cannot say, for WCAG 2.2 AA (tests/test_accessibility.py checks
#: it with axe-core and measures the focus outline). {focus} is the theme's primary colour.
ACCESSIBLE_CSS = """
<style>
/* Visible focus (WCAG 2.4.7, 2.4.13; 3:1 non-text contrast): a 2 px outline in the primary colour on
   every control reached by keyboard. Streamlit's own ring is a 50% translucent shadow (2.1:1) and its
   sidebar links only tint their background (1.1:1). */
.stApp :is(a, button, summary, [role="button"], [role="tab"], [role="radio"], [role="checkbox"],
           [role="switch"], [role="slider"], [tabindex]:not([tabindex="-1"])):focus-visible {
  outline: 2px solid {focus} !important;
  outline-offset: 2px;
}
/* Sidebar links: inside the link, so the sidebar's scrolling box cannot clip it. */
.stApp [data-testid="stSidebarNavLink"]:focus-visible {
  outline-offset: -2px;
}
/* Text fields, selects and date/time fields: around the whole field, not the bare input. */
.stApp :is([data-baseweb="input"], [data-baseweb="textarea"], [data-baseweb="select"] > div,
           [data-testid="stDateInputField"], [data-testid="stTimeInput"] [role="group"],
           .react-aria-ComboBox [role="group"]):has(:focus-visible) {
  outline: 2px solid {focus} !important;
  outline-offset: 1px;
}
.stApp :is(input, textarea, [role="spinbutton"]):focus-visible {
  outline: none !important;
}
/* Captions: Streamlit fades them with opacity 0.6, which also fades links and inline code inside
   them below 4.5:1 (an owner's e-mail link 3.0:1). The same 60% on the text colour alone keeps the
   look and leaves links and code at their own colour. */
.stApp [data-testid="stCaptionContainer"] {
  opacity: 1;
  color: color-mix(in srgb, currentColor 60%, transparent);
}
/* Headings inside markdown (the model card, the README's Responsible use) cannot take anchor=False
   like st.title and st.subheader do: hide their "Link to heading" anchors, each a tab stop. */
.stApp [data-testid="stMarkdown"] [data-testid="stHeaderActionElements"] {
  display: none;
}
/* Date and time fields: each segment (year, month, hour...) is its own target; 24 px (WCAG 2.5.8). */
.stApp :is([data-testid="stDateInput"], [data-testid="stTimeInput"]) [role="spinbutton"] {
  display: inline-block;
  min-width: 24px;
  min-height: 24px;
  line-height: 24px;
  text-align: center;
}
</style>
"""


def apply_accessible_style() -> None:
    """Focus outlines, caption colours and target sizes (ACCESSIBLE_CSS) on every page; no space taken.

    The comments are left out: Streamlit's HTML sanitizer drops a <style> whose text holds a tag.
    """
    focus = st.get_option("theme.primaryColor") or "#2a6f97"
    css = re.sub(r"/\*.*?\*/", "", ACCESSIBLE_CSS, flags=re.DOTALL)
    st.html(css.replace("{focus}", focus))


def show_notice() -> None:
    """The configurable notice on what is (not) stored, in the sidebar of every page."""
    settings = load_settings()
    with st.sidebar:
        st.markdown("#### Privacy")
        st.caption(settings.notice)
        for problem in settings.problems:
            st.warning(problem)


def session_label(info: SessionInfo, counts: bool = False) -> str:
    """'Open day 2025 (2025-05-03) · ana@campus.edu', with counts: '... · 12 photos · 87 faces'.

    The owner (who created it) is shown when known. Pickers that stay on screen while photos are
    added leave the counts out (they would go stale).
    """
    when = f" ({info.event_date.isoformat()})" if info.event_date else ""
    owner = f" · {info.owner}" if info.owner else ""
    sizes = f" · {info.n_photos} photos · {info.n_faces} faces" if counts else ""
    return f"{info.name}{when}{owner}{sizes}"


def pick_session(sessions: Sequence[SessionInfo], label: str, key: str) -> SessionInfo | None:
    """A selectbox of sessions that remembers the choice across pages (None when there are none)."""
    if not sessions:
        return None
    by_id = {info.id: info for info in sessions}
    ids = list(by_id)
    remembered = st.session_state.get(ACTIVE_SESSION_KEY)
    if remembered not in by_id:
        remembered = ids[0]
    # The remembered session is set as the widget's value, not passed as its index: with only the
    # index, a picker whose list gained a session above the one shown (a session just created) kept
    # showing the old name while the page used the new one, and leaving it by keyboard switched back.
    if st.session_state.get(key) != remembered:
        st.session_state[key] = remembered

    def remember() -> None:
        st.session_state[ACTIVE_SESSION_KEY] = st.session_state[key]

    chosen = st.selectbox(
        label, ids, format_func=lambda i: session_label(by_id[i]), key=key, on_change=remember
    )
    st.session_state[ACTIVE_SESSION_KEY] = chosen
    return by_id[chosen]


def require_entrypoint() -> None:
    """Make sure a page runs inside app.py's navigation, also for a deep link opened first after start-up.

    Streamlit treats an app with a pages/ folder as a legacy multipage app until the entry point has
    called st.navigation once in the server process; a first request for e.g. /live would then run
    the page alone (no notice, no page config). Switching the flag and rerunning runs app.py instead.
    """
    from streamlit import config as st_config

    if st_config.get_option("global.appTest"):  # AppTest resets the flag before every run itself
        return
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a later Streamlit without the flag
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
