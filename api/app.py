"""The REST API for kiosks and campus systems: the app factory, middleware and error handlers; the
routes are thin, one router per resource in api/routers/ (dependencies in api.deps).
Run with `bash scripts/api.sh` (uvicorn api.app:app); OpenAPI docs at /docs.

Limits come from the app's settings (CAMPUS_FER_MAX_UPLOAD_MB, CAMPUS_FER_MAX_FILES_PER_UPLOAD,
CAMPUS_FER_MIN_FACES_PER_BUCKET, CAMPUS_FER_DATABASE_URL, CAMPUS_FER_MODEL) and the decoder's pixel
limit. Every error is JSON with a readable `detail`; bad input is a 4xx, never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from api.limits import BodySizeLimit, BodyTooLarge
from api.routers import agenda, analyze, health, photos, reports, sessions, trends, video
from api.uploads import FORMATS, MULTIPART_OVERHEAD
from campus_fer.settings import AppSettings, load_settings
from db.engine import make_engine
from db.roles import NotAllowed
from db.settings import database_url
from fer_core.config import served_model_path
from fer_core.detect import YuNetDetector
from fer_core.images import MAX_IMAGE_PIXELS
from fer_core.recognizer import Recognizer

LOGGER = logging.getLogger(__name__)
#: The routers in OpenAPI order: one per resource (api/routers/).
ROUTERS = (health, analyze, sessions, photos, video, reports, agenda, trends)


def _body_limit(settings: AppSettings, path: str) -> int | None:
    """Largest request body per route: one file for /v1/analyze, a full batch for photo uploads."""
    per_file = settings.max_upload_bytes + MULTIPART_OVERHEAD
    if path == "/v1/analyze":
        return per_file
    if path.endswith("/photos"):
        return per_file * settings.max_files_per_upload
    if path.endswith("/video"):
        return int(settings.max_video_upload_mb * 1024 * 1024) + MULTIPART_OVERHEAD
    return 1024 * 1024  # JSON bodies


async def _not_allowed(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=403)


async def _too_large(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=413)


async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    LOGGER.error("database error", exc_info=exc)
    return JSONResponse(
        {"detail": f"The database reported an error ({type(exc).__name__}); nothing was saved. Try again."},
        status_code=503,
    )


def create_app(
    settings: AppSettings | None = None, engine: Engine | None = None, recognizer: Recognizer | None = None
) -> FastAPI:
    """The API app; the engine and recognizer are built at start-up unless given (tests pass theirs)."""
    settings = settings or load_settings(secrets={})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if engine is None:
            app.state.engine = make_engine(database_url(settings.database_url))
        if recognizer is None:
            app.state.recognizer = Recognizer(
                served_model_path(settings.model), detector=YuNetDetector(tiling=settings.tiling)
            )
        try:
            yield
        finally:
            if engine is None:
                app.state.engine.dispose()

    app = FastAPI(
        title="Campus FER API",
        version="1.0",
        summary="Apparent facial-expression recognition for campus feedback, reported in aggregate.",
        description=(
            "Estimates how faces *appear* (apparent expression), not what anyone feels. Stores only "
            "times, face boxes and probabilities: no images, no identities. Authenticate with "
            "`Authorization: Bearer <token>` (tokens from `campus-fer token create`). Files up to "
            f"{settings.max_upload_mb:g} MB and {MAX_IMAGE_PIXELS:,} pixels ({FORMATS})."
        ),
        lifespan=lifespan,
    )
    app.state.settings, app.state.engine, app.state.recognizer = settings, engine, recognizer
    app.add_middleware(BodySizeLimit, limit_for=partial(_body_limit, settings))
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(NotAllowed, _not_allowed)
    app.add_exception_handler(SQLAlchemyError, _database_down)
    for module in ROUTERS:
        app.include_router(module.router)
    return app


app = create_app()
