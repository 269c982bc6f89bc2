"""GET /v1/trends: expression shares per time bucket (JSON or CSV)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import Field

from api import schemas
from api.auth import ReadToken
from api.deps import Bucket, DbEngine, Settings, error_responses
from campus_fer.trends import export_table, load_trends
from db import queries

router = APIRouter()


@router.get(
    "/v1/trends",
    response_model=schemas.TrendsResponse,
    responses={
        **error_responses(400, 401, 403),
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
