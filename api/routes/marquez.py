"""Marquez's read endpoint: `GET /api/v1/lineage?nodeId=...&depth=...`, in Marquez's shape."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api import marquez
from api.restrict import request_store
from api.settings import Settings
from graph.errors import InvalidInput, NodeNotFound
from graph.keys import parse_key
from graph.query import MAX_HOPS

router = APIRouter(tags=["marquez"])
#: Marquez's default depth
DEFAULT_DEPTH = 20


@router.get("/api/v1/lineage")
async def lineage(
    request: Request,
    node_id: Annotated[str | None, Query(alias="nodeId")] = None,
    depth: Annotated[str, Query()] = str(DEFAULT_DEPTH),
) -> Any:
    """Answer the graph around a dataset or job, as Marquez does (errors as Marquez's {code, message})."""
    settings: Settings = request.app.state.settings
    try:
        key, steps = parse_key(_required(node_id)), _depth(depth)
        async with asyncio.timeout(settings.query_deadline_seconds):
            return await marquez.lineage(request_store(request), key, steps)
    except InvalidInput as e:
        return JSONResponse({"code": 400, "message": str(e)}, status_code=400)
    except NodeNotFound as e:
        return JSONResponse({"code": 404, "message": str(e)}, status_code=404)
    except TimeoutError:
        message = f"lineage exceeded the deadline of {settings.query_deadline_seconds:.3f}s; ask a smaller depth"
        return JSONResponse({"code": 504, "message": message}, status_code=504)


def _required(node_id: str | None) -> str:
    if not node_id:
        msg = "nodeId: required, a dataset:<namespace>:<name> or job:<namespace>:<name> id"
        raise InvalidInput(msg, field="nodeId")
    return node_id


def _depth(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_HOPS:
        msg = f"depth: {text!r} is not a whole number in 0..{MAX_HOPS}"
        raise InvalidInput(msg, field="depth")
    return value
