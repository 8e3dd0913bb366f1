"""POST /api/v1/graph: native graph changes (one document or an array), journaled like any input."""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.body import read_body
from api.request_bodies import NATIVE_DOCUMENT, json_body
from ingest import native
from ingest.intake import intake

router = APIRouter(prefix="/api/v1", tags=["ingest"])


@router.post(
    "/graph", openapi_extra=json_body({"oneOf": [NATIVE_DOCUMENT, {"type": "array", "items": NATIVE_DOCUMENT}]})
)
async def ingest_graph(request: Request) -> JSONResponse:
    """Accept native documents; answer per document, 400 when a single one is refused."""
    raw = await read_body(request)
    store = request.app.state.store
    try:
        parsed = json.loads(raw)
    except ValueError as e:
        reason = f"/: not JSON: {e}"
        await store.reject(native.SOURCE, raw.decode("utf-8", "replace"), reason, time.time())
        return JSONResponse({"error": reason}, status_code=400)
    single = not isinstance(parsed, list)
    docs = [parsed] if single else parsed
    report = await intake(store, native.SOURCE, [json.dumps(d) for d in docs])
    body = {
        "accepted": report.count("accepted"),
        "duplicates": report.count("duplicate"),
        "rejected": [{"index": o.index, "reason": o.reason} for o in report.rejected],
        "ids": [o.id for o in report.outcomes if o.id],
    }
    status = 400 if single and report.rejected else 200
    return JSONResponse(body, status_code=status)
