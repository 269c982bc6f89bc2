"""Pieces of page layout shared by every page: the privacy notice and the session picker."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from db.queries import SessionInfo
from ui.settings import load_settings

#: st.session_state key remembering the chosen event session across pages and reruns.
ACTIVE_SESSION_KEY = "active_session_id"


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
