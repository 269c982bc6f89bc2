"""Request and response shapes: they are the OpenAPI schema that clients and schemathesis check."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from campus_fer.ingest import RefusalKind, Status
from db.queries import MAX_NAME_LENGTH
from db.timeutils import to_utc_naive


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
    models: list[str] = Field(
        default_factory=list,
        description="ids of the models that read this session's faces, first used first (e.g. fer2013-v2); "
        "figures of sessions read by different models are not directly comparable",
    )


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
    models: str = Field("", description="the model(s) that read this bucket's faces, joined by ' + '")


class ModelPeriodOut(BaseModel):
    """One model behind a figure: the hours it read faces in (UTC, to the hour) and how many."""

    model_id: str
    first_hour: UtcDatetime
    last_hour: UtcDatetime
    faces: int = Field(description="readable faces it read")


class ModelChangeOut(BaseModel):
    """The first shown bucket with faces read by a model not seen in the buckets before."""

    bucket_start: UtcDatetime
    model_id: str


class TrendsResponse(BaseModel):
    bucket: str
    min_faces: int
    hidden_buckets: int
    hidden_sessions: int
    models: list[ModelPeriodOut] = Field(description="the models behind these figures, first used first")
    model_changes: list[ModelChangeOut] = Field(
        description="where a new model starts: readings before and after are not directly comparable"
    )
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


#: Most segments one PUT may carry (a day's programme has a few dozen at most).
MAX_AGENDA_SEGMENTS = 200


def _stored_time(value: datetime) -> datetime:
    """Aware times converted to UTC, naive ones taken as UTC (db.timeutils), as the database keeps them."""
    try:
        return to_utc_naive(value)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


class SegmentIn(BaseModel):
    """One agenda entry: [starts_at, ends_at). Names are checked by db.segments.check_agenda, so an
    empty name, an end before the start or an overlap is a 422 with a readable `detail`. Extra fields
    (such as the `id` of a GET) are ignored, so a GET's answer can be sent back as it is."""

    name: str = Field(max_length=MAX_NAME_LENGTH, examples=["Keynote"])
    starts_at: Annotated[datetime, AfterValidator(_stored_time)] = Field(examples=["2025-05-03T09:15:00Z"])
    ends_at: Annotated[datetime, AfterValidator(_stored_time)] = Field(examples=["2025-05-03T10:00:00Z"])


AgendaIn = Annotated[list[SegmentIn], Field(max_length=MAX_AGENDA_SEGMENTS)]


class SegmentOut(BaseModel):
    id: int
    name: str
    starts_at: UtcDatetime
    ends_at: UtcDatetime


class FieldError(BaseModel):
    """One problem FastAPI found in a request's shape (a 422 from validation)."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrors(BaseModel):
    detail: list[FieldError]


class SegmentShare(BaseModel):
    """An expression's top-label share of a segment's readable faces, with its 95% interval."""

    expression: str
    faces: int
    share: float
    low: float
    high: float
    method: str = Field(description="how the interval was made, e.g. bootstrap over photos")


class SegmentDifference(BaseModel):
    """Segment share minus the share in the rest of the event, with its 95% interval."""

    expression: str
    segment_share: float
    rest_share: float
    difference: float
    low: float
    high: float
    clear: bool = Field(description="the interval excludes zero: larger than its uncertainty")
    verdict: str
    method: str


class SegmentSummary(SegmentOut):
    photos: int = Field(description="photos (or live frames) with a face in the segment")
    faces: int = Field(description="readable faces")
    small_faces: int = Field(description="faces too small to read, in no share")
    shown: bool = Field(description="false below the privacy threshold: then no mix and no comparison")
    models: list[str] = Field(description="ids of the models that read the segment's faces")
    mix: list[SegmentShare]
    versus_rest: list[SegmentDifference]


class SegmentsResponse(BaseModel):
    session_id: int
    models: list[str] = Field(description="ids of the models that read the session's faces, first used first")
    min_faces: int = Field(description="the privacy threshold: segments with fewer readable faces are hidden")
    confidence: float
    outside_faces: int = Field(description="readable faces in no segment (they count in 'the rest')")
    segments: list[SegmentSummary]
