"""API tokens: create (the secret is shown once), look up by hash, list and revoke.

Only the sha256 of a token is stored: a leaked database does not leak working tokens. A token is
`cfer_` followed by 32 random bytes (URL-safe base64), so one sha256 without salt is enough.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from db import audit
from db.engine import writer
from db.models import TOKEN_SCOPES, ApiToken
from db.roles import ROLE_FOR_SCOPE, Actor, Role, require
from db.timeutils import utcnow

TOKEN_PREFIX = "cfer_"
#: Characters of the token kept in clear to tell tokens apart (prefix + 6 random characters).
SHOWN_CHARACTERS = len(TOKEN_PREFIX) + 6
MAX_TOKEN_NAME_LENGTH = 100


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never its secret."""

    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def role(self) -> Role:
        """The role this token acts with (db.roles: read=viewer, write=organizer, admin=admin)."""
        return ROLE_FOR_SCOPE[self.scope]

    @property
    def actor(self) -> Actor:
        """Requests made with this token act as 'api-token:<id>' with the token's role."""
        return Actor(f"api-token:{self.id}", self.role, "api-token")

    def allows(self, needed: str) -> bool:
        """Scopes follow their roles' order (read < write < admin); each includes the ones before it."""
        return self.role.rank >= ROLE_FOR_SCOPE[needed].rank


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.name, row.prefix, row.scope, row.created_at, row.revoked_at)


def create_token(engine: Engine, name: str, scope: str, *, actor: Actor) -> tuple[TokenInfo, str]:
    """Store a new token's hash; returns its info and the secret token (the only time it exists).

    Admins only (NotAllowed else); audited with the token's id, name and scope, never its secret.
    """
    require(actor, "manage_tokens", what="create an API token")
    name = (name or "").strip()
    if not name or len(name) > MAX_TOKEN_NAME_LENGTH:
        raise ValueError(f"A token needs a name of 1 to {MAX_TOKEN_NAME_LENGTH} characters.")
    if scope not in TOKEN_SCOPES:
        raise ValueError(f"scope must be one of {', '.join(TOKEN_SCOPES)}, not {scope!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        token_hash=hash_token(token),
        prefix=token[:SHOWN_CHARACTERS],
        scope=scope,
        created_at=utcnow(),
    )
    with Session(writer(engine), expire_on_commit=False) as session, session.begin():
        session.add(row)
        session.flush()
        detail = {"token_id": row.id, "name": name, "scope": scope}
        audit.record(session.connection(), actor, "token_created", detail=detail)
    return _info(row), token


def find_active_token(engine: Engine, token: str) -> TokenInfo | None:
    """The active token whose secret this is, or None (unknown or revoked)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with Session(engine) as session:
        row = session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        )
        return None if row is None else _info(row)


def list_tokens(engine: Engine) -> list[TokenInfo]:
    with Session(engine) as session:
        return [_info(row) for row in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_token(engine: Engine, token_id: int, *, actor: Actor) -> bool:
    """Revoke a token at once (kept in the list as revoked); False if there is no such active token.

    Admins only (NotAllowed else); audited.
    """
    require(actor, "manage_tokens", what="revoke an API token")
    with writer(engine).begin() as connection:
        result = connection.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if result.rowcount == 1:
            audit.record(connection, actor, "token_revoked", detail={"token_id": token_id})
    return result.rowcount == 1
