"""GET /v1/sessions/{id}/report: the shareable HTML report of a session."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from api.auth import ReadToken
from api.deps import DbEngine, SessionId, Settings, error_responses, session_or_404

router = APIRouter()


@router.get(
    "/v1/sessions/{session_id}/report",
    response_class=Response,
    responses={
        **error_responses(401, 403, 404),
        200: {"description": "the report", "content": {"text/html": {"schema": {"type": "string"}}}},
    },
    tags=["sessions"],
)
def session_report(
    session_id: SessionId, engine: DbEngine, settings: Settings, _token: ReadToken
) -> HTMLResponse:
    """The shareable HTML report of a session (aggregates with intervals, no face images)."""
    from campus_fer.report import build_report, render_html, report_filename

    info = session_or_404(engine, session_id)
    html = render_html(
        build_report(engine, session_id, min_faces=settings.min_faces_per_bucket, notice=settings.notice)
    )
    disposition = f'inline; filename="{report_filename(info)}"'
    return HTMLResponse(html, headers={"Content-Disposition": disposition})
