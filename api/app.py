"""The FastAPI application, built by create_app(settings, store): no import-time globals."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.graphql.context import LineageContext
from api.graphql.router import DeadlineRouter
from api.graphql.schema import schema
from api.routes import audit, graph_ingest, health, marquez, openlineage, traces
from api.routes.explorer import mount_explorer
from api.settings import Settings
from api.stores import open_store
from graph.errors import InvalidInput, LineageError, NodeNotFound, QueryDeadlineExceeded, StoreUnavailable
from graph.store import LineageStore

log = logging.getLogger("lineage.api")
RETRY_AFTER_SECONDS = 5


def create_app(settings: Settings, store: LineageStore | None = None) -> FastAPI:
    """Build the service around a store (opened from the settings when none is given)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = await open_store(settings) if owned else store
        try:
            yield
        finally:
            if owned:
                await app.state.store.close()

    app = FastAPI(title="lineage-graph", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    if store is not None:
        app.state.store = store

    async def context(request: Request) -> LineageContext:
        return LineageContext(store=request.app.state.store, settings=settings)

    app.include_router(health.router)
    app.include_router(graph_ingest.router)
    app.include_router(openlineage.router)
    app.include_router(marquez.router)
    app.include_router(audit.router)
    app.include_router(traces.router)
    app.include_router(DeadlineRouter(schema, context_getter=context, graphql_ide="graphiql"), prefix="/graphql")
    app.add_exception_handler(LineageError, _lineage_error)
    mount_explorer(app)
    return app


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
        return JSONResponse(
            {"error": str(exc), "retriable": True}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    log.error("unexpected lineage error on %s", request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal error"}, status_code=500)
