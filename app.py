"""Campus FER: the Streamlit entry point (`streamlit run app.py`). Pages live in pages/."""

from __future__ import annotations

import streamlit as st

from db.roles import allowed
from ui.auth import admit, show_user
from ui.layout import apply_accessible_style, show_notice
from ui.settings import load_settings

st.set_page_config(page_title="Campus FER", page_icon=":material/sentiment_satisfied:", layout="wide")
apply_accessible_style()  # focus outlines, caption colours, target sizes (WCAG 2.2 AA)

visitor, gate = admit(load_settings())  # signed-out visitors and accounts without a role see only `gate`
if gate is not None:
    show_notice()
    gate.run()
    st.stop()
pages = [
    st.Page("pages/photos.py", title="Event photos", icon=":material/photo_library:", default=True),
    st.Page("pages/live.py", title="Live webcam", icon=":material/videocam:"),
    st.Page("pages/trends.py", title="Mood trends", icon=":material/monitoring:"),
    st.Page("pages/metrics.py", title="Model metrics", icon=":material/analytics:"),
    st.Page("pages/video.py", title="Event video", icon=":material/movie:"),
    st.Page("pages/agenda.py", title="Agenda", icon=":material/view_timeline:"),
    st.Page("pages/report.py", title="Event report", icon=":material/summarize:"),
    st.Page("pages/wellbeing.py", title="Wellbeing signals", icon=":material/health_and_safety:"),
]
if visitor.actor is not None and allowed(visitor.actor, "view_audit"):
    pages.append(st.Page("pages/audit.py", title="Audit trail", icon=":material/policy:"))
page = st.navigation(pages)
show_notice()
show_user(visitor)
page.run()
