"""Plotly figures shared by the Streamlit pages and the HTML report (no Streamlit here).

- `expressions`: expression mix, trends over time, sessions compared, model-change marks.
- `segments`: shares with intervals, differences between segments, the p-chart.
- `model_metrics`: the served model's quality from metrics.json (confusion, calibration, ...).
"""
