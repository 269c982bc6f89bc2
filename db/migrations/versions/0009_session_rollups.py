"""Per-session totals (`session_rollups`): the hour rollups summed per session and reading model.

At a campus year (10,000 sessions, ~27,000 hour rows) every page that shows all sessions without a
date range (the session list with its face counts and models, the per-session comparison on Mood
trends, the report, the wellbeing chart per event) grouped the hour rollups by session on every
load: the slowest part of SQLite's all-session hourly trend. The new table holds one row per session
and model, kept by the same writes as the other rollups (db.rollups), so those reads take it as is.

The upgrade creates it and fills it from the hour rollups; no other table is touched. The downgrade
drops it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fer_core.labels import EMOTIONS

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOTALS = ("faces", "small_faces", *(f"n_{e}" for e in EMOTIONS), *(f"sum_p_{e}" for e in EMOTIONS))


def upgrade() -> None:
    op.create_table(
        "session_rollups",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(length=32), nullable=False),
        sa.Column("first_hour", sa.DateTime(), nullable=False),
        sa.Column("last_hour", sa.DateTime(), nullable=False),
        sa.Column("faces", sa.Integer(), nullable=False),
        sa.Column("small_faces", sa.Integer(), nullable=False),
        *(sa.Column(f"n_{emotion}", sa.Integer(), nullable=False) for emotion in EMOTIONS),
        *(sa.Column(f"sum_p_{emotion}", sa.Float(), nullable=False) for emotion in EMOTIONS),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["event_sessions.id"],
            name=op.f("fk_session_rollups_session_id_event_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "model_id", name=op.f("pk_session_rollups")),
    )
    columns = ", ".join(_TOTALS)
    sums = ", ".join(f"SUM({c})" for c in _TOTALS)
    op.execute(
        f"INSERT INTO session_rollups (session_id, model_id, first_hour, last_hour, {columns}) "
        f"SELECT session_id, model_id, MIN(period_start), MAX(period_start), {sums} "
        "FROM hour_rollups GROUP BY session_id, model_id"
    )


def downgrade() -> None:
    op.drop_table("session_rollups")
