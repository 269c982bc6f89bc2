"""Live webcam: boxes and apparent expressions drawn on the video, optionally sampled into a session."""

from __future__ import annotations

import logging
import queue
from collections.abc import Sequence
from datetime import datetime

import av
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from campus_fer.ingest import record_live_sample
from campus_fer.live_analysis import LiveAnalyzer, LiveUpdate
from campus_fer.page_tables import live_faces_table
from db.queries import list_event_sessions
from db.roles import allowed
from fer_core.recognizer import FaceResult
from fer_core.tracking import FaceTracker
from ui.auth import page_actor
from ui.layout import pick_session, require_entrypoint
from ui.resources import database_errors, engine_or_stop, recognizer_or_stop
from ui.settings import load_settings

require_entrypoint()

ANALYZER_KEY = "live_analyzer"
TRACKER_KEY = "live_tracker"
LOGGER = logging.getLogger(__name__)

settings = load_settings()
engine = engine_or_stop(settings)
recognizer = recognizer_or_stop(live=True, settings=settings)

st.title("Live webcam", anchor=False)
st.caption(
    "Shows each face's *apparent expression* on your webcam video. Nothing from the video is stored; "
    "only when you record into a session are times, boxes and probabilities saved."
)


actor = page_actor(settings)  # the ingest core checks it again before each recorded sample
can_record = allowed(actor, "upload")


def save(session_id: int, observed_at: datetime, faces: Sequence[FaceResult]) -> int:
    """Store a sample as read by the served model (its id goes with every row)."""
    model_id = recognizer.model_id
    return record_live_sample(engine, session_id, observed_at, faces, model_id=model_id, actor=actor)


# One tracker per browser session and recognizer: it detects every few frames and follows faces between.
if getattr(st.session_state.get(TRACKER_KEY), "recognizer", None) is not recognizer:
    st.session_state[TRACKER_KEY] = FaceTracker(recognizer)
tracker: FaceTracker = st.session_state[TRACKER_KEY]
if ANALYZER_KEY not in st.session_state:
    st.session_state[ANALYZER_KEY] = LiveAnalyzer(tracker.analyze)
analyzer: LiveAnalyzer = st.session_state[ANALYZER_KEY]
analyzer.configure(tracker.analyze, save, settings.live_record_interval_s)

with database_errors("load the event sessions"):
    sessions = list_event_sessions(engine)
record = st.toggle(
    "Record into a session",
    disabled=not sessions or not can_record,
    help=f"Writes one sample at most every {settings.live_record_interval_s:g} s: the faces of the latest "
    "analysed frame, so each person counts once per interval rather than once per frame.",
)

if not can_record:
    st.caption(f"Signed in as a viewer ({actor.email}): you can watch the live view; organisers record.")
elif not sessions:
    st.caption("To record, first create a session on the Event photos page.")
session = pick_session(sessions, "Session to record into", key="live_session_picker") if record else None
analyzer.set_recording(session.id if session else None)


def video_frame_callback(frame: av.VideoFrame) -> av.VideoFrame:
    """Runs on the video thread: hand over the frame, draw the latest results, never wait for the model."""
    out = analyzer.process_frame(frame.to_ndarray(format="rgb24"))
    return av.VideoFrame.from_ndarray(out, format="rgb24")


try:
    ctx = webrtc_streamer(
        key="live",
        mode=WebRtcMode.SENDRECV,
        rtc_configuration=settings.rtc_configuration,
        media_stream_constraints={"video": True, "audio": False},
        video_frame_callback=video_frame_callback,
        async_processing=True,
    )
except Exception as exc:  # a broken ICE configuration or WebRTC stack must not show a traceback
    LOGGER.exception("starting the webcam component failed")
    st.error(
        f"The webcam component could not start ({type(exc).__name__}: {exc}). "
        "Check CAMPUS_FER_ICE_SERVERS (README: 'The webcam on a remote deployment') and reload the page."
    )
    st.stop()

metric_cols = st.columns(5)
placeholders = [col.empty() for col in metric_cols]
message = st.empty()
table = st.empty()


def show(update: LiveUpdate) -> None:
    values = (
        ("Frames analysed", f"{update.frames_analysed:,}"),
        ("Video FPS", f"{update.video_fps:.0f}"),
        ("Analysis FPS", f"{update.analysis_fps:.1f}"),
        ("Faces now", str(len(update.faces))),
        ("Faces recorded", f"{update.recorded_faces:,}" if update.recording_session else "off"),
    )
    for placeholder, (label, value) in zip(placeholders, values, strict=True):
        placeholder.metric(label, value)
    if update.error:
        message.warning(update.error)
    elif not update.faces:
        message.caption("No face in view — face the camera in good light.")
    else:
        message.empty()
    table.dataframe(live_faces_table(update.faces), hide_index=True, width="stretch")


if ctx.state.playing:
    show(analyzer.snapshot())
    while True:  # ends when the user presses STOP (Streamlit reruns the page)
        try:
            show(analyzer.updates.get(timeout=1.0))
        except queue.Empty:
            show(analyzer.snapshot())
else:
    show(analyzer.snapshot())
    message.info(
        "Press **START** and allow camera access. Boxes and labels appear on the video; "
        "the numbers here update while it plays."
    )
