"""Process-wide resources (the recognizer, the database engine) built once and shared by every page.

`st.cache_resource` keeps one ONNX session and one connection pool for all browser sessions;
the `*_or_stop` helpers turn a failure into a clear message on the page instead of a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from campus_fer.settings import AppSettings
from db.engine import make_engine
from db.settings import database_url
from fer_core.config import served_model_path
from fer_core.detect import LIVE_MAX_SIDE, YuNetDetector
from fer_core.recognizer import Recognizer
from ui.settings import load_settings

LOGGER = logging.getLogger(__name__)


def _model_version(path: Path) -> float:
    """The model file's modification time: a retrained model is picked up without a restart."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(show_spinner="Loading the expression model…", max_entries=4)
def _recognizer(path: Path, model_version: float, live: bool = False, tiling: str = "auto") -> Recognizer:
    # model_version is part of the cache key (Streamlit ignores only _-prefixed arguments).
    # The live view detects on smaller frames to keep per-frame latency low; photos tile crowds.
    detector = YuNetDetector(max_side=LIVE_MAX_SIDE, tiling="never") if live else YuNetDetector(tiling=tiling)
    return Recognizer(path, detector=detector)


@st.cache_resource(show_spinner="Opening the database…")
def _engine(url: str) -> Engine:
    return make_engine(url)


def get_recognizer(live: bool = False, settings: AppSettings | None = None) -> Recognizer:
    """The shared recognizer of the configured model, for photos or for the live view
    (FileNotFoundError if the model is missing)."""
    settings = settings or load_settings()
    path = served_model_path(settings.model)
    return _recognizer(path, _model_version(path), live, settings.tiling)


def get_engine(settings: AppSettings | None = None) -> Engine:
    """The shared engine for the configured database, migrated to the current schema."""
    settings = settings or load_settings()
    return _engine(database_url(settings.database_url))


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable database URL)"


def recognizer_or_stop(live: bool = False, settings: AppSettings | None = None) -> Recognizer:
    """The recognizer, or an error on the page and the end of this script run."""
    settings = settings or load_settings()
    try:
        return get_recognizer(live, settings)
    except Exception as exc:
        LOGGER.exception("loading the model failed")
        st.error(
            f"The expression model could not be loaded from `{served_model_path(settings.model)}` ({exc}). "
            "Check that the models/ folder was deployed with the app."
        )
        st.stop()
        raise  # st.stop() raises; this keeps type checkers happy


def engine_or_stop(settings: AppSettings | None = None) -> Engine:
    """The engine, or an error on the page and the end of this script run."""
    settings = settings or load_settings()
    url = database_url(settings.database_url)
    try:
        return _engine(url)
    except (SQLAlchemyError, OSError, ValueError) as exc:
        LOGGER.exception("opening the database failed")
        st.error(
            f"The database at `{safe_url(url)}` could not be opened ({type(exc).__name__}). "
            "Check CAMPUS_FER_DATABASE_URL and that the database server is running, then reload the page."
        )
        st.stop()
        raise


@contextmanager
def database_errors(action: str) -> Iterator[None]:
    """Turn a database failure while doing `action` into a message and the end of this run."""
    try:
        yield
    except SQLAlchemyError as exc:
        LOGGER.exception("database error while trying to %s", action)
        st.error(
            f"Could not {action}: the database reported an error ({type(exc).__name__}). "
            "Please try again; if it keeps happening, check the database server."
        )
        st.stop()
