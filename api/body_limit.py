"""Refuse request bodies over ``max_body_bytes`` with 413, for every route (GraphQL included)."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.responses import send_json


class BodyLimitMiddleware:
    """Check the declared length up front and count what actually arrives (chunked bodies too)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await send_json(send, 413, {"error": f"body: {int(value)} bytes is over the limit of {limit}"})
                return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI, Strawberry and read_body let an HTTPException through as its status.
                    raise HTTPException(413, f"body: over the limit of {limit} bytes")
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except HTTPException as e:
            if e.status_code != 413 or started:
                raise
            await send_json(send, 413, {"error": e.detail})
