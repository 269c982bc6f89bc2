"""A third photo time source, 'video': a sampled frame's time is the video's timestamp plus the start
time the user gave, neither the camera's EXIF time nor the upload time.

PostgreSQL swaps the CHECK constraint. SQLite cannot alter a constraint, and the usual table rebuild
(Alembic's batch mode) would DROP `photos`, which with foreign keys on deletes every observation
through ON DELETE CASCADE (PRAGMA foreign_keys cannot change inside the migration's transaction,
and renaming tables moves the observations' foreign key with them). Widening an IN list changes no
stored row, so SQLite gets the edit of the table's definition that its documentation describes
for such changes, followed by an integrity check.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONSTRAINT = "ck_photos_time_source"
_OLD = ("exif", "upload")
_NEW = ("exif", "upload", "video")


def _check(sources: Sequence[str]) -> str:
    return "time_source IN (" + ", ".join(f"'{s}'" for s in sources) + ")"


def _edit_sqlite_check(old: Sequence[str], new: Sequence[str]) -> None:
    """SQLite's documented way to change a constraint that leaves the stored rows as they are
    (https://www.sqlite.org/lang_altertable.html#otheralter): edit the CREATE TABLE text in
    sqlite_schema and bump the schema version, inside the migration's transaction."""
    bind = op.get_bind()
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'photos'"
    ).scalar_one()
    if _check(old) not in table_sql:
        raise RuntimeError(f"photos has no {_CONSTRAINT} over {old}; the schema is not the one expected")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = 'photos'",
            (table_sql.replace(_check(old), _check(new)),),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"SQLite integrity check failed after editing photos: {problems}")


def _swap(old: Sequence[str], new: Sequence[str]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _edit_sqlite_check(old, new)
    else:
        op.drop_constraint(op.f(_CONSTRAINT), "photos", type_="check")
        op.create_check_constraint(op.f(_CONSTRAINT), "photos", _check(new))


def upgrade() -> None:
    _swap(_OLD, _NEW)


def downgrade() -> None:
    # 0005 knows no 'video': those frames keep their times, labelled as given at upload.
    op.execute("UPDATE photos SET time_source = 'upload' WHERE time_source = 'video'")
    _swap(_NEW, _OLD)
