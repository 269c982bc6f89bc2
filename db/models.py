"""The schema as typed SQLAlchemy ORM classes (the migrations in db/migrations create the same).

Datetimes are stored naive and in UTC on every backend (see `db.timeutils.to_utc_naive`).
There is deliberately no column for a face image, an embedding or any identity.
The probability columns are named from `fer_core.labels.EMOTIONS` (p_angry ... p_neutral).
Every reading says which model made it (`model_id`, fer_core.model_info): photos, observations and
rollups, so readings of different models are never summed or compared without saying so.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.timeutils import utcnow
from fer_core.labels import EMOTIONS
from fer_core.model_info import FER2013_V2_ID

#: Column holding the probability of each expression, in EMOTIONS order.
PROBABILITY_COLUMNS: tuple[str, ...] = tuple(f"p_{name}" for name in EMOTIONS)
#: Rollup columns: number of faces whose top label is each expression ...
COUNT_COLUMNS: tuple[str, ...] = tuple(f"n_{name}" for name in EMOTIONS)
#: ... and the sum of each expression's probability over all faces of the minute.
SUM_COLUMNS: tuple[str, ...] = tuple(f"sum_p_{name}" for name in EMOTIONS)

SOURCES: tuple[str, ...] = ("photo", "live")
#: Where a photo's time came from: the camera (EXIF), the upload, or a video's timestamps + given start.
TIME_SOURCES: tuple[str, ...] = ("exif", "upload", "video")

#: Longest model id stored (ids are short: "fer2013-v2", "ferplus-v3").
MODEL_ID_LENGTH = 32

#: SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# Deterministic constraint names, so later migrations can alter them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EventSession(Base):
    """A named event (lecture, open day, ...) that photos and live observations belong to."""

    __tablename__ = "event_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    event_date: Mapped[date | None] = mapped_column(Date)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: E-mail (or service identity) of who created it; NULL for sessions made before sign-in existed.
    owner: Mapped[str | None] = mapped_column(String(320))
    #: How many photos it holds: derived, kept equal to a count of `photos` by database triggers
    #: (migration 0008), so listing 10,000 sessions reads no photo.
    n_photos: Mapped[int] = mapped_column(Integer, server_default="0", deferred=True)

    # Nothing to read back after an INSERT: n_photos is the triggers' (loaded when asked for).
    __mapper_args__ = {"eager_defaults": False}


class Photo(Base):
    """An analysed photo: only its hash (to spot re-uploads), name, time and size are kept."""

    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("session_id", "content_hash"),
        CheckConstraint(f"time_source IN ({', '.join(repr(s) for s in TIME_SOURCES)})", name="time_source"),
        CheckConstraint("width > 0 AND height > 0 AND n_faces >= 0", name="sizes"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(512))
    taken_at: Mapped[datetime] = mapped_column(DateTime)
    time_source: Mapped[str] = mapped_column(String(8))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    n_faces: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: The model that read the faces (fer_core.model_info); rows from before migration 0007 are v2's.
    model_id: Mapped[str] = mapped_column(String(MODEL_ID_LENGTH), server_default=FER2013_V2_ID)


def _probability_checks(columns: tuple[str, ...], name: str) -> CheckConstraint:
    return CheckConstraint(" AND ".join(f"{c} >= 0 AND {c} <= 1" for c in columns), name=name)


observations_table = Table(
    "observations",
    Base.metadata,
    Column("id", BigId, primary_key=True),
    # Denormalised from the photo so trends GROUP BY without a join.
    Column("session_id", ForeignKey("event_sessions.id", ondelete="CASCADE"), nullable=False),
    Column("photo_id", ForeignKey("photos.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("source", String(8), nullable=False),
    # No index of its own (dropped in 0008): reads go through (session_id, observed_at) below.
    Column("observed_at", DateTime, nullable=False),
    Column("box_x", Integer, nullable=False),
    Column("box_y", Integer, nullable=False),
    Column("box_w", Integer, nullable=False),
    Column("box_h", Integer, nullable=False),
    #: Short side of the box in pixels (what the model could read); NULL: unknown, counted readable.
    Column("face_size", Integer, nullable=True),
    *(Column(name, Float, nullable=False) for name in PROBABILITY_COLUMNS),
    #: Index into EMOTIONS of the top expression.
    Column("top_label", SmallInteger, nullable=False),
    Column("confidence", Float, nullable=False),
    # Denormalised from the photo (live frames have none) so rollups and segments group without a join.
    Column("model_id", String(MODEL_ID_LENGTH), nullable=False, server_default=FER2013_V2_ID),
    CheckConstraint(
        "(source = 'photo' AND photo_id IS NOT NULL) OR (source = 'live' AND photo_id IS NULL)",
        name="source",
    ),
    CheckConstraint(f"top_label >= 0 AND top_label < {len(EMOTIONS)}", name="top_label"),
    CheckConstraint("box_w >= 0 AND box_h >= 0", name="box"),
    _probability_checks((*PROBABILITY_COLUMNS, "confidence"), "probabilities"),
    Index(None, "session_id", "observed_at"),
)


class Observation(Base):
    """One face at one moment: its box and the 7 apparent-expression probabilities (p_<name>)."""

    __table__ = observations_table

    id: Mapped[int]
    session_id: Mapped[int]
    photo_id: Mapped[int | None]
    source: Mapped[str]
    observed_at: Mapped[datetime]
    box_x: Mapped[int]
    box_y: Mapped[int]
    box_w: Mapped[int]
    box_h: Mapped[int]
    face_size: Mapped[int | None]
    top_label: Mapped[int]
    confidence: Mapped[float]
    model_id: Mapped[str]


def _rollup_table(name: str) -> Table:
    """Per session, period and reading model: readable-face count (`faces`), their top-label counts
    (n_<name>) and probability sums (sum_p_<name>), and the faces too small to read (`small_faces`,
    fer_core.labels.READABLE_MIN_FACE_PX), which no share includes.

    Derived data, kept in step with `observations` in the same transactions (see db.rollups) so
    trend queries aggregate far fewer rows; it holds nothing that the observations do not.
    """
    return Table(
        name,
        Base.metadata,
        Column("session_id", ForeignKey("event_sessions.id", ondelete="CASCADE"), primary_key=True),
        Column("period_start", DateTime, primary_key=True),
        # Part of the key: a period read by two models keeps two rows, never one mixed total.
        Column("model_id", String(MODEL_ID_LENGTH), primary_key=True, server_default=FER2013_V2_ID),
        Column("faces", Integer, nullable=False),
        Column("small_faces", Integer, nullable=False, server_default="0"),
        *(Column(c, Integer, nullable=False) for c in COUNT_COLUMNS),
        *(Column(c, Float, nullable=False) for c in SUM_COLUMNS),
        Index(None, "period_start"),
    )


minute_rollups_table = _rollup_table("minute_rollups")
hour_rollups_table = _rollup_table("hour_rollups")

#: Per session and reading model, over all time: the hour rollups summed, with the first and last hour.
#: Pages that show every session without a date range (the session list, the per-session comparison,
#: the report) read one row per session here instead of grouping ~3 hour rows per session.
session_rollups_table = Table(
    "session_rollups",
    Base.metadata,
    Column("session_id", ForeignKey("event_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", String(MODEL_ID_LENGTH), primary_key=True),
    Column("first_hour", DateTime, nullable=False),  # start of the first hour with a face of this model
    Column("last_hour", DateTime, nullable=False),  # start of the last such hour
    Column("faces", Integer, nullable=False),
    Column("small_faces", Integer, nullable=False),
    *(Column(c, Integer, nullable=False) for c in COUNT_COLUMNS),
    *(Column(c, Float, nullable=False) for c in SUM_COLUMNS),
)


class AuditEvent(Base):
    """Who did what and when: one row per change (session created or deleted, photos imported,
    purge, token created or revoked, a role given by the settings). No face data, no photo names.

    `session_id` is a plain number without a foreign key, so the trail outlives deleted sessions;
    `session_name` keeps the name it had.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32), index=True)
    session_id: Mapped[int | None] = mapped_column(Integer)
    session_name: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


#: What an API token may do; each scope includes the ones before it (admin can also write and read).
TOKEN_SCOPES: tuple[str, ...] = ("read", "write", "admin")


class ApiToken(Base):
    """A bearer token for the REST API. Only the sha256 of its secret is stored, never the token;
    `prefix` (its first characters) lets people tell tokens apart in `campus-fer token list`."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("scope IN ('read', 'write', 'admin')", name="scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class AgendaSegment(Base):
    """One part of a session's agenda (keynote, break, workshop): a name and a [start, end) time range.

    Segments of a session do not overlap (db.segments checks this), so every face falls in at most one.
    """

    __tablename__ = "agenda_segments"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="time_order"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
