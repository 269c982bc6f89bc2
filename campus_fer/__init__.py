"""Campus FER services: the ingest core and the doors (API, CLI) that call it; no Streamlit here."""
