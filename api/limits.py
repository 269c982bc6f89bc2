"""Request body limits, enforced before a byte reaches a route: Content-Length first, then a count
of the streamed bytes (for chunked uploads that announce no length)."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campus_fer.ingest import human_size


class BodyTooLarge(Exception):
    """A request body went past its limit while streaming; answered with 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is above the {human_size(limit)} limit; nothing was saved.")


class BodySizeLimit:
    """ASGI middleware: `limit_for(path)` gives the largest body allowed for a path (None: no body limit)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int | None]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reject(send, BodyTooLarge(limit))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


async def _reject(send: Send, error: BodyTooLarge) -> None:
    body = json.dumps({"detail": str(error)}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
