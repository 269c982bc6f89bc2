"""The Streamlit app's shared pieces: settings, cached resources, the photo pipeline, charts, views."""
