"""Agenda segments: a session's named parts (keynote, break, workshop) with their time ranges.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agenda_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_agenda_segments_time_order")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["event_sessions.id"],
            name=op.f("fk_agenda_segments_session_id_event_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_segments")),
    )
    op.create_index(op.f("ix_agenda_segments_session_id"), "agenda_segments", ["session_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_agenda_segments_session_id"), table_name="agenda_segments")
    op.drop_table("agenda_segments")
