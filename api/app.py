"""The FastAPI application, built by create_app(settings, store): no import-time globals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter

from api.graphql.context import LineageContext
from api.graphql.schema import schema
from api.mlflow_poller import poll_mlflow
from api.routes import graph_ingest, health, mlflow_webhooks, openlineage
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

    app = FastAPI(title="lineage-graph", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    if store is not None:
        app.state.store = store

    async def context(request: Request) -> LineageContext:
        return LineageContext(store=request.app.state.store, settings=settings)

    app.include_router(health.router)
    app.include_router(graph_ingest.router)
    app.include_router(openlineage.router)
    app.include_router(mlflow_webhooks.router)
    app.include_router(GraphQLRouter(schema, context_getter=context, graphql_ide="graphiql"), prefix="/graphql")
    app.add_exception_handler(LineageError, _lineage_error)
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
