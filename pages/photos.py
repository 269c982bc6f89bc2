"""Event photos: pick or create a session, upload photos, see annotated results and the session's mix."""

from __future__ import annotations

import math

import streamlit as st

from campus_fer.figures.expressions import expression_mix
from campus_fer.figures.summaries import describe_mix
from campus_fer.ingest import (
    ALLOWED_EXTENSIONS,
    BatchSummary,
    FileOutcome,
    PhotoFile,
    process_batch,
    skipped_over_limit,
)
from campus_fer.page_tables import legend_html, outcomes_table, photos_table
from campus_fer.photo_analysis import preview_legend
from db.queries import (
    SessionInfo,
    create_event_session,
    delete_event_session,
    list_event_sessions,
    photo_table,
    session_comparison,
)
from db.roles import NotAllowed, allowed
from ui.auth import page_actor
from ui.charts import show_chart
from ui.layout import ACTIVE_SESSION_KEY, pick_session, require_entrypoint
from ui.resources import database_errors, engine_or_stop, recognizer_or_stop
from ui.settings import load_settings

require_entrypoint()

PICKER_KEY = "photos_session_picker"
BATCH_KEY = "photos_last_batch"
ROUND_KEY = "photos_upload_round"
FLASH_KEY = "photos_flash"

settings = load_settings()
engine = engine_or_stop(settings)
actor = page_actor(settings)  # db and the ingest core check it again before changing anything
can_create, can_upload = allowed(actor, "create_session"), allowed(actor, "upload")

st.title("Event photos", anchor=False)
st.caption(
    "Upload photos taken at an event. Each face's *apparent expression* is estimated and only "
    "its box, time and probabilities are stored — never the photo itself."
)

if flash := st.session_state.pop(FLASH_KEY, None):
    st.success(flash)

with database_errors("load the event sessions"):
    sessions = list_event_sessions(engine)


def create_session_form(expanded: bool) -> None:
    with (
        st.expander("New session", expanded=expanded, icon=":material/add_circle:"),
        st.form("new_session", clear_on_submit=True),
    ):
        name = st.text_input("Session name", placeholder="Open day 2025 – main hall", max_chars=200)
        event_date = st.date_input("Event date (optional)", value=None, format="YYYY-MM-DD")
        tags = st.text_input("Tags (optional, comma-separated)", placeholder="open day, hall A")
        if not st.form_submit_button("Create session", type="primary"):
            return
    try:
        with database_errors("create the session"):
            new_id = create_event_session(engine, name, event_date, tags.split(","), actor=actor)
    except (ValueError, NotAllowed) as exc:
        st.error(str(exc))
        return
    st.session_state[ACTIVE_SESSION_KEY] = new_id
    st.session_state.pop(PICKER_KEY, None)
    st.session_state[FLASH_KEY] = f"Created session “{name.strip()}”. Now upload its photos."
    st.rerun()


if not can_upload:
    st.info(
        f"You are signed in as a viewer ({actor.email}): you can look at sessions and trends; creating "
        "sessions, uploading photos and deleting need the organiser role."
    )
if not sessions:
    if not can_create:
        st.info("No sessions yet.")
        st.stop()
    st.info(
        "No sessions yet — create one with **New session** below (e.g. the event's name and date), "
        "then upload its photos."
    )
    create_session_form(expanded=True)
    st.stop()
pick_col, new_col = st.columns([3, 2], gap="large")
if can_create:
    with new_col:
        create_session_form(expanded=False)
with pick_col:
    session = pick_session(sessions, "Event session", key=PICKER_KEY)
if session is None:
    st.stop()
if session.tags:
    pick_col.caption("Tags: " + ", ".join(session.tags))
pick_col.caption(f"Owner: {session.owner or 'unknown (created before sign-in)'}")


def upload_section(session: SessionInfo) -> None:
    """The uploader and the button that analyses and saves the batch."""
    st.subheader("Upload photos", anchor=False)
    limit_mb = settings.max_upload_mb
    files = st.file_uploader(
        "Photos (JPG, PNG, WebP or HEIC)",
        type=list(ALLOWED_EXTENSIONS),
        accept_multiple_files=True,
        key=f"photos_uploader_{st.session_state.get(ROUND_KEY, 0)}",
        max_upload_size=max(1, math.ceil(limit_mb)),
        help=f"Up to {limit_mb:g} MB per file and {settings.max_files_per_upload} files per batch. "
        "The capture time is read from the photo's EXIF data when present, else the upload time is used.",
    )
    files = files or []
    label = (
        f"Analyse and save {len(files)} photo{'s' if len(files) != 1 else ''}"
        if files
        else "Analyse and save"
    )
    if not st.button(label, type="primary", disabled=not files, key="analyse"):
        return
    recognizer = recognizer_or_stop(settings=settings)
    limit = settings.max_files_per_upload
    accepted, extra = files[:limit], files[limit:]
    bar = st.progress(0.0, text=f"Analysing {len(accepted)} photos…")

    def progress(index: int, outcome: FileOutcome) -> None:
        bar.progress(
            (index + 1) / len(accepted), text=f"Analysed {index + 1} of {len(accepted)}: {outcome.filename}"
        )

    outcomes = process_batch(
        engine,
        recognizer,
        session.id,
        (PhotoFile(f.name, f.getvalue()) for f in accepted),
        max_bytes=settings.max_upload_bytes,
        keep_annotated=True,
        on_progress=progress,
        actor=actor,
    )
    outcomes += [skipped_over_limit(f.name, limit) for f in extra]
    st.session_state[BATCH_KEY] = {"session_id": session.id, "outcomes": outcomes}
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1  # empties the uploader
    st.rerun()


