"""POST /v1/sessions/{id}/video: a recorded video, sampled frames stored like photos."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api import schemas
from api.auth import WriteToken
from api.deps import DbEngine, Model, SessionId, error_responses, session_or_404
from api.uploads import (
    BINARY,
)

router = APIRouter()


_VIDEO_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": BINARY}, "required": ["file"]}
            },
            "application/octet-stream": {"schema": BINARY},
            "video/mp4": {"schema": BINARY},
        },
    }
}


@router.post(
    "/v1/sessions/{session_id}/video",
    response_model=schemas.VideoResponse,
    responses={
        **error_responses(401, 403, 404, 413, 415),
        400: {"model": schemas.VideoResponse | schemas.Error},
    },
    openapi_extra=_VIDEO_BODY,
    tags=["sessions"],
)
async def upload_video(
    session_id: SessionId,
    request: Request,
    engine: DbEngine,
    recognizer: Model,
    token: WriteToken,
    start: Annotated[datetime, Query(description="when the recording started (UTC unless offset given)")],
    interval_s: Annotated[float, Query(ge=0.1, le=3600, description="seconds between sampled frames")] = 1.0,
    filename: Annotated[str | None, Query(max_length=512)] = None,
) -> JSONResponse:
    """Analyse a recorded video (MP4/WebM/MOV/MKV) into a session: one frame every `interval_s`
    seconds, each in its own transaction, at `start` + the frame's time in the file. Nothing of the
    video is kept. 200 with per-frame counts; 400 when the file is not a readable video (frames
    saved before a cut are kept and counted)."""
    from campus_fer.video_ingest import ingest_video  # PyAV loads only for video uploads

    await run_in_threadpool(session_or_404, engine, session_id)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=8)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            await form.close()
            raise HTTPException(400, "No file in the multipart field 'file'.")
        name, source = upload.filename or "video", upload.file
    elif media.startswith("video/") or media == "application/octet-stream":
        form, name, source = None, filename or "video", await request.body()
    else:
        raise HTTPException(
            415,
            f"Unsupported content type ({media or 'none'}). Send the video as video/* or "
            "application/octet-stream, or multipart/form-data with a 'file' field.",
        )
    try:
        result = await run_in_threadpool(
            partial(
                ingest_video,
                engine,
                recognizer,
                session_id,
                source,
                filename=name,
                start=start,
                interval_s=interval_s,
                actor=token.actor,
            )  # fmt: skip
        )
    finally:
        if form is not None:
            await form.close()
    body = schemas.VideoResponse(
        session_id=session_id,
        filename=name,
        frames_sampled=len(result.frames),
        frames_saved=result.count("saved", "no_face"),
        frames_already_stored=result.count("duplicate"),
        faces_saved=result.faces_saved,
        error=result.error,
    )
    saved_any = body.frames_saved + body.frames_already_stored > 0
    status = 400 if result.error and not saved_any else 200
    return JSONResponse(body.model_dump(mode="json"), status_code=status)
