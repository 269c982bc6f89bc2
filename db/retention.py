"""Retention and repair: purge observations past an age (admins, audited) and rebuild the rollups."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, exists

from db import audit, rollups
from db.engine import writer
from db.models import (
    Photo,
    observations_table,
)
from db.roles import Actor, require
from db.timeutils import floor_to, to_utc_naive, utcnow


def purge_observations_older_than(
    engine: Engine, days: int, now: datetime | None = None, *, actor: Actor
) -> int:
    """Delete observations older than `days` days, then photos left without any; returns observations deleted.

    Age is the observation time (a photo's taken_at), not the upload time. Admins only; audited.
    """
    require(actor, "purge", what="purge old observations")
    if days < 0:
        raise ValueError("days must be zero or more")
    cutoff = to_utc_naive(now or utcnow()) - timedelta(days=days)
    obs = observations_table
    with writer(engine).begin() as connection:
        deleted = connection.execute(delete(obs).where(obs.c.observed_at < cutoff)).rowcount
        connection.execute(
            delete(Photo).where(Photo.taken_at < cutoff, ~exists().where(obs.c.photo_id == Photo.id))
        )
        for level in rollups.LEVELS:  # periods wholly before the cutoff's hour, then recompute that hour
            table = level.table
            connection.execute(delete(table).where(table.c.period_start < floor_to(cutoff, "hour")))
        rollups.rebuild(connection, cutoff, cutoff)
        detail = {"older_than_days": days, "cutoff": cutoff.isoformat(), "observations_deleted": int(deleted)}
        audit.record(connection, actor, "purge", detail=detail)
    return int(deleted)


def rebuild_rollups(engine: Engine) -> None:
    """Recompute all rollups from the observations (repair after manual edits to the tables)."""
    with writer(engine).begin() as connection:
        rollups.rebuild(connection)
