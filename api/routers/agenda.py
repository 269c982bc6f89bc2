"""/v1/sessions/{id}/agenda and /segments: a session's agenda and its per-segment mix."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from api import schemas
from api.auth import ReadToken, WriteToken
from api.deps import DbEngine, SessionId, Settings, error_responses, session_or_404
from campus_fer.agenda import session_segments
from campus_fer.stats import CONFIDENCE
from db import segments

router = APIRouter()


def _segment_out(segment: segments.Segment) -> schemas.SegmentOut:
    return schemas.SegmentOut.model_validate(segment, from_attributes=True)


@router.get(
    "/v1/sessions/{session_id}/agenda",
    response_model=list[schemas.SegmentOut],
    responses=error_responses(401, 403, 404),
    tags=["agenda"],
)
def get_agenda(session_id: SessionId, engine: DbEngine, _token: ReadToken) -> list[schemas.SegmentOut]:
    """A session's agenda in time order (times in UTC; [] when it has none)."""
    session_or_404(engine, session_id)
    return [_segment_out(s) for s in segments.agenda(engine, session_id)]


@router.put(
    "/v1/sessions/{session_id}/agenda",
    response_model=list[schemas.SegmentOut],
    responses={
        **error_responses(400, 401, 403, 404),
        422: {"model": schemas.Error | schemas.ValidationErrors},
    },
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
    session_or_404(engine, session_id)
    wanted = [segments.Segment(row.name, row.starts_at, row.ends_at) for row in body]
    try:
        stored = segments.replace_agenda(engine, session_id, wanted, actor=token.actor)
    except ValueError as exc:
        session_or_404(engine, session_id)  # deleted meanwhile: a 404, not a bad agenda
        raise HTTPException(422, str(exc)) from None
    return [_segment_out(s) for s in stored]


@router.get(
    "/v1/sessions/{session_id}/segments",
    response_model=schemas.SegmentsResponse,
    responses=error_responses(401, 403, 404),
    tags=["agenda"],
)
def get_segments(
    session_id: SessionId, engine: DbEngine, settings: Settings, _token: ReadToken
) -> schemas.SegmentsResponse:
    """Per agenda segment: photos, readable and too-small faces, and, from the privacy threshold on,
    the expression mix with 95% intervals and each share against the rest of the event (the Agenda
    page's figures). Intervals are a bootstrap over photos (faces in one photo are not independent);
    each row names its method. Segments under the threshold are counted but `shown: false`."""
    info = session_or_404(engine, session_id)
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
