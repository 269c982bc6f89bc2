"""Event video: upload a recording into a session; frames sampled every N seconds go through the same
ingest core as photos. Nothing of the video is kept."""

from __future__ import annotations

import math
from datetime import datetime, time

import streamlit as st

from campus_fer.ingest import FileOutcome
from campus_fer.page_tables import outcomes_table
from campus_fer.video import DEFAULT_INTERVAL_S, VIDEO_EXTENSIONS
from campus_fer.video_ingest import ingest_video
from db.queries import list_event_sessions
from db.roles import NotAllowed, allowed
from ui.auth import page_actor
from ui.layout import pick_session, require_entrypoint
from ui.resources import database_errors, engine_or_stop, recognizer_or_stop
from ui.settings import load_settings

require_entrypoint()

RESULT_KEY = "video_last_result"
ROUND_KEY = "video_upload_round"

settings = load_settings()
engine = engine_or_stop(settings)
actor = page_actor(settings)

st.title("Event video", anchor=False)
st.caption(
    "Upload a recording of an event (a phone or a lecture-hall recorder). A frame is analysed every few "
    "seconds, like a photo; only face boxes, times and probabilities are stored — **nothing of the video "
    "is kept**."
)

with database_errors("load the event sessions"):
    sessions = list_event_sessions(engine)
if not sessions:
    st.info("No sessions yet — create one on the Event photos page first.")
    st.stop()
session = pick_session(sessions, "Event session", key="video_session_picker")
if session is None:
    st.stop()
if not allowed(actor, "upload"):
    st.info("Viewers can see results; organisers and admins can add video.")
    st.stop()

limit_mb = settings.max_video_upload_mb
video = st.file_uploader(
    "Video (MP4, MOV, WebM, MKV)",
    type=list(VIDEO_EXTENSIONS),
    key=f"video_uploader_{st.session_state.get(ROUND_KEY, 0)}",
    max_upload_size=max(1, math.ceil(limit_mb)),
    help=f"Up to {limit_mb:g} MB. Long files are decoded frame by frame, never all at once.",
)
when = st.columns(3)
start_day = when[0].date_input("Recording started on", value=session.event_date or datetime.now().date())
start_clock = when[1].time_input("at (same clock as the photos, UTC)", value=time(9, 0), step=60)
interval = when[2].number_input(
    "Seconds between analysed frames", min_value=0.2, max_value=60.0, value=DEFAULT_INTERVAL_S, step=0.5
)

if st.button("Analyse and save video", type="primary", disabled=video is None, key="analyse_video"):
    recognizer = recognizer_or_stop(settings=settings)
    bar = st.progress(0.0, text=f"Reading {video.name}…")

    def progress(done: int, expected: int | None, outcome: FileOutcome) -> None:
        share = min(done / expected, 1.0) if expected else 0.0
        of = f" of ~{expected}" if expected else ""
        bar.progress(share, text=f"Analysed frame {done}{of}: {outcome.n_faces} faces")

    try:
        with database_errors("save the video's frames"):
            result = ingest_video(
                engine,
                recognizer,
                session.id,
                video,
                filename=video.name,
                start=datetime.combine(start_day, start_clock),
                interval_s=float(interval),
                on_progress=progress,
                actor=actor,
            )
    except NotAllowed as exc:
        st.error(str(exc))
        st.stop()
    st.session_state[RESULT_KEY] = {"session_id": session.id, "result": result}
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1  # empties the uploader
    st.rerun()

last = st.session_state.get(RESULT_KEY)
if last and last["session_id"] == session.id:
    result = last["result"]
    st.subheader(f"Last video: {result.filename}", anchor=False)
    saved, duplicates = result.count("saved", "no_face"), result.count("duplicate")
    if saved:
        st.success(f"{saved} frames saved with {result.faces_saved} faces.")
    if duplicates:
        st.info(
            f"{duplicates} frames were already in this session (the same video before); not counted again."
        )
    if result.error:
        kept = f" The {len(result.frames)} frames before the problem are kept." if result.frames else ""
        st.error(f"{result.filename}: {result.error.rstrip('.')}.{kept}")
    if result.frames:
        with st.expander(f"Every analysed frame ({len(result.frames)})"):
            st.dataframe(outcomes_table(result.frames), hide_index=True, width="stretch")
    st.page_link(
        "pages/agenda.py", label="See the session per agenda segment", icon=":material/view_timeline:"
    )
