"""Wellbeing signals for student-support staff: the negative-affect share per week and per event
against a rolling baseline, flagged only when a rise is larger than chance. Aggregates only."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from campus_fer.control_chart import (
    BASELINE_WEEKS,
    CONTROL_SIGMAS,
    MIN_BASELINE_WEEKS,
    NEGATIVE_AFFECT,
)
from campus_fer.figures.segments import p_chart
from campus_fer.figures.summaries import describe_p_chart
from campus_fer.model_report import card_section
from campus_fer.provenance import MODELS_DIFFER
from campus_fer.wellbeing import baseline_restarts, event_chart, shown, weekly_chart
from fer_core.labels import READABLE_MIN_FACE_PX
from ui.auth import page_actor
from ui.charts import show_chart
from ui.layout import require_entrypoint
from ui.resources import database_errors, engine_or_stop
from ui.settings import load_settings

require_entrypoint()

README = Path(__file__).resolve().parent.parent / "README.md"
WHAT_IT_IS = (
    "**What this is:** a statistical signal about how faces at campus events *appeared* in aggregate: "
    f"the share of readable faces whose most likely apparent expression is {', '.join(NEGATIVE_AFFECT)}. "
    "A flag means this share rose by more than chance allows given the number of faces, compared with "
    "the weeks (or events) before.\n\n"
    "**What this is not:** a diagnosis, a measure of how any person feels, or evidence about any "
    "individual or small group. An expression is not a feeling; the model was trained on FER2013, which is "
    "biased and often wrong (about 2 faces in 3 right). It is also **not lawful everywhere**: emotion "
    "recognition in education is prohibited in the EU (AI Act, Article 5(1)(f)). Read the Responsible use "
    "section below before acting on anything here."
)

settings = load_settings()
engine = engine_or_stop(settings)
page_actor(settings)
min_faces = settings.min_faces_per_bucket

st.title("Wellbeing signals", anchor=False)
st.caption("For student-support staff: aggregate signals only, with their uncertainty stated.")
st.info(WHAT_IT_IS, icon=":material/info:")
st.markdown("#### Where to get help")
st.markdown(settings.support_text)

by = st.radio("Per", ["week", "event"], horizontal=True, key="wellbeing_by")
with database_errors("load the negative-affect counts"):
    chart = weekly_chart(engine, min_faces) if by == "week" else event_chart(engine, min_faces)
if chart.empty:
    st.info("No faces recorded yet — upload event photos on the Event photos page.")
    st.stop()
visible = shown(chart)
hidden = len(chart) - len(visible)
x = "period" if by == "week" else "event"
if visible.empty:
    st.warning(f"Every {by} has fewer than {min_faces} readable faces, so no signal can be shown.")
    st.stop()

flagged = visible[visible["flagged"]]
if len(flagged):
    names = ", ".join(
        f"{row.period:%Y-%m-%d}" if by == "week" else str(row.event) for row in flagged.itertuples()
    )
    st.error(
        f"Rise larger than chance in {len(flagged)} {by}{'s' if len(flagged) != 1 else ''}: {names}. "
        "This says only that faces appeared more negative than usual; look at what happened then "
        "(exams, an event's topic, the weather, the camera angle) before drawing any conclusion.",
        icon=":material/flag:",
    )
else:
    st.success(f"No {by} rose above its upper control limit.", icon=":material/check_circle:")

with database_errors("load the models behind the chart"):
    restarts = baseline_restarts(engine, visible)
for restart in restarts:
    if by == "event":
        when = f"event '{visible.loc[visible['period'] == restart.period, 'event'].iloc[0]}'"
    else:  # the first hour read by the new model, else the start of its first week
        when = f"{restart.since or restart.period:%Y-%m-%d}"
    st.warning(
        f"The model changed on {when} (from {' and '.join(restart.previous)} to {restart.model_id}): "
        f"the baseline restarts. {by.capitalize()}s read by {restart.model_id} are compared only with "
        f"each other, never with {by}s read by an earlier model, so the change itself raises no flag; "
        f"the first {MIN_BASELINE_WEEKS} {by}s of the new model build its baseline. {MODELS_DIFFER}",
        icon=":material/swap_horiz:",
    )
if len(set(visible["model_id"])) == 1:
    st.caption(f"All readings here by model {visible['model_id'].iloc[0]}.")

show_chart(
    p_chart(visible, x, f"Negative-affect share per {by} against the rolling baseline"),
    describe_p_chart(visible, x, by),
    key="p_chart",
)
st.caption(
    f"p-chart: each {by} is compared with the pooled share of up to {BASELINE_WEEKS} earlier {by}s (the "
    f"blue line; at least {MIN_BASELINE_WEEKS} are needed before any {by} is judged). The dotted limits are "
    f"{CONTROL_SIGMAS:g} standard errors for that {by}'s own face count, widened by Laney's factor for the "
    "extra variation between weeks; only a share above the upper limit is flagged (red diamond), and flagged "
    f"{by}s stay out of later baselines. A {by} is only ever compared with {by}s read by the same model "
    f"(a {by} read by two models is shown once per model). Only readable faces (at least "
    f"{READABLE_MIN_FACE_PX} px) count; the "
    f"dashed line is the share of faces too small to read. {by.capitalize()}s with fewer than {min_faces} "
    "readable faces get no figure at all" + (f" ({hidden} hidden here)." if hidden else ".")
)
table = visible.rename(columns={"period": "week starting" if by == "week" else "order"})
with st.expander("Table"):
    st.dataframe(table, hide_index=True, width="stretch")

responsible = card_section(README.read_text(encoding="utf-8"), "Responsible use") if README.exists() else None
with st.expander("Responsible use (from the README)", icon=":material/policy:"):
    st.markdown(responsible or "See the Responsible use section of the project's README.md.")
