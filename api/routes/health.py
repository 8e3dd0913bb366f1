"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Answer while the process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Answer 200 once the store answers a read, 503 otherwise."""
    try:
        await request.app.state.store.get(["urn:lineage:dataset:probe:probe"])
    except Exception as e:
        return JSONResponse({"status": "unavailable", "reason": type(e).__name__}, status_code=503)
    return JSONResponse({"status": "ready"})
