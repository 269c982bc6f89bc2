"""Initial schema: event sessions, photos, per-face observations and their minute/hour rollups.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The 7 expression names come from the single source of truth; they are FER2013's fixed classes,
# so this revision stays stable. Renaming a class later needs a new revision, not an edit here.
from fer_core.labels import EMOTIONS

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_PROBABILITIES = [f"p_{name}" for name in EMOTIONS]


def upgrade() -> None:
    op.create_table(
        "event_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_sessions")),
        sa.UniqueConstraint("name", name=op.f("uq_event_sessions_name")),
    )
    op.create_table(
        "photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=512), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("time_source", sa.String(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("n_faces", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("time_source IN ('exif', 'upload')", name=op.f("ck_photos_time_source")),
        sa.CheckConstraint("width > 0 AND height > 0 AND n_faces >= 0", name=op.f("ck_photos_sizes")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["event_sessions.id"],
            name=op.f("fk_photos_session_id_event_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
        sa.UniqueConstraint("session_id", "content_hash", name=op.f("uq_photos_session_id_content_hash")),
    )
    probability_checks = " AND ".join(f"{c} >= 0 AND {c} <= 1" for c in [*_PROBABILITIES, "confidence"])
    op.create_table(
        "observations",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("box_x", sa.Integer(), nullable=False),
        sa.Column("box_y", sa.Integer(), nullable=False),
        sa.Column("box_w", sa.Integer(), nullable=False),
        sa.Column("box_h", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=False) for name in _PROBABILITIES),
        sa.Column("top_label", sa.SmallInteger(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "(source = 'photo' AND photo_id IS NOT NULL) OR (source = 'live' AND photo_id IS NULL)",
            name=op.f("ck_observations_source"),
        ),
        sa.CheckConstraint(
            f"top_label >= 0 AND top_label < {len(EMOTIONS)}", name=op.f("ck_observations_top_label")
        ),
        sa.CheckConstraint("box_w >= 0 AND box_h >= 0", name=op.f("ck_observations_box")),
        sa.CheckConstraint(probability_checks, name=op.f("ck_observations_probabilities")),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name=op.f("fk_observations_photo_id_photos"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["event_sessions.id"],
            name=op.f("fk_observations_session_id_event_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    op.create_index(op.f("ix_observations_observed_at"), "observations", ["observed_at"])
    op.create_index(op.f("ix_observations_photo_id"), "observations", ["photo_id"])
    op.create_index(
        op.f("ix_observations_session_id_observed_at"), "observations", ["session_id", "observed_at"]
    )
    for name in ("minute_rollups", "hour_rollups"):
        # Derived per-session totals per period, kept in step with observations (see db.rollups).
        op.create_table(
            name,
            sa.Column("session_id", sa.Integer(), nullable=False),
            sa.Column("period_start", sa.DateTime(), nullable=False),
            sa.Column("faces", sa.Integer(), nullable=False),
            *(sa.Column(f"n_{emotion}", sa.Integer(), nullable=False) for emotion in EMOTIONS),
            *(sa.Column(f"sum_p_{emotion}", sa.Float(), nullable=False) for emotion in EMOTIONS),
            sa.ForeignKeyConstraint(
                ["session_id"],
                ["event_sessions.id"],
                name=op.f(f"fk_{name}_session_id_event_sessions"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("session_id", "period_start", name=op.f(f"pk_{name}")),
        )
        op.create_index(op.f(f"ix_{name}_period_start"), name, ["period_start"])


def downgrade() -> None:
    op.drop_table("hour_rollups")
    op.drop_table("minute_rollups")
    op.drop_table("observations")
    op.drop_table("photos")
    op.drop_table("event_sessions")
