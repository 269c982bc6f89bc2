"""The REST API (FastAPI): thin routes over the ingest core and db, bearer tokens, JSON errors."""
