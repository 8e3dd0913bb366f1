"""A store wrapper that counts ingest outcomes by source and store failures, and changes nothing else.

Every ingest path (HTTP routes of any source, CLI backfill) ends in ``apply`` or ``reject``, so
counting there covers sources added later without touching their routers.
"""

from __future__ import annotations

import functools
import inspect
from collections import Counter
from collections.abc import Sequence
from typing import Any

from api.metrics import Metrics
from graph.errors import LineageError, StoreUnavailable
from graph.journal import DeadLetter
from graph.store import Ingested, LineageStore


class MeteredStore:
    """Delegate to a store; count what ingest did and which calls failed."""

    def __init__(self, inner: LineageStore, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    async def apply(self, batch: Sequence[Ingested]) -> list[bool]:
        """Journal and apply, counting accepted and duplicate inputs (or unavailable ones) by source."""
        sources = Counter(item.entry.source for item in batch)
        try:
            fresh = await self.inner.apply(batch)
        except StoreUnavailable:
            self.metrics.store_errors.labels("apply", "StoreUnavailable").inc()
            for source, n in sources.items():
                self.metrics.ingest.labels(source, "unavailable").inc(n)
            raise
        for item, is_new in zip(batch, fresh, strict=True):
            self.metrics.ingest.labels(item.entry.source, "accepted" if is_new else "duplicate").inc()
        return fresh

    async def reject(self, source: str, raw: str, reason: str, received_at: float) -> DeadLetter:
        """Keep a refused input and count it."""
        letter = await self._counted("reject", self.inner.reject)(source, raw, reason, received_at)
        self.metrics.ingest.labels(source, "rejected").inc()
        return letter  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if inspect.iscoroutinefunction(attr):
            return self._counted(name, attr)
        return attr

    def _counted(self, operation: str, call: Any) -> Any:
        @functools.wraps(call)
        async def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                return await call(*args, **kwargs)
            except StoreUnavailable as e:
                self.metrics.store_errors.labels(operation, type(e).__name__).inc()
                raise
            except LineageError:
                raise  # the caller's mistake (bad id, deadline): not a store error
            except Exception as e:
                self.metrics.store_errors.labels(operation, type(e).__name__).inc()
                raise

        return counted
