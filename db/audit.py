"""The audit trail: who did what and when, written in the same transaction as the change itself.

Rows hold the actor's e-mail, role and source, an action name, the session (id and name, no
foreign key: the trail outlives deleted sessions) and a small JSON `detail` with counts. Never
face data, photo names or token secrets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, get_args

import pandas as pd
from sqlalchemy import Connection, Engine, desc, insert, select
from sqlalchemy.orm import Session

from db.engine import writer
from db.models import AuditEvent
from db.roles import Actor, require
from db.timeutils import to_utc_naive, utcnow

AuditAction = Literal[
    "session_created",
    "session_deleted",
    "photos_imported",
    "purge",
    "token_created",
    "token_revoked",
    "role_assigned",
    "agenda_changed",
]
#: Every action the trail records, in the order the admin page lists them.
ACTIONS: tuple[str, ...] = get_args(AuditAction)
#: Columns of the admin page's table and of the CSV export, in order.
COLUMNS: tuple[str, ...] = ("at", "actor", "role", "source", "action", "session_id", "session_name", "detail")


def record(
    connection: Connection,
    actor: Actor,
    action: AuditAction,
    *,
    session_id: int | None = None,
    session_name: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Add an audit row inside the caller's transaction (it commits or rolls back with the change)."""
    connection.execute(
        insert(AuditEvent).values(
            at=utcnow(),
            actor=actor.email,
            role=actor.role.value,
            source=actor.source,
            action=action,
            session_id=session_id,
            session_name=session_name,
            detail=dict(detail or {}),
        )
    )


def record_event(engine: Engine, actor: Actor, action: AuditAction, **fields: Any) -> None:
    """Add an audit row in a transaction of its own (for events that change nothing else)."""
    with writer(engine).begin() as connection:
        record(connection, actor, action, **fields)


def last_role(engine: Engine, email: str) -> str | None:
    """The role last recorded for this e-mail by a 'role_assigned' row, or None."""
    with Session(engine) as session:
        return session.scalar(
            select(AuditEvent.role)
            .where(AuditEvent.actor == email, AuditEvent.action == "role_assigned")
            .order_by(desc(AuditEvent.id))
            .limit(1)
        )


def audit_events(
    engine: Engine,
    *,
    actor: Actor,
    start: datetime | None = None,
    end: datetime | None = None,
    actions: list[str] | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Audit rows newest first as a table with COLUMNS (admins only); [start, end) by time."""
    require(actor, "view_audit", what="read the audit trail")
    query = select(*(getattr(AuditEvent, c) for c in COLUMNS)).order_by(desc(AuditEvent.id))
    if start is not None:
        query = query.where(AuditEvent.at >= to_utc_naive(start))
    if end is not None:
        query = query.where(AuditEvent.at < to_utc_naive(end))
    if actions:
        query = query.where(AuditEvent.action.in_(actions))
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    table = pd.DataFrame([tuple(row) for row in rows], columns=list(COLUMNS))
    table["session_id"] = table["session_id"].astype("Int64")
    return table


def events_csv(table: pd.DataFrame) -> str:
    """The audit table as CSV, `detail` as compact JSON."""
    out = table.copy()
    out["detail"] = [json.dumps(d, sort_keys=True, separators=(",", ":")) for d in out["detail"]]
    return out.to_csv(index=False)
