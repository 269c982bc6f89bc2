"""The REST API for kiosks and campus systems: thin routes over the ingest core (campus_fer.ingest)
and db. Run with `bash scripts/api.sh` (uvicorn api.app:app); OpenAPI docs at /docs.

Limits come from the app's settings (CAMPUS_FER_MAX_UPLOAD_MB, CAMPUS_FER_MAX_FILES_PER_UPLOAD,
CAMPUS_FER_MIN_FACES_PER_BUCKET, CAMPUS_FER_DATABASE_URL, CAMPUS_FER_MODEL) and the decoder's pixel
limit. Every error is JSON with a readable `detail`; bad input is a 4xx, never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi import Path as FastAPIPath
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import Field
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api import schemas
from api.auth import ReadToken, WriteToken
from api.limits import BodySizeLimit, BodyTooLarge
from campus_fer.agenda import session_segments
from campus_fer.ingest import (
    ALLOWED_EXTENSIONS,
    Analysis,
    BatchSummary,
    FileOutcome,
    PhotoFile,
    RefusalKind,
    analyse_photo,
    process_batch,
)
from campus_fer.roles import NotAllowed
from campus_fer.stats import CONFIDENCE
from db import queries, segments
from db.buckets import BUCKETS
from db.engine import current_revision, make_engine
from db.settings import database_url
from fer_core.config import served_model_path
from fer_core.detect import YuNetDetector
from fer_core.images import MAX_IMAGE_PIXELS
from fer_core.recognizer import Recognizer
from ui.settings import AppSettings, load_settings
from ui.trend_data import export_table, load_trends

LOGGER = logging.getLogger(__name__)

#: Room for multipart headers and boundaries on top of the files themselves.
MULTIPART_OVERHEAD = 64 * 1024
#: HTTP status for each kind of refused file.
REFUSAL_STATUS: dict[RefusalKind, int] = {
    "empty": 400,
    "unreadable": 400,
    "too_large": 413,
    "too_many_pixels": 413,
}
_FORMATS = ", ".join(e.upper() for e in ALLOWED_EXTENSIONS)
_IMAGE_BODY = {"type": "string", "format": "binary"}


def _body(field: str, many: bool) -> dict[str, Any]:
    """OpenAPI request body: multipart with `field`, or the raw image bytes."""
    part = {"type": "array", "items": _IMAGE_BODY} if many else _IMAGE_BODY
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {field: part}, "required": [field]}
                },
                "application/octet-stream": {"schema": _IMAGE_BODY},
                "image/jpeg": {"schema": _IMAGE_BODY},
            },
        }
    }


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": schemas.Error} for code in codes}


def _settings(request: Request) -> AppSettings:
    return request.app.state.settings


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _recognizer(request: Request) -> Recognizer:
    return request.app.state.recognizer


router = APIRouter()
Settings = Annotated[AppSettings, Depends(_settings)]
DbEngine = Annotated[Engine, Depends(_engine)]
Model = Annotated[Recognizer, Depends(_recognizer)]
#: Ids fit the database's 32-bit integer columns; larger ones are a 422, not a driver error.
SessionId = Annotated[int, FastAPIPath(ge=1, le=2**31 - 1)]
#: The trend buckets (db.buckets.BUCKETS) as an enum, so OpenAPI lists them.
Bucket = StrEnum("Bucket", {name: name for name in BUCKETS})


async def _uploads(request: Request, field: str, max_files: int) -> tuple[list[UploadFile], str | None]:
    """The uploaded files of a multipart body, or (no files, None) for a raw image body."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form(max_files=max_files, max_fields=max_files + 8)
        uploads = [value for value in form.getlist(field) if isinstance(value, UploadFile)]
        if not uploads:
            await form.close()
            raise HTTPException(400, f"No file in the multipart field '{field}'.")
        return uploads, None
    if media.startswith("image/") or media == "application/octet-stream":
        return [], media
    shown = media or "none"
    raise HTTPException(
        415,
        f"Unsupported content type ({shown}). Send the image bytes ({_FORMATS}) as image/* or "
        f"application/octet-stream, or multipart/form-data with a '{field}' field.",
    )


