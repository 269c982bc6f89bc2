"""POST /v1/sessions/{id}/photos: analyse and store photos, a verdict per file."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api import schemas
from api.auth import WriteToken
from api.deps import DbEngine, Model, SessionId, Settings, error_responses, session_or_404
from api.uploads import (
    REFUSAL_STATUS,
    image_body,
    read_files,
    uploaded_files,
)
from campus_fer.ingest import BatchSummary, FileOutcome, PhotoFile, process_batch

router = APIRouter()


@router.post(
    "/v1/sessions/{session_id}/photos",
    response_model=schemas.PhotosResponse,
    responses={
        **error_responses(401, 403, 404, 415),
        400: {"model": schemas.PhotosResponse | schemas.Error},
        413: {"model": schemas.PhotosResponse | schemas.Error},
        503: {"model": schemas.PhotosResponse | schemas.Error},
    },
    openapi_extra=image_body("files", many=True),
    tags=["sessions"],
)
async def upload_photos(
    session_id: SessionId,
    request: Request,
    engine: DbEngine,
    recognizer: Model,
    settings: Settings,
    token: WriteToken,
    filename: Annotated[str | None, Query(max_length=512)] = None,
) -> JSONResponse:
    """Analyse and store photos, one transaction per photo, with a verdict per file.

    The same file sent again to the session is a `duplicate` (content hash), never counted twice.
    200 when every file is in the session; when none is, 413 (all too large), 503 (database) or
    400, with the same per-file verdicts. A mixed batch is 200: check each file's `status`.
    """
    await run_in_threadpool(session_or_404, engine, session_id)
    uploads, raw = await uploaded_files(request, "files", max_files=settings.max_files_per_upload)
    if raw is not None:
        photos: Iterator[PhotoFile] | list[PhotoFile] = [
            PhotoFile(filename or "upload", await request.body())
        ]
    else:
        photos = read_files(uploads)
    try:
        outcomes = await run_in_threadpool(
            partial(
                process_batch,
                engine,
                recognizer,
                session_id,
                photos,
                max_bytes=settings.max_upload_bytes,
                actor=token.actor,
            )
        )
    finally:
        for upload in uploads:
            await upload.close()
    body = schemas.PhotosResponse(**_photos_body(session_id, outcomes)).model_dump(mode="json")
    return JSONResponse(body, status_code=_photos_status(outcomes))


def _photos_body(session_id: int, outcomes: list[FileOutcome]) -> dict[str, Any]:
    summary = BatchSummary(outcomes)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return {
        "session_id": session_id,
        "counts": counts,
        "faces_saved": summary.faces_saved,
        "files": [outcome.as_dict() for outcome in outcomes],
    }


def _photos_status(outcomes: list[FileOutcome]) -> int:
    if any(outcome.ok for outcome in outcomes):
        return 200
    if any(outcome.status in ("db_error", "skipped") for outcome in outcomes):
        return 503
    if all(REFUSAL_STATUS.get(o.refused_kind or "unreadable") == 413 for o in outcomes):
        return 413
    return 400
