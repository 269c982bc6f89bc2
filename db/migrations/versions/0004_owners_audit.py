"""Session owners and the audit trail (sign-in and roles).

event_sessions.owner: the e-mail (or service identity) of whoever created the session; existing
sessions keep NULL ("unknown": only admins may delete them). audit_events: who did what and when,
with no foreign key to the sessions, so the trail survives their deletion. No face data.

The column is added with a plain ALTER TABLE ADD COLUMN (no batch rebuild): rebuilding the parent
table event_sessions on SQLite would cascade-delete its photos and observations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("event_sessions", sa.Column("owner", sa.String(length=320), nullable=True))
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("session_name", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    for column in ("at", "actor", "action"):
        op.create_index(op.f(f"ix_audit_events_{column}"), "audit_events", [column])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_column("event_sessions", "owner")  # plain ALTER TABLE (SQLite 3.35+): no cascade