def _read(uploads: list[UploadFile]) -> Iterator[PhotoFile]:
    """Files one at a time, read on the worker thread (Starlette spools big parts to disk)."""
    for i, upload in enumerate(uploads):
        yield PhotoFile(upload.filename or f"file-{i + 1}", upload.file.read())


def _refusal_error(analysis: Analysis) -> HTTPException:
    return HTTPException(REFUSAL_STATUS[analysis.refused_kind or "unreadable"], analysis.refused)


@router.get("/healthz", response_model=schemas.Health, responses=_errors(503), tags=["service"])
def healthz(engine: DbEngine, settings: Settings) -> schemas.Health:
    """Liveness and readiness: the database answers and the model is loaded."""
    current_revision(engine)
    return schemas.Health(status="ok", database="ok", model=settings.model)


@router.post(
    "/v1/analyze",
    response_model=schemas.AnalyzeResponse,
    responses=_errors(400, 401, 403, 413, 415),
    openapi_extra=_body("file", many=False),
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
    uploads, raw = await _uploads(request, "file", max_files=1)
    if raw is not None:
        photo = PhotoFile(filename or "upload", await request.body())
    else:
        photo = await run_in_threadpool(lambda: next(_read(uploads[:1])))
    analysis = await run_in_threadpool(
        partial(analyse_photo, recognizer, photo, max_bytes=settings.max_upload_bytes)
    )
    if analysis.refused is not None:
        raise _refusal_error(analysis)
    if analysis.error is not None:
        raise analysis.error
    faces = [face.as_dict() for face in analysis.faces]
    return schemas.AnalyzeResponse(
        filename=photo.name, width=analysis.width, height=analysis.height, n_faces=len(faces), faces=faces
    )


def _session_out(info: queries.SessionInfo) -> schemas.SessionOut:
    return schemas.SessionOut(**info.__dict__)


def _session_or_404(engine: Engine, session_id: int) -> queries.SessionInfo:
    info = queries.get_event_session(engine, session_id)
    if info is None:
        raise HTTPException(404, f"There is no event session {session_id}.")
    return info


@router.post(
    "/v1/sessions",
    status_code=201,
    response_model=schemas.SessionOut,
    responses=_errors(400, 401, 403, 409),
    tags=["sessions"],
)
def create_session(body: schemas.SessionCreate, engine: DbEngine, token: WriteToken) -> schemas.SessionOut:
    """Create an event session (unique name, optional date and tags), owned by this token."""
    try:
        session_id = queries.create_event_session(
            engine, body.name, body.event_date, body.tags, actor=token.actor
        )
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    return _session_out(_session_or_404(engine, session_id))


@router.get(
    "/v1/sessions", response_model=list[schemas.SessionOut], responses=_errors(401, 403), tags=["sessions"]
)
def list_sessions(engine: DbEngine, _token: ReadToken) -> list[schemas.SessionOut]:
    """Every session with its photo and face counts, newest first."""
    return [_session_out(info) for info in queries.list_event_sessions(engine)]


@router.get(
    "/v1/sessions/{session_id}",
    response_model=schemas.SessionDetail,
    responses=_errors(401, 403, 404),
    tags=["sessions"],
)
def get_session(
    session_id: SessionId,
    engine: DbEngine,
    settings: Settings,
    _token: ReadToken,
) -> schemas.SessionDetail:
    """A session's counts and its expression mix (empty while it has fewer faces than the threshold)."""
    info = _session_or_404(engine, session_id)
    mix = queries.session_comparison(engine, [session_id], min_faces=settings.min_faces_per_bucket)
    columns = ["expression", "faces", "share", "mean_probability"]
    return schemas.SessionDetail(
        **_session_out(info).model_dump(),
        min_faces=settings.min_faces_per_bucket,
        expression_mix=mix[columns].to_dict("records"),
    )


@router.delete(
    "/v1/sessions/{session_id}", status_code=204, responses=_errors(401, 403, 404), tags=["sessions"]
)
def delete_session(session_id: SessionId, engine: DbEngine, token: WriteToken) -> Response:
    """Delete a session with all its photos' results and observations: admin scope for any session,
    write scope for the sessions this token created (the organiser rule of campus_fer.roles)."""
    _session_or_404(engine, session_id)
    queries.delete_event_session(engine, session_id, actor=token.actor)
    return Response(status_code=204)


@router.post(
    "/v1/sessions/{session_id}/photos",
    response_model=schemas.PhotosResponse,
    responses={
        **_errors(401, 403, 404, 415),
        400: {"model": schemas.PhotosResponse | schemas.Error},
        413: {"model": schemas.PhotosResponse | schemas.Error},
        503: {"model": schemas.PhotosResponse | schemas.Error},
    },
    openapi_extra=_body("files", many=True),
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
    await run_in_threadpool(_session_or_404, engine, session_id)
    uploads, raw = await _uploads(request, "files", max_files=settings.max_files_per_upload)
    if raw is not None:
        photos: Iterator[PhotoFile] | list[PhotoFile] = [
            PhotoFile(filename or "upload", await request.body())
        ]
    else:
        photos = _read(uploads)
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


_VIDEO_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": _IMAGE_BODY}, "required": ["file"]}
            },
            "application/octet-stream": {"schema": _IMAGE_BODY},
            "video/mp4": {"schema": _IMAGE_BODY},
        },
    }
}


