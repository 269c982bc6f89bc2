"""The app's settings: campus_fer.settings, with `[campus_fer]` from .streamlit/secrets.toml passed in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from campus_fer import settings


def streamlit_secrets() -> Mapping[str, Any]:
    """The `[campus_fer]` secrets table, or nothing when there is no secrets file."""
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        section = st.secrets.get(settings.SECRETS_SECTION, {})
        return dict(section) if isinstance(section, Mapping) else {}
    except Exception:  # secrets are optional: an unreadable file must not stop the app
        return {}


def load_settings(environ: Mapping[str, str] | None = None) -> settings.AppSettings:
    """Environment variables first, then the secrets table, then defaults (see campus_fer.settings)."""
    return settings.load_settings(environ, streamlit_secrets())
