"""Campus FER: the Streamlit entry point (`streamlit run app.py`). Pages live in pages/."""

from __future__ import annotations

import streamlit as st

from ui.layout import show_notice

st.set_page_config(page_title="Campus FER", page_icon=":material/sentiment_satisfied:", layout="wide")

page = st.navigation(
    [
        st.Page("pages/photos.py", title="Event photos", icon=":material/photo_library:", default=True),
        st.Page("pages/live.py", title="Live webcam", icon=":material/videocam:"),
        st.Page("pages/trends.py", title="Mood trends", icon=":material/monitoring:"),
        st.Page("pages/metrics.py", title="Model metrics", icon=":material/analytics:"),
    ]
)
show_notice()
page.run()
