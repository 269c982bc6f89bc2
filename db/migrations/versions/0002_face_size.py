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
    _rebuild_rollups()


def _rebuild_rollups() -> None:
    """Recompute both rollup tables as this revision's schema has them. Frozen here rather than
    calling db.rollups.rebuild, whose SQL follows the newest schema (0007 adds model_id)."""
    from db.buckets import bucket_start
    from fer_core.labels import EMOTIONS, READABLE_MIN_FACE_PX

    bind = op.get_bind()
    obs = sa.table(
        "observations",
        sa.column("session_id"),
        sa.column("observed_at", sa.DateTime()),
        sa.column("face_size"),
        sa.column("top_label"),
        *(sa.column(f"p_{name}") for name in EMOTIONS),
    )
    readable = sa.or_(obs.c.face_size.is_(None), obs.c.face_size >= READABLE_MIN_FACE_PX)
    totals = [
        sa.func.count(sa.case((readable, 1))).label("faces"),
        sa.func.count(sa.case((~readable, 1))).label("small_faces"),
        *(
            sa.func.sum(sa.case((sa.and_(readable, obs.c.top_label == i), 1), else_=0)).label(f"n_{name}")
            for i, name in enumerate(EMOTIONS)
        ),
        *(
            sa.func.sum(sa.case((readable, obs.c[f"p_{name}"]), else_=0.0)).label(f"sum_p_{name}")
            for name in EMOTIONS
        ),
    ]
    for name, period in (("minute_rollups", "minute"), ("hour_rollups", "hour")):
        columns = ["session_id", "period_start", *(t.name for t in totals)]
        table = sa.table(name, *(sa.column(c) for c in columns))
        start = bucket_start(period, obs.c.observed_at, bind.dialect.name)
        query = sa.select(obs.c.session_id, start.label("period_start"), *totals).group_by(
            obs.c.session_id, start
        )
        bind.execute(sa.delete(table))
        bind.execute(sa.insert(table).from_select(columns, query))


def downgrade() -> None:
    for name in _ROLLUPS:
        with op.batch_alter_table(name) as batch:
            batch.drop_column("small_faces")
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("face_size")
    # The rollups keep readable-face totals; 0001's code recomputes them with db.queries.rebuild_rollups.
