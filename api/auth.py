"""Bearer tokens: 401 without a valid token, 403 when its scope is too small (read < write < admin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from db.models import TOKEN_SCOPES
from db.tokens import TokenInfo, find_active_token

_bearer = HTTPBearer(
    auto_error=False,
    description="A token from `campus-fer token create NAME --scope read|write|admin`.",
)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def require(scope: str) -> Callable[..., TokenInfo]:
    """A dependency that admits tokens with at least `scope`."""
    if scope not in TOKEN_SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def check(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> TokenInfo:
        if credentials is None:
            raise HTTPException(401, "Missing bearer token (Authorization: Bearer <token>).", _CHALLENGE)
        token = find_active_token(request.app.state.engine, credentials.credentials)
        if token is None:
            raise HTTPException(401, "Unknown or revoked token.", _CHALLENGE)
        if not token.allows(scope):
            raise HTTPException(403, f"This token has scope '{token.scope}'; this needs '{scope}'.")
        return token

    return check


#: Route parameters that admit a token of at least that scope.
ReadToken = Annotated[TokenInfo, Depends(require("read"))]
WriteToken = Annotated[TokenInfo, Depends(require("write"))]
AdminToken = Annotated[TokenInfo, Depends(require("admin"))]
