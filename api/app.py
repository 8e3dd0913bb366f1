"""The FastAPI application, built by create_app(settings, store): no import-time globals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.auth import AuthMiddleware, is_loopback
from api.body_limit import BodyLimitMiddleware
from api.graphql.context import LineageContext
from api.graphql.router import DeadlineRouter
from api.graphql.schema import schema
from api.metered_store import MeteredStore
from api.metrics import Metrics
from api.mlflow_poller import poll_mlflow
from api.observability import ObservabilityMiddleware
from api.ratelimit import RateLimiter, RateLimitMiddleware
from api.restrict import request_store
from api.routes import audit, graph_ingest, health, marquez, metrics, mlflow_webhooks, openlineage, traces
from api.routes.explorer import mount_explorer
from api.settings import Settings
from api.stores import open_store
from api.tokens import TokenStore
from graph.errors import InvalidInput, LineageError, NodeNotFound, QueryDeadlineExceeded, StoreUnavailable
from graph.store import LineageStore

log = logging.getLogger("lineage.api")
RETRY_AFTER_SECONDS = 5


def create_app(settings: Settings, store: LineageStore | None = None) -> FastAPI:
    """Build the service around a store (opened from the settings when none is given)."""

    observed = Metrics()
    tokens = TokenStore(settings.data_dir / "tokens.sqlite")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        if owned:
            app.state.store = MeteredStore(await open_store(settings), observed)
        app.state.mlflow_reports = []
        poller = None
        if settings.mlflow_poll_seconds and settings.mlflow_tracking_uri:
            poller = asyncio.create_task(poll_mlflow(app.state.store, settings, app.state.mlflow_reports))
        try:
            yield
        finally:
            if poller is not None:
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller
            if owned:
                await app.state.store.close()
            tokens.close()

    app = FastAPI(title="lineage-graph", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = observed
    app.state.tokens = tokens
    if store is not None:
        app.state.store = MeteredStore(store, observed)

    # Opaque ids of restricted nodes: stable within this process only.
    app.state.restrict_key = secrets.token_bytes(32)

    async def context(request: Request) -> LineageContext:
        return LineageContext(store=request_store(request), settings=settings)

    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(graph_ingest.router)
    app.include_router(openlineage.router)
    app.include_router(marquez.router)
    app.include_router(audit.router)
    app.include_router(traces.router)
    app.include_router(mlflow_webhooks.router)
    app.include_router(DeadlineRouter(schema, context_getter=context, graphql_ide="graphiql"), prefix="/graphql")
    app.add_exception_handler(LineageError, _lineage_error)
    app.add_exception_handler(UnicodeDecodeError, _undecodable)
    mount_explorer(app)
    # Outermost last: request id and timing wrap auth, which wraps rate limits, which wrap the body limit.
    limiter = (
        RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
        if settings.rate_limit_per_second > 0
        else None
    )
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(RateLimitMiddleware, limiter=limiter)
    app.add_middleware(AuthMiddleware, tokens=tokens, loopback=is_loopback(settings.host))
    app.add_middleware(ObservabilityMiddleware, metrics=observed)
    return app


async def _undecodable(request: Request, exc: Exception) -> JSONResponse:
    """Answer a body that is not UTF-8 (GraphQL decodes it itself) with 400, not 500."""
    if request.url.path.startswith("/graphql"):
        return JSONResponse({"error": f"body: not UTF-8 JSON: {exc}"}, status_code=400)
    log.error("unexpected decoding error on %s", request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal error"}, status_code=500)


async def _lineage_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer a graph error with its status; never a 500 for what the caller sent."""
    if isinstance(exc, InvalidInput):
        return JSONResponse({"error": str(exc), "field": exc.field}, status_code=422)
    if isinstance(exc, NodeNotFound):
        return JSONResponse({"error": str(exc)}, status_code=404)
    if isinstance(exc, QueryDeadlineExceeded):
        return JSONResponse({"error": str(exc)}, status_code=504)
    if isinstance(exc, StoreUnavailable):
        log.warning("store unavailable on %s: %s", request.url.path, exc)
        route = getattr(request.scope.get("route"), "path", "<unmatched>")
        request.app.state.metrics.unavailable.labels(route).inc()
        return JSONResponse(
            {"error": str(exc), "retriable": True}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    log.error("unexpected lineage error on %s", request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal error"}, status_code=500)
