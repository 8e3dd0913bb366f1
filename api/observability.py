"""The outermost middleware: a request id on every answer, latency by route template, one access log line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import request_id
from api.metrics import Metrics
from api.responses import send_json

log = logging.getLogger("lineage.access")
# An id a caller sends is echoed only if it is short and plain (it ends up in logs).
_SANE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")


class ObservabilityMiddleware:
    """Tag the request with an id, time it, log it, and answer 500 (with the id) if something broke."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or uuid.uuid4().hex
        token = request_id.set(rid)
        status, responded = 500, False
        started = time.perf_counter()

        async def tagged(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            try:
                await self.app(scope, receive, tagged)
            except Exception:
                log.exception("unhandled error")
                if not responded:
                    await send_json(send, 500, {"error": "internal error", "request_id": rid}, {"X-Request-Id": rid})
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.latency.labels(scope["method"], route, str(status)).observe(elapsed)
            principal = scope.get("state", {}).get("principal")
            log.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "caller": getattr(principal, "key", None),
                },
            )
            request_id.reset(token)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_ID.match(text) else None
    return None


def _route_template(scope: Scope) -> str:
    """Return the matched route's path template; unmatched paths share one label (no cardinality blow-up)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if not isinstance(template, str):
        return "<unmatched>"
    # A router included with a prefix (GraphQL's) knows its path without the prefix; the prefix is
    # static, so it is the request path's leading segments that the template does not account for.
    wanted = template.count("/")
    actual = scope["path"].rstrip("/").split("/")
    prefix = "/".join(actual[: len(actual) - wanted]) if wanted else "/".join(actual)
    return template if not prefix else prefix + template
