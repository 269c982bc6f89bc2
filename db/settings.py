"""Where the database lives: one function that every entry point (app, Alembic, tests) asks."""

from __future__ import annotations

import os

from fer_core import config

#: Environment variable holding an SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db.
DATABASE_URL_ENV = "CAMPUS_FER_DATABASE_URL"
#: Default SQLite file, relative to the project root (data/ is git-ignored).
DEFAULT_SQLITE_RELATIVE = "data/campus_fer.sqlite3"


def database_url(explicit: str | None = None) -> str:
    """Return the database URL: `explicit`, else $CAMPUS_FER_DATABASE_URL, else the local SQLite file.

    The default needs no setup, so the app works out of the box; data/ is created on first use.
    """
    if explicit:
        return explicit
    from_env = os.environ.get(DATABASE_URL_ENV, "").strip()
    if from_env:
        return from_env
    path = config.PROJECT_ROOT / DEFAULT_SQLITE_RELATIVE
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"
