"""POST /v1/analyze: faces in one image, nothing stored (kiosks, signage)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api import schemas
from api.auth import ReadToken
from api.deps import Model, Settings, error_responses
from api.uploads import (
    image_body,
    read_files,
    refusal_error,
    uploaded_files,
)
from campus_fer.ingest import PhotoFile, analyse_photo

router = APIRouter()


@router.post(
    "/v1/analyze",
    response_model=schemas.AnalyzeResponse,
    responses=error_responses(400, 401, 403, 413, 415),
    openapi_extra=image_body("file", many=False),
    tags=["analyze"],
)
async def analyze(
    request: Request,
    recognizer: Model,
    settings: Settings,
    _token: ReadToken,
    filename: Annotated[str | None, Query(max_length=512)] = None,
) -> schemas.AnalyzeResponse:
    """Faces in one image, with box, probabilities, label, confidence and detection score.

    Nothing is stored: the real-time door for kiosks and signage.
    """
    uploads, raw = await uploaded_files(request, "file", max_files=1)
    if raw is not None:
        photo = PhotoFile(filename or "upload", await request.body())
    else:
        photo = await run_in_threadpool(lambda: next(read_files(uploads[:1])))
    analysis = await run_in_threadpool(
        partial(analyse_photo, recognizer, photo, max_bytes=settings.max_upload_bytes)
    )
    if analysis.refused is not None:
        raise refusal_error(analysis)
    if analysis.error is not None:
        raise analysis.error
    faces = [face.as_dict() for face in analysis.faces]
    return schemas.AnalyzeResponse(
        filename=photo.name, width=analysis.width, height=analysis.height, n_faces=len(faces), faces=faces
    )
