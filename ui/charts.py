"""A chart on a page: the Plotly figure without its mode bar, a name for screen readers, and its text
alternative (a one-line summary, and optionally the numbers behind it in a closed expander)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from campus_fer.figures.style import CHART_CONFIG


def show_chart(fig: go.Figure, summary: str, table: pd.DataFrame | None = None, *, key: str) -> None:
    """Draw `fig` (campus_fer.figures, which sets its own look: no Streamlit theme), then `summary`
    (campus_fer.figures.summaries) as a caption and `table`, if given, in an expander."""
    title = fig.layout.title.text or "Chart"
    st.plotly_chart(fig, width="stretch", theme=None, key=key, config=CHART_CONFIG, alt=f"{title}. {summary}")
    st.caption(summary)
    if table is not None:
        with st.expander(f"Numbers behind “{title}”"):
            st.dataframe(table, hide_index=True, width="stretch")
