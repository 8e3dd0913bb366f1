"""OpenLineage over HTTP: POST /api/v1/lineage (one event) and /api/v1/lineage/batch.

The path is the default of openlineage-python's HttpTransport, so Airflow, Spark, dbt, Flink
and Feast can point at this service instead of Marquez. Bodies may be gzipped. The batch
answer is the spec's partial-success body (corpus: openlineage/spec/OpenLineage.yml).
"""

from __future__ import annotations

import time

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.body import read_body
from api.request_bodies import OPENLINEAGE_EVENT, json_body
from ingest.intake import intake

SOURCE = "openlineage"
router = APIRouter(prefix="/api/v1", tags=["openlineage"])


@router.post("/lineage", openapi_extra=json_body(OPENLINEAGE_EVENT))
async def post_event(request: Request) -> JSONResponse:
    """Accept one event: 200 once it is journaled, 400 naming what is wrong otherwise."""
    raw = await read_body(request)
    report = await intake(request.app.state.store, SOURCE, [raw.decode("utf-8", "replace")])
    outcome = report.outcomes[0]
    if outcome.status == "rejected":
        return JSONResponse({"error": outcome.reason}, status_code=400)
    return JSONResponse({"status": outcome.status, "id": outcome.id})


@router.post("/lineage/batch", openapi_extra=json_body({"type": "array", "items": OPENLINEAGE_EVENT}))
async def post_batch(request: Request) -> JSONResponse:
    """Accept an array of events; refused ones are listed, the rest are journaled together."""
    raw = await read_body(request)
    store = request.app.state.store
    try:
        events = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        reason = f"/: not JSON: {e}"
        await store.reject(SOURCE, raw.decode("utf-8", "replace"), reason, time.time())
        return JSONResponse({"error": reason}, status_code=400)
    if not isinstance(events, list):
        reason = "/: a batch is a JSON array of events"
        await store.reject(SOURCE, raw.decode("utf-8", "replace"), reason, time.time())
        return JSONResponse({"error": reason}, status_code=400)
    report = await intake(store, SOURCE, [orjson.dumps(e).decode() for e in events])
    failed = [{"index": o.index, "reason": o.reason, "retriable": False} for o in report.rejected]
    body = {
        "status": "partial_success" if failed else "success",
        "summary": {
            "received": len(events),
            "successful": len(events) - len(failed),
            "failed": len(failed),
            "retriable": 0,
            "non_retriable": len(failed),
        },
        "failed_events": failed,
    }
    return JSONResponse(body)
