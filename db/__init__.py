"""Storage for Campus FER: event sessions, photos and per-face expression observations.

Settings in `db.settings`, engines and migrations in `db.engine`, the schema in `db.models`
and everything the app reads or writes in `db.queries`. Never stores face images or identities.
"""