def batch_results(outcomes: list[FileOutcome]) -> None:
    """What happened to each file of the last batch, and the annotated previews."""
    st.subheader("Last upload", anchor=False)
    summary = BatchSummary(outcomes)
    if saved := summary.count("saved"):
        st.success(f"{saved} photo{'s' if saved != 1 else ''} saved with {summary.faces_saved} faces.")
    if no_face := summary.count("no_face"):
        st.info(
            f"{no_face} photo{'s' if no_face != 1 else ''} had no face found; recorded with 0 faces so "
            "they are not processed again."
        )
    if duplicates := summary.count("duplicate"):
        st.info(
            f"{duplicates} photo{'s were' if duplicates != 1 else ' was'} already in this session; "
            "not counted again."
        )
    failed = [o for o in outcomes if not o.ok]
    if failed:
        st.error(
            f"{len(failed)} file{'s' if len(failed) != 1 else ''} could not be used:\n\n"
            + "\n".join(f"- **{o.filename}**: {o.message}" for o in failed)
        )
    st.dataframe(outcomes_table(outcomes), hide_index=True, width="stretch")
    previews = [o for o in outcomes if o.annotated is not None and not o.zoom_tiles]
    crowds = [o for o in outcomes if o.annotated is not None and o.zoom_tiles]
    if previews or crowds:
        st.caption("Annotated previews (kept only in this browser session, never stored):")
    for i, outcome in enumerate(crowds):
        crowd_preview(outcome, i)
    if previews:
        columns = st.columns(3)
        for i, outcome in enumerate(previews):
            faces = f"{outcome.n_faces} face{'s' if outcome.n_faces != 1 else ''}"
            columns[i % 3].image(
                outcome.annotated,
                caption=f"{outcome.filename} — {faces}",
                width="stretch",
                alt=f"{outcome.filename} with a box and apparent expression drawn on each of its {faces}",
            )
    if st.button("Clear these results"):
        st.session_state.pop(BATCH_KEY, None)
        st.rerun()


def crowd_preview(outcome: FileOutcome, index: int) -> None:
    """A crowd's preview at full width: boxes only (captions would hide the photo), their colours and
    counts beside it, and a zoom on one part of the photo at full resolution."""
    st.markdown(f"**{outcome.filename}** — {outcome.n_faces} faces, too small and close for captions")
    image_col, legend_col = st.columns([3, 1])
    image_col.image(
        outcome.annotated,
        width="stretch",
        alt=f"{outcome.filename} with a box on each of its {outcome.n_faces} faces, coloured by the legend",
    )
    with legend_col:
        st.markdown(legend_html(preview_legend(outcome.faces)), unsafe_allow_html=True)
        st.caption(
            "Only readable faces count in the session's expression shares; uncertain ones count under "
            "their top expression, too-small ones in none."
        )
    names = [name for name, _ in outcome.zoom_tiles]
    tile = st.selectbox(
        "Zoom in on part of the photo (full resolution)", names, key=f"photos_zoom_{index}_{outcome.filename}"
    )
    image_col, _ = st.columns([3, 1])
    image_col.image(
        dict(outcome.zoom_tiles)[tile],
        caption=f"{outcome.filename}, {tile}",
        width="stretch",
        alt=f"{tile} of {outcome.filename} at full resolution, with the boxes of its faces",
    )


def session_summary(session: SessionInfo) -> None:
    """The session's counts, its expression mix (above the privacy threshold) and its photo list."""
    st.subheader(f"Session summary: {session.name}", anchor=False)
    photos_col, faces_col, date_col = st.columns(3)
    photos_col.metric("Photos", session.n_photos)
    faces_col.metric("Faces", session.n_faces)
    date_col.metric("Event date", session.event_date.isoformat() if session.event_date else "—")
    with database_errors("load the session summary"):
        mix = session_comparison(engine, [session.id], min_faces=settings.min_faces_per_bucket)
        photos = photo_table(engine, session.id)
    if session.n_faces == 0:
        st.info("No faces in this session yet — upload event photos above.")
    elif mix.empty:
        st.info(
            f"The expression mix is shown once the session has at least {settings.min_faces_per_bucket} "
            "faces "
            "(small groups are hidden so no individual can be singled out)."
        )
    else:
        show_chart(
            expression_mix(mix, "Apparent expression mix of this session"),
            describe_mix(mix),
            key="session_mix",
        )
    if len(photos):
        with st.expander(f"All photos in this session ({len(photos)})"):
            st.dataframe(photos_table(photos), hide_index=True, width="stretch")


def delete_section(session: SessionInfo) -> None:
    with st.expander("Delete this session", icon=":material/delete:"):
        st.write(
            f"This permanently deletes **{session.name}** with its {session.n_photos} photos' results "
            f"and {session.n_faces} face observations (photo and live)."
        )
        confirmed = st.checkbox(
            f"Yes, delete “{session.name}” and everything recorded in it", key="confirm_delete"
        )
        if st.button("Delete session", type="secondary", disabled=not confirmed):
            try:
                with database_errors("delete the session"):
                    delete_event_session(engine, session.id, actor=actor)
            except NotAllowed as exc:
                st.error(str(exc))
                return
            st.session_state.pop(ACTIVE_SESSION_KEY, None)
            st.session_state.pop(PICKER_KEY, None)
            st.session_state.pop(BATCH_KEY, None)
            st.session_state.pop("confirm_delete", None)
            st.session_state[FLASH_KEY] = f"Deleted session “{session.name}”."
            st.rerun()


if can_upload:
    upload_section(session)
batch = st.session_state.get(BATCH_KEY)
if batch and batch["session_id"] == session.id:
    batch_results(batch["outcomes"])
st.divider()
session_summary(session)
if allowed(actor, "delete_session", session.owner):
    delete_section(session)
