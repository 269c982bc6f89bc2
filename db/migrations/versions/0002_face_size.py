"""Face size per observation and unreadable-face counts in the rollups (the readability floor).

Existing observations get face_size = the short side of their box (NULL where the box is unknown,
which counts as readable); then the rollups are recomputed so their `faces` and expression totals
cover readable faces only and `small_faces` counts the rest. Nothing is re-analysed or lost.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLLUPS = ("minute_rollups", "hour_rollups")


def upgrade() -> None:
    with op.batch_alter_table("observations") as batch:
        batch.add_column(sa.Column("face_size", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE observations SET face_size = CASE WHEN box_w = 0 AND box_h = 0 THEN NULL "
        "WHEN box_w < box_h THEN box_w ELSE box_h END"
    )
    for name in _ROLLUPS:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("small_faces", sa.Integer(), nullable=False, server_default="0"))
    # The rollups' definition of a face changed (readable faces only): recompute them from the rows.
    from db import rollups

    rollups.rebuild(op.get_bind())


def downgrade() -> None:
    for name in _ROLLUPS:
        with op.batch_alter_table(name) as batch:
            batch.drop_column("small_faces")
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("face_size")
    # The rollups keep readable-face totals; 0001's code recomputes them with db.queries.rebuild_rollups.
