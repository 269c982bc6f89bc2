"""What the routers share: the app's settings, engine and recognizer as dependencies (set on
app.state by api.app.create_app), the session id path parameter, error responses for OpenAPI and the
404 for a missing session."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi import Path as FastAPIPath
from sqlalchemy.engine import Engine

from api import schemas
from campus_fer.settings import AppSettings
from db import queries
from db.buckets import BUCKETS
from fer_core.recognizer import Recognizer


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries: each code answers with the JSON `Error` body."""
    return {code: {"model": schemas.Error} for code in codes}


def _settings(request: Request) -> AppSettings:
    return request.app.state.settings


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _recognizer(request: Request) -> Recognizer:
    return request.app.state.recognizer


Settings = Annotated[AppSettings, Depends(_settings)]
DbEngine = Annotated[Engine, Depends(_engine)]
Model = Annotated[Recognizer, Depends(_recognizer)]
#: Ids fit the database's 32-bit integer columns; larger ones are a 422, not a driver error.
SessionId = Annotated[int, FastAPIPath(ge=1, le=2**31 - 1)]
#: The trend buckets (db.buckets.BUCKETS) as an enum, so OpenAPI lists them.
Bucket = StrEnum("Bucket", {name: name for name in BUCKETS})


def session_or_404(engine: Engine, session_id: int) -> queries.SessionInfo:
    """The session, or a 404 with a readable detail."""
    info = queries.get_event_session(engine, session_id)
    if info is None:
        raise HTTPException(404, f"There is no event session {session_id}.")
    return info
