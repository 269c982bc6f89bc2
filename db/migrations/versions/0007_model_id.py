"""Which model read each face: `model_id` on photos, observations and the rollups.

Every row stored so far was read by the FER2013-label model v2, so existing rows get its id
(`fer2013-v2`) and nothing is re-analysed or lost.

photos and observations get a plain ALTER TABLE ADD COLUMN with a server default, on both backends:
no table rebuild (on SQLite a rebuild of `photos` would cascade-delete every observation, see 0006),
and PostgreSQL 11+ stores the constant default without rewriting the table.

The rollups' primary key gains model_id (a period read by two models keeps two rows). A primary key
cannot be altered on SQLite, and nothing references the rollup tables, so on both backends each
rollup table is copied aside, recreated with the wider key and filled back row for row. The
downgrade sums each (session, period)'s models back into one row, as 0006 kept them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# FER2013's 7 fixed classes, as in 0001: renaming one needs a new revision, not an edit here.
from fer_core.labels import EMOTIONS

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The id of every reading stored before this revision (fer_core.model_info.FER2013_V2_ID).
_V2 = "fer2013-v2"
_ID_LENGTH = 32
_ROLLUPS = ("minute_rollups", "hour_rollups")
_TOTALS = (
    "faces",
    "small_faces",
    *(f"n_{emotion}" for emotion in EMOTIONS),
    *(f"sum_p_{emotion}" for emotion in EMOTIONS),
)


def _model_column(**kwargs: object) -> sa.Column:
    return sa.Column("model_id", sa.String(length=_ID_LENGTH), nullable=False, server_default=_V2, **kwargs)


def _create_rollup(name: str, with_model: bool) -> None:
    """The rollup table as 0006 left it, with model_id in the key when `with_model`."""
    key = ["session_id", "period_start", *(["model_id"] if with_model else [])]
    op.create_table(
        name,
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        *([_model_column()] if with_model else []),
        sa.Column("faces", sa.Integer(), nullable=False),
        sa.Column("small_faces", sa.Integer(), nullable=False, server_default="0"),
        *(sa.Column(f"n_{emotion}", sa.Integer(), nullable=False) for emotion in EMOTIONS),
        *(sa.Column(f"sum_p_{emotion}", sa.Float(), nullable=False) for emotion in EMOTIONS),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["event_sessions.id"],
            name=op.f(f"fk_{name}_session_id_event_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_period_start"), name, ["period_start"])


def _rebuild_rollup(name: str, with_model: bool) -> None:
    """Copy the rows aside, recreate the table with the new key, copy them back (exactly, or summed
    over models on the way down), and drop the copy. No other table references a rollup table."""
    copy = f"{name}_0007_copy"
    op.execute(f"CREATE TABLE {copy} AS SELECT * FROM {name}")
    op.drop_index(op.f(f"ix_{name}_period_start"), table_name=name)
    op.drop_table(name)
    _create_rollup(name, with_model)
    totals = ", ".join(_TOTALS)
    if with_model:
        op.execute(
            f"INSERT INTO {name} (session_id, period_start, model_id, {totals}) "
            f"SELECT session_id, period_start, '{_V2}', {totals} FROM {copy}"
        )
    else:
        sums = ", ".join(f"SUM({c})" for c in _TOTALS)
        op.execute(
            f"INSERT INTO {name} (session_id, period_start, {totals}) "
            f"SELECT session_id, period_start, {sums} FROM {copy} GROUP BY session_id, period_start"
        )
    op.execute(f"DROP TABLE {copy}")


def upgrade() -> None:
    op.add_column("photos", _model_column())
    op.add_column("observations", _model_column())
    for name in _ROLLUPS:
        _rebuild_rollup(name, with_model=True)


def downgrade() -> None:
    for name in _ROLLUPS:
        _rebuild_rollup(name, with_model=False)
    op.drop_column("observations", "model_id")  # plain ALTER TABLE (SQLite 3.35+): no cascade
    op.drop_column("photos", "model_id")
