"""Audit trail (admins): who created or deleted sessions, imported photos, purged, managed tokens, and
which role the settings gave each user; filter it and export it as CSV."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from db.audit import ACTIONS, events_csv
from db.audit import audit_events as load_audit_events
from db.roles import allowed
from ui.auth import page_actor
from ui.layout import require_entrypoint
from ui.resources import database_errors, engine_or_stop
from ui.settings import load_settings

require_entrypoint()

#: Rows shown on the page; the CSV export holds every row that matches the filters.
SHOWN_ROWS = 500

settings = load_settings()
engine = engine_or_stop(settings)
actor = page_actor(settings)

st.title("Audit trail", anchor=False)
if not allowed(actor, "view_audit"):
    st.error("The audit trail is for admins only.")
    st.stop()
st.caption(
    "Who did what and when. Rows hold the acting user, their role, the session and counts: no face "
    "data, no photo names. They are kept when a session is deleted."
)

left, right = st.columns([3, 2])
chosen = left.multiselect("Actions", ACTIONS, placeholder="All actions")
dates = right.date_input("Dates (UTC, optional)", value=[], format="YYYY-MM-DD")
days = list(dates) if isinstance(dates, list | tuple) else [dates]
start = datetime.combine(days[0], time.min) if days else None
end = datetime.combine(days[-1], time.min) + timedelta(days=1) if days else None

with database_errors("load the audit trail"):
    events = load_audit_events(engine, actor=actor, start=start, end=end, actions=chosen or None)
if events.empty:
    st.info("No audit events match these filters yet.")
    st.stop()
st.write(f"{len(events)} event{'s' if len(events) != 1 else ''}, newest first.")
st.dataframe(events.head(SHOWN_ROWS), hide_index=True, width="stretch")
st.download_button(
    "Download CSV",
    events_csv(events).encode("utf-8"),
    file_name="campus_fer_audit.csv",
    mime="text/csv",
    icon=":material/download:",
)
