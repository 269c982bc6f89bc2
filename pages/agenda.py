"""Agenda: give a session its segments (typed or pasted as CSV) and see each segment's expression mix
with 95% intervals, and whether it differed from the rest of the event by more than chance."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from campus_fer.agenda import (
    AGENDA_COLUMNS,
    AGENDA_EXAMPLE,
    INTERVAL_NOTE,
    agenda_from_csv,
    agenda_from_table,
    agenda_table,
    comparison_table,
    mix_table,
    outside_faces,
    summarise_segments,
)
from campus_fer.figures.segments import difference_bars, segment_mix
from campus_fer.figures.summaries import describe_differences, describe_groups, group_table
from db.queries import list_event_sessions
from db.roles import NotAllowed, allowed
from db.segments import agenda, replace_agenda, unit_counts
from ui.auth import page_actor
from ui.charts import show_chart
from ui.layout import pick_session, require_entrypoint
from ui.resources import database_errors, engine_or_stop
from ui.settings import load_settings

require_entrypoint()

settings = load_settings()
engine = engine_or_stop(settings)
actor = page_actor(settings)
min_faces = settings.min_faces_per_bucket

st.title("Agenda", anchor=False)
st.caption(
    "Which part of the event landed? Give the session its agenda and compare the *apparent* "
    "expressions per segment, in aggregate."
)

with database_errors("load the event sessions"):
    sessions = list_event_sessions(engine)
if not sessions:
    st.info("No sessions yet — create one and upload its photos on the Event photos page.")
    st.stop()
session = pick_session(sessions, "Event session", key="agenda_session_picker")
if session is None:
    st.stop()
with database_errors("load the agenda"):
    stored = agenda(engine, session.id)


def save(segments_text: str | None, table: pd.DataFrame | None, day) -> None:
    try:
        parsed = (
            agenda_from_csv(segments_text, day)
            if segments_text is not None
            else agenda_from_table(table, day)
        )
        with database_errors("save the agenda"):
            replace_agenda(engine, session.id, parsed, actor=actor)
    except (ValueError, NotAllowed) as exc:
        st.error(str(exc))
        return
    st.session_state["agenda_flash"] = f"Saved {len(parsed)} segment{'s' if len(parsed) != 1 else ''}."
    st.session_state.pop("agenda_editor", None)
    st.rerun()


if flash := st.session_state.pop("agenda_flash", None):
    st.success(flash)

with st.expander("Edit the agenda", expanded=not stored, icon=":material/edit_calendar:"):
    if not allowed(actor, "upload"):
        st.info("Viewers can read the agenda; organisers and admins can change it.")
    day = st.date_input(
        "Event date (for times written as 09:15)",
        value=session.event_date,
        format="YYYY-MM-DD",
        help="Times are on the same clock as the photo times (stored as UTC).",
    )
    typed, pasted = st.tabs(["Type", "Paste CSV"])
    with typed:
        initial = (
            agenda_table(stored)
            if stored
            else pd.DataFrame({c: pd.Series(dtype=str) for c in AGENDA_COLUMNS})
        )
        edited = st.data_editor(
            initial,
            num_rows="dynamic",
            key="agenda_editor",
            width="stretch",
            column_config={
                "name": st.column_config.TextColumn("Segment", required=True, max_chars=200),
                "start": st.column_config.TextColumn("Start (09:15 or 2025-05-03 09:15)", required=True),
                "end": st.column_config.TextColumn("End", required=True),
            },
        )
        if st.button("Save agenda", type="primary", key="save_typed", disabled=not allowed(actor, "upload")):
            save(None, edited, day)
    with pasted:
        text = st.text_area("CSV with a name,start,end header", placeholder=AGENDA_EXAMPLE, height=160)
        if st.button(
            "Save pasted agenda", key="save_pasted", disabled=not (text.strip() and allowed(actor, "upload"))
        ):
            save(text, None, day)

if not stored:
    st.info("This session has no agenda yet — type or paste one above.")
    st.stop()

with database_errors("load the faces per segment"):
    units = unit_counts(engine, session.id)
summaries = summarise_segments(units, stored, min_faces=min_faces)
overview = pd.DataFrame(
    [
        {
            "segment": s.segment.name,
            "start": s.segment.starts_at,
            "end": s.segment.ends_at,
            "photos": s.photos,
            "readable faces": s.faces,
            "faces too small to read": s.small_faces,
            "shown": "yes" if s.shown else f"hidden (fewer than {min_faces} faces)",
        }
        for s in summaries
    ]
)
st.subheader("Segments", anchor=False)
st.dataframe(overview, hide_index=True, width="stretch")
outside = outside_faces(units)
st.caption(
    f"Segments with fewer than {min_faces} readable faces are hidden so that no individual can be "
    "singled out."
    + (
        f" {outside} readable faces fall outside every segment; they count in 'the rest of the event'."
        if outside
        else ""
    )
)

mix = mix_table(summaries)
if mix.empty:
    st.warning(f"No segment has {min_faces} readable faces yet, so none can be shown.")
    st.stop()
show_chart(
    segment_mix(mix),
    describe_groups(mix, "segment", "segment"),
    group_table(mix, "segment"),
    key="segment_mix",
)
st.caption(INTERVAL_NOTE)

st.subheader("Each segment vs the rest of the event", anchor=False)
compared = comparison_table(summaries)
for summary in (s for s in summaries if s.versus_rest):
    name = summary.segment.name
    clear = summary.clear_differences
    with st.container(border=True):
        st.markdown(f"**{name}** · {summary.faces} readable faces in {summary.photos} photos")
        if clear:
            for difference in clear:
                st.markdown(f"- {difference.verdict}")
        else:
            st.markdown("- No expression differed from the rest of the event by more than its uncertainty.")
        mine = compared[compared["segment"] == name]
        show_chart(
            difference_bars(mine, name), describe_differences(mine, name), key=f"diff_{summary.segment.id}"
        )
if compared.empty:
    st.info(
        f"A comparison needs at least {min_faces} readable faces both in the segment and in the rest "
        "of the event."
    )
st.download_button(
    "Download CSV (shares and intervals per segment)",
    mix.round({"share": 4, "low": 4, "high": 4}).to_csv(index=False).encode("utf-8"),
    file_name=f"campus_fer_agenda_{session.id}.csv",
    mime="text/csv",
    icon=":material/download:",
)