@router.post(
    "/v1/sessions/{session_id}/video",
    response_model=schemas.VideoResponse,
    responses={**_errors(401, 403, 404, 413, 415), 400: {"model": schemas.VideoResponse | schemas.Error}},
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

    await run_in_threadpool(_session_or_404, engine, session_id)
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


@router.get(
    "/v1/sessions/{session_id}/report",
    response_class=Response,
    responses={
        **_errors(401, 403, 404),
        200: {"description": "the report", "content": {"text/html": {"schema": {"type": "string"}}}},
    },
    tags=["sessions"],
)
def session_report(
    session_id: SessionId, engine: DbEngine, settings: Settings, _token: ReadToken
) -> HTMLResponse:
    """The shareable HTML report of a session (aggregates with intervals, no face images)."""
    from campus_fer.report import build_report, render_html, report_filename

    info = _session_or_404(engine, session_id)
    html = render_html(
        build_report(engine, session_id, min_faces=settings.min_faces_per_bucket, notice=settings.notice)
    )
    disposition = f'inline; filename="{report_filename(info)}"'
    return HTMLResponse(html, headers={"Content-Disposition": disposition})


def _segment_out(segment: segments.Segment) -> schemas.SegmentOut:
    return schemas.SegmentOut.model_validate(segment, from_attributes=True)


@router.get(
    "/v1/sessions/{session_id}/agenda",
    response_model=list[schemas.SegmentOut],
    responses=_errors(401, 403, 404),
    tags=["agenda"],
)
def get_agenda(session_id: SessionId, engine: DbEngine, _token: ReadToken) -> list[schemas.SegmentOut]:
    """A session's agenda in time order (times in UTC; [] when it has none)."""
    _session_or_404(engine, session_id)
    return [_segment_out(s) for s in segments.agenda(engine, session_id)]


@router.put(
    "/v1/sessions/{session_id}/agenda",
    response_model=list[schemas.SegmentOut],
    responses={**_errors(400, 401, 403, 404), 422: {"model": schemas.Error | schemas.ValidationErrors}},
    tags=["agenda"],
)
def put_agenda(
    session_id: SessionId, body: schemas.AgendaIn, engine: DbEngine, token: WriteToken
) -> list[schemas.SegmentOut]:
    """Replace a session's whole agenda (an empty list clears it) and return it as stored.

    Times with an offset are converted to UTC, times without one are taken as UTC (the photo times'
    clock). 422 with a readable `detail` for a row without a name, one that ends before it starts, or
    rows that overlap (a face belongs to one segment at most); nothing is changed then.
    """
    _session_or_404(engine, session_id)
    wanted = [segments.Segment(row.name, row.starts_at, row.ends_at) for row in body]
    try:
        stored = segments.replace_agenda(engine, session_id, wanted, actor=token.actor)
    except ValueError as exc:
        _session_or_404(engine, session_id)  # deleted meanwhile: a 404, not a bad agenda
        raise HTTPException(422, str(exc)) from None
    return [_segment_out(s) for s in stored]


@router.get(
    "/v1/sessions/{session_id}/segments",
    response_model=schemas.SegmentsResponse,
    responses=_errors(401, 403, 404),
    tags=["agenda"],
)
def get_segments(
    session_id: SessionId, engine: DbEngine, settings: Settings, _token: ReadToken
) -> schemas.SegmentsResponse:
    """Per agenda segment: photos, readable and too-small faces, and, from the privacy threshold on,
    the expression mix with 95% intervals and each share against the rest of the event (the Agenda
    page's figures). Intervals are a bootstrap over photos (faces in one photo are not independent);
    each row names its method. Segments under the threshold are counted but `shown: false`."""
    info = _session_or_404(engine, session_id)
    min_faces = settings.min_faces_per_bucket
    cut = session_segments(engine, session_id, min_faces=min_faces)
    return schemas.SegmentsResponse(
        session_id=session_id,
        models=list(info.models),
        min_faces=min_faces,
        confidence=CONFIDENCE,
        outside_faces=cut.outside_faces,
        segments=[
            schemas.SegmentSummary(
                **_segment_out(s.segment).model_dump(),
                photos=s.photos,
                faces=s.faces,
                small_faces=s.small_faces,
                shown=s.shown,
                models=list(s.models),
                mix=[schemas.SegmentShare.model_validate(i, from_attributes=True) for i in s.mix],
                versus_rest=[
                    schemas.SegmentDifference.model_validate(d, from_attributes=True) for d in s.versus_rest
                ],
            )
            for s in cut.summaries
        ],
    )


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


@router.get(
    "/v1/trends",
    response_model=schemas.TrendsResponse,
    responses={
        **_errors(400, 401, 403),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
    tags=["trends"],
)
def trends(
    engine: DbEngine,
    settings: Settings,
    _token: ReadToken,
    bucket: Annotated[Bucket, Query()] = Bucket.day,
    session_id: Annotated[
        list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None,
        Query(description="repeat for several sessions"),
    ] = None,
    start: Annotated[date | None, Query(description="first day (UTC), included")] = None,
    end: Annotated[date | None, Query(description="last day (UTC), included")] = None,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Any:
    """Expression shares per time bucket: the trends page's SQL aggregates, filters and privacy
    threshold (buckets with fewer faces than CAMPUS_FER_MIN_FACES_PER_BUCKET are hidden)."""
    if start and end and start > end:
        raise HTTPException(400, "start must not be after end.")
    start_at = datetime.combine(start, time.min) if start else None
    end_at = datetime.combine(end + timedelta(days=1), time.min) if end and end < date.max else None
    try:
        data = load_trends(engine, bucket.value, session_id, start_at, end_at, settings.min_faces_per_bucket)
    except queries.TooManyBucketsError as exc:
        raise HTTPException(400, str(exc)) from None
    table = export_table(data)
    if output == "csv":
        return Response(table.to_csv(index=False), media_type="text/csv")
    return schemas.TrendsResponse(
        bucket=bucket.value,
        min_faces=settings.min_faces_per_bucket,
        hidden_buckets=data.hidden_buckets,
        hidden_sessions=data.hidden_sessions,
        models=[schemas.ModelPeriodOut.model_validate(p, from_attributes=True) for p in data.periods],
        model_changes=[
            schemas.ModelChangeOut(bucket_start=c.at, model_id=c.model_id) for c in data.model_changes
        ],
        rows=table.to_dict("records"),
    )


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
            f"{settings.max_upload_mb:g} MB and {MAX_IMAGE_PIXELS:,} pixels ({_FORMATS})."
        ),
        lifespan=lifespan,
    )
    app.state.settings, app.state.engine, app.state.recognizer = settings, engine, recognizer
    app.add_middleware(BodySizeLimit, limit_for=partial(_body_limit, settings))
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(NotAllowed, _not_allowed)
    app.add_exception_handler(SQLAlchemyError, _database_down)
    app.include_router(router)
    return app


app = create_app()
