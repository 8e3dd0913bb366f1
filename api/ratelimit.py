"""Per-caller rate limits: a token bucket per token (or per address when auth is off), 429 + Retry-After.

The buckets live in the process: with several workers or replicas each enforces its own share,
so the effective limit is the setting times the number of processes.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import OPEN_PATHS, Principal, client_key
from api.responses import send_json

MAX_CALLERS = 10_000  # buckets kept; the least recently seen caller is forgotten first


@dataclass(slots=True)
class Bucket:
    """Tokens refill at ``rate`` per second up to ``burst``; a request takes one."""

    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by caller key."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.buckets: OrderedDict[str, Bucket] = OrderedDict()

    def take(self, key: str, now: float | None = None) -> float:
        """Take one token for the caller; return 0 when allowed, else the seconds until one is free."""
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = Bucket(float(self.burst), now)
            self.buckets[key] = bucket
            if len(self.buckets) > MAX_CALLERS:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(key)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


class RateLimitMiddleware:
    """Answer 429 with Retry-After once a caller's bucket is empty; probes are never limited."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter | None) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.limiter is None or scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        principal = scope.get("state", {}).get("principal")
        key = principal.key if isinstance(principal, Principal) else client_key(scope)
        wait = self.limiter.take(key)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            message = f"rate limit: over {self.limiter.rate:g} requests per second; retry in {retry}s"
            await send_json(send, 429, {"error": message}, {"Retry-After": str(retry)})
            return
        await self.app(scope, receive, send)
