"""Mood trends: apparent-expression shares over time and per session, above the privacy threshold."""

from __future__ import annotations

import streamlit as st

from campus_fer.agenda import INTERVAL_NOTE
from campus_fer.figures.expressions import bucket_faces, session_bars, trend_area
from campus_fer.figures.segments import segment_mix
from campus_fer.figures.summaries import (
    describe_bucket_faces,
    describe_groups,
    describe_trend,
    group_table,
)
from campus_fer.provenance import MODELS_DIFFER
from campus_fer.trends import date_bounds, export_table, load_segment_trends, load_trends
from db.buckets import BUCKETS
from db.queries import TooManyBucketsError, list_event_sessions
from fer_core.labels import READABLE_MIN_FACE_PX
from ui.charts import show_chart
from ui.layout import require_entrypoint, session_label
from ui.resources import database_errors, engine_or_stop
from ui.settings import load_settings

require_entrypoint()

BY_TIME, BY_SEGMENT = "time", "agenda segment"
SEGMENT_PAGE_KEY = "trends_segment_page"
GROUPINGS = (BY_TIME, BY_SEGMENT)

settings = load_settings()
engine = engine_or_stop(settings)
min_faces = settings.min_faces_per_bucket

st.title("Mood trends", anchor=False)
st.caption(
    "How faces at your events *appeared* over time, in aggregate. These are estimates of apparent "
    "expression, not of what anyone felt."
)

with database_errors("load the event sessions"):
    sessions = list_event_sessions(engine)
if not sessions:
    st.info("No sessions yet — upload event photos on the Event photos page.")
    st.page_link("pages/photos.py", label="Go to Event photos", icon=":material/photo_library:")
    st.stop()

by_id = {info.id: info for info in sessions}
filters = st.columns([5, 4, 4])
chosen = filters[0].multiselect(
    "Sessions",
    list(by_id),
    format_func=lambda i: session_label(by_id[i], counts=True),
    placeholder="All sessions",
)
dates = filters[1].date_input("Dates (UTC, optional)", value=[], format="YYYY-MM-DD")
group_by = filters[2].radio(
    "Group by",
    GROUPINGS,
    horizontal=True,
    key="trends_group_by",
    help="Agenda segments come from each session's agenda (Agenda page, API or CLI).",
)
start, end = date_bounds(dates if isinstance(dates, list | tuple) else [dates])

if group_by == BY_SEGMENT:
    picked = [by_id[i] for i in chosen] if chosen else sessions
    page = int(st.session_state.get(SEGMENT_PAGE_KEY, 1)) - 1
    with database_errors("load the agenda segments"):
        grouped = load_segment_trends(engine, picked, start, end, min_faces, page=page)
    if grouped.empty:
        st.info(
            "None of these sessions has an agenda in these dates — give a session its agenda on the "
            "Agenda page to group its faces by segment."
        )
        st.page_link("pages/agenda.py", label="Go to Agenda", icon=":material/event_note:")
        st.stop()
    if grouped.pages > 1:  # a campus year has thousands of agendas: a page of sessions at a time
        st.session_state[SEGMENT_PAGE_KEY] = grouped.first // grouped.per_page + 1
        st.number_input(
            f"Page of sessions with an agenda (of {grouped.pages})", 1, grouped.pages, key=SEGMENT_PAGE_KEY
        )
        last = min(grouped.first + grouped.per_page, grouped.with_agenda)
        st.caption(
            f"Sessions {grouped.first + 1}–{last} of {grouped.with_agenda:,} with an agenda in these dates, "
            "newest first. Pick sessions above to see particular events."
        )
    st.dataframe(grouped.overview, hide_index=True, width="stretch")
    st.caption(
        f"Segments with fewer than {min_faces} readable faces are hidden so that no individual can be "
        "singled out."
        + (
            f" Sessions without an agenda here: {len(without)} ({', '.join(without[:3])}"
            f"{', ...' if len(without) > 3 else ''}); give them one on the Agenda page."
            if (without := grouped.sessions_without_agenda)
            else ""
        )
    )
    if grouped.mix.empty:
        st.warning(f"No segment has {min_faces} readable faces yet, so none can be shown.")
        st.stop()
    show_chart(
        segment_mix(grouped.mix),
        describe_groups(grouped.mix, "segment", "segment"),
        group_table(grouped.mix, "segment"),
        key="segment_trend_chart",
    )
    st.caption(INTERVAL_NOTE)
    st.download_button(
        "Download CSV",
        grouped.mix.round({"share": 4, "low": 4, "high": 4}).to_csv(index=False).encode("utf-8"),
        file_name="campus_fer_trends_segments.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    st.stop()

bucket = st.radio("Time bucket", BUCKETS, index=BUCKETS.index("hour"), horizontal=True, key="trends_bucket")

try:
    with database_errors("load the trends"):
        data = load_trends(engine, bucket, chosen or None, start, end, min_faces)
except TooManyBucketsError as exc:  # minute buckets over weeks of data
    st.warning(str(exc))
    st.stop()

if data.empty:
    st.info(
        "No faces match these filters yet — choose other sessions or dates, "
        "or upload event photos on the Event photos page."
    )
    st.stop()

hidden = [
    f"{n} {what}{'s' if n != 1 else ''}"
    for n, what in ((data.hidden_buckets, f"{bucket} bucket"), (data.hidden_sessions, "session"))
    if n
]
st.caption(
    f"Time buckets and sessions with fewer than {min_faces} faces are hidden so that no individual can be "
    "singled out." + (f" Hidden with these filters: {' and '.join(hidden)}." if hidden else "")
)
if data.small_faces:
    st.caption(
        f"{data.small_faces:,} of {data.total_faces + data.small_faces:,} faces were too small to read "
        f"(under {READABLE_MIN_FACE_PX} px): they are counted as present but left out of every share, "
        "because the model reads tiny faces poorly and mostly as 'sad' (see Model metrics)."
    )


if data.trends.empty:
    st.warning(
        f"Every {bucket} bucket has fewer than {min_faces} faces, so none can be shown. "
        "Pick a coarser time bucket (e.g. day or week) or include more sessions."
    )
else:
    changes = [(c.at, c.model_id) for c in data.model_changes]
    show_chart(trend_area(data.trends, changes), describe_trend(data.trends), key="trend_chart")
    show_chart(bucket_faces(data.trends), describe_bucket_faces(data.trends), key="faces_chart")
if data.periods:  # which models made these figures, and where the chart marks a change of model
    st.caption(data.models_caption + (f" {MODELS_DIFFER}" if len(data.periods) > 1 else ""))

if not data.sessions.empty:
    show_chart(
        session_bars(data.sessions),
        describe_groups(data.sessions, "session_name", "session"),
        key="sessions_chart",
    )

if not data.trends.empty:
    table = export_table(data)
    with st.expander("Aggregated table"):
        st.dataframe(table, hide_index=True, width="stretch")
    st.download_button(
        "Download CSV",
        table.to_csv(index=False).encode("utf-8"),
        file_name=f"campus_fer_trends_{bucket}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
