"""Each session keeps its photo count (`event_sessions.n_photos`), kept in step by triggers; the
observations lose their index on observed_at alone.

Every page lists the sessions with their photo counts; at a campus year (10,000 sessions, 1.5M
photos) counting them meant scanning an index of every photo on each page load. The count is derived
data like the rollups: the upgrade fills it from the photos, and a trigger on `photos` adds or
subtracts every inserted or deleted photo (whichever door wrote it, bulk COPY and cascades included),
so it always equals `SELECT count(*) FROM photos WHERE session_id = ...`. Photos never move between
sessions (no UPDATE of photos.session_id anywhere), so no update trigger.

SQLite gets row triggers; PostgreSQL a statement trigger with a transition table (one UPDATE per
statement, not per photo). The column is a plain ALTER TABLE ADD COLUMN with a constant default on
both backends: no table rebuild (on SQLite that would cascade-delete every photo, see 0006), and
PostgreSQL 11+ does not rewrite the table. No row of any table is touched except the new counts.

It also drops `ix_observations_observed_at` (about a sixth of the database at a campus year): no page
reads observations by time alone any more. Every read of raw observations names its sessions and goes
through (session_id, observed_at); a range edge over all sessions first takes the sessions with faces
in those minutes from the minute rollups (db.aggregates). Only the retention purge and rollup rebuild
still select by time alone: maintenance jobs, which now scan the table once (seconds at 10M rows)
instead of reading a derived table they must not trust. The downgrade builds the index again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILL = (
    "UPDATE event_sessions SET n_photos = "
    "(SELECT count(*) FROM photos WHERE photos.session_id = event_sessions.id)"
)

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER photos_count_added AFTER INSERT ON photos BEGIN "
    "UPDATE event_sessions SET n_photos = n_photos + 1 WHERE id = NEW.session_id; END",
    "CREATE TRIGGER photos_count_removed AFTER DELETE ON photos BEGIN "
    "UPDATE event_sessions SET n_photos = n_photos - 1 WHERE id = OLD.session_id; END",
)

#: (trigger and function name, event, transition table, sign)
_PG_TRIGGERS = (
    ("photos_count_added", "INSERT", "NEW", "+"),
    ("photos_count_removed", "DELETE", "OLD", "-"),
)


def _pg_create(name: str, event: str, transition: str, sign: str) -> None:
    op.execute(
        f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE event_sessions AS s SET n_photos = s.n_photos {sign} changed.n
            FROM (SELECT session_id, count(*) AS n FROM changed_photos GROUP BY session_id) AS changed
            WHERE s.id = changed.session_id;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        f"CREATE TRIGGER {name} AFTER {event} ON photos REFERENCING {transition} TABLE AS changed_photos "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
    )


_TIME_INDEX = "ix_observations_observed_at"


def upgrade() -> None:
    op.drop_index(_TIME_INDEX, table_name="observations")
    op.add_column("event_sessions", sa.Column("n_photos", sa.Integer(), nullable=False, server_default="0"))
    op.execute(_FILL)
    if op.get_bind().dialect.name == "postgresql":
        for trigger in _PG_TRIGGERS:
            _pg_create(*trigger)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, *_ in _PG_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}" + (" ON photos" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_column("event_sessions", "n_photos")  # plain ALTER TABLE (SQLite 3.35+): no rebuild
    op.create_index(_TIME_INDEX, "observations", ["observed_at"])
