"""Event report: one click makes a self-contained HTML report of a session to share (aggregates only)."""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from campus_fer.report import build_report, render_html, report_filename
from db.queries import list_event_sessions
from ui.auth import page_actor
from ui.layout import pick_session, require_entrypoint
from ui.resources import database_errors, engine_or_stop
from ui.settings import load_settings

require_entrypoint()

settings = load_settings()
engine = engine_or_stop(settings)
page_actor(settings)

st.title("Event report", anchor=False)
st.caption(
    "A shareable report of one session: headline figures, the expression mix with 95% intervals, the mix "
    "over time and per agenda segment, the comparison with the organiser's other events, the model's limits "
    "and your notice. One HTML file that opens offline; it never holds a photo, a face image or a name."
)

with database_errors("load the event sessions"):
    sessions = list_event_sessions(engine)
if not sessions:
    st.info("No sessions yet — create one and upload its photos on the Event photos page.")
    st.stop()
session = pick_session(sessions, "Event session", key="report_session_picker")
if session is None:
    st.stop()

with st.spinner("Making the report…"), database_errors("make the report"):
    report = build_report(engine, session.id, min_faces=settings.min_faces_per_bucket, notice=settings.notice)
    document = render_html(report)
st.download_button(
    "Download the report (HTML)",
    document.encode("utf-8"),
    file_name=report_filename(session),
    mime="text/html",
    type="primary",
    icon=":material/download:",
    key="download_report",
)
st.caption(
    "PDF: open the downloaded file in a browser and use Print → Save as PDF (the report has a print "
    "layout). No PDF is made on the server: the charts need a browser to draw."
)
if st.toggle("Preview here", value=False, key="preview_report"):
    components.html(document, height=1400, scrolling=True)
