"""Request and response shapes: they are the OpenAPI schema that clients and schemathesis check."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from campus_fer.ingest import RefusalKind, Status
from db.queries import MAX_NAME_LENGTH


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


#: The database keeps naive UTC times; JSON gets them with their zone (RFC 3339 date-time).
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class Error(BaseModel):
    detail: str = Field(description="What went wrong, in words meant for a person.")


class Face(BaseModel):
    """One face as `FaceResult.as_dict()` gives it; fields added there appear here too."""

    model_config = ConfigDict(extra="allow")

    box: list[int] = Field(description="x, y, width, height in the decoded image's pixels")
    label: str
    confidence: float
    detection_score: float
    probabilities: dict[str, float]


class AnalyzeResponse(BaseModel):
    filename: str
    width: int
    height: int
    n_faces: int
    faces: list[Face]


class Verdict(BaseModel):
    """What happened to one uploaded file (the same verdicts as the Event photos page)."""

    filename: str
    status: Status
    message: str
    n_faces: int
    photo_id: int | None
    taken_at: UtcDatetime | None
    time_source: str | None
    refused_kind: RefusalKind | None = None
    faces: list[Face]


class PhotosResponse(BaseModel):
    session_id: int
    counts: dict[str, int] = Field(description="files per verdict status")
    faces_saved: int
    files: list[Verdict]


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"\S")
    event_date: date | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)


class SessionOut(BaseModel):
    id: int
    name: str
    event_date: date | None
    tags: list[str]
    created_at: UtcDatetime
    n_photos: int
    n_faces: int
    owner: str | None = None  # e-mail or 'api-token:<id>' of whoever created it; None before sign-in


class ExpressionShare(BaseModel):
    expression: str
    faces: int
    share: float
    mean_probability: float


class SessionDetail(SessionOut):
    min_faces: int = Field(description="the privacy threshold: the mix is empty below it")
    expression_mix: list[ExpressionShare]


class TrendRow(BaseModel):
    """One bucket and expression (db.queries.expression_trends); new columns there appear here too."""

    model_config = ConfigDict(extra="allow")

    bucket_start: UtcDatetime
    expression: str
    faces: int
    share: float
    mean_probability: float
    bucket_faces: int


class TrendsResponse(BaseModel):
    bucket: str
    min_faces: int
    hidden_buckets: int
    hidden_sessions: int
    rows: list[TrendRow]


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    model: str


class VideoResponse(BaseModel):
    """What happened to an uploaded video: frames sampled and saved, and why it stopped, if it did."""

    session_id: int
    filename: str
    frames_sampled: int
    frames_saved: int
    frames_already_stored: int
    faces_saved: int
    error: str | None = None
