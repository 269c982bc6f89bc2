"""/v1/sessions: create, list, show and delete event sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from api import schemas
from api.auth import ReadToken, WriteToken
from api.deps import DbEngine, SessionId, Settings, error_responses, session_or_404
from db import queries

router = APIRouter()
#: Largest page of GET /v1/sessions?limit=...
MAX_PAGE = 1000


def _session_out(info: queries.SessionInfo) -> schemas.SessionOut:
    return schemas.SessionOut(**info.__dict__)


@router.post(
    "/v1/sessions",
    status_code=201,
    response_model=schemas.SessionOut,
    responses=error_responses(400, 401, 403, 409),
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
    return _session_out(session_or_404(engine, session_id))


@router.get(
    "/v1/sessions",
    response_model=list[schemas.SessionOut],
    responses=error_responses(401, 403),
    tags=["sessions"],
)
def list_sessions(
    engine: DbEngine,
    _token: ReadToken,
    response: Response,
    limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE, description="page size (default: all)")] = None,
    offset: Annotated[int, Query(ge=0, description="sessions to skip")] = 0,
) -> list[schemas.SessionOut]:
    """Sessions with their photo and face counts, newest first: all of them, or a page (`limit` from
    `offset`); the X-Total-Count header says how many there are."""
    response.headers["X-Total-Count"] = str(queries.count_event_sessions(engine))
    return [_session_out(info) for info in queries.list_event_sessions(engine, limit=limit, offset=offset)]


@router.get(
    "/v1/sessions/{session_id}",
    response_model=schemas.SessionDetail,
    responses=error_responses(401, 403, 404),
    tags=["sessions"],
)
def get_session(
    session_id: SessionId,
    engine: DbEngine,
    settings: Settings,
    _token: ReadToken,
) -> schemas.SessionDetail:
    """A session's counts and its expression mix (empty while it has fewer faces than the threshold)."""
    info = session_or_404(engine, session_id)
    mix = queries.session_comparison(engine, [session_id], min_faces=settings.min_faces_per_bucket)
    columns = ["expression", "faces", "share", "mean_probability"]
    return schemas.SessionDetail(
        **_session_out(info).model_dump(),
        min_faces=settings.min_faces_per_bucket,
        expression_mix=mix[columns].to_dict("records"),
    )


@router.delete(
    "/v1/sessions/{session_id}", status_code=204, responses=error_responses(401, 403, 404), tags=["sessions"]
)
def delete_session(session_id: SessionId, engine: DbEngine, token: WriteToken) -> Response:
    """Delete a session with all its photos' results and observations: admin scope for any session,
    write scope for the sessions this token created (the organiser rule of db.roles)."""
    session_or_404(engine, session_id)
    queries.delete_event_session(engine, session_id, actor=token.actor)
    return Response(status_code=204)
