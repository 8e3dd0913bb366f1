"""POST /webhooks/mlflow: MLflow 3.3+ registry webhooks, verified, re-read, journaled.

MLflow signs ``f"{delivery_id}.{timestamp}.{raw_body}"`` with HMAC-SHA256 and sends
``X-MLflow-Signature: v1,<base64>`` (https://mlflow.org/docs/latest/ml/webhooks/). A bad or missing
signature, or a timestamp older than ``mlflow_webhook_max_age_seconds``, is refused with 401 and
dead-lettered (the secret is never logged). A delivery id already journaled answers 200
``duplicate`` without re-reading, whatever timestamp the retry was signed with. The payload is
a trigger: the object is re-read from MLflow, and the delivery and the read are journaled together
in one transaction (with a marker of the delivery id). MLflow unreachable: 503 with Retry-After, so
MLflow retries, and nothing is applied.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.body import read_body
from api.settings import Settings
from graph.errors import InvalidInput
from graph.journal import content_id
from graph.store import LineageStore
from ingest import mlflow
from ingest.intake import canonical_json, intake_together
from ingest.mlflow_rest import MlflowReader, MlflowUnavailable

log = logging.getLogger("lineage.mlflow")
router = APIRouter(tags=["mlflow"])
RETRY_AFTER_SECONDS = 30
EVENTS = frozenset(
    {
        "registered_model.created",
        "model_version.created",
        "model_version_tag.set",
        "model_version_tag.deleted",
        "model_version_alias.created",
        "model_version_alias.deleted",
        "prompt.created",
        "prompt_version.created",
        "prompt_tag.set",
        "prompt_tag.deleted",
        "prompt_version_tag.set",
        "prompt_version_tag.deleted",
        "prompt_alias.created",
        "prompt_alias.deleted",
    }
)


def signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """Return the ``X-MLflow-Signature`` MLflow sends for a delivery."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@router.post("/webhooks/mlflow")
async def mlflow_webhook(request: Request) -> JSONResponse:
    """Verify a delivery, re-read what it is about from MLflow, journal both; 401, 400, 404 or 503 otherwise."""
    settings: Settings = request.app.state.settings
    store: LineageStore = request.app.state.store
    raw = await read_body(request)
    now = time.time()
    delivery_id = request.headers.get("x-mlflow-delivery-id", "")
    if settings.mlflow_webhook_secret is None or not settings.mlflow_tracking_uri:
        # Not a passing outage (503 would make MLflow retry forever): this service takes no webhooks.
        reason = (
            "MLflow webhooks are not enabled here (set LINEAGE_MLFLOW_WEBHOOK_SECRET and LINEAGE_MLFLOW_TRACKING_URI)"
        )
        await _dead_letter(store, delivery_id, raw, reason, now)
        return JSONResponse({"error": reason}, status_code=404)
    stamp = request.headers.get("x-mlflow-timestamp", "")
    sent = request.headers.get("x-mlflow-signature", "")
    refusal = _refusal(settings, delivery_id, stamp, sent, raw, now)
    if refusal is not None:
        await _dead_letter(store, delivery_id, raw, refusal, now)
        return JSONResponse({"error": refusal}, status_code=401)
    marker = mlflow.delivery_marker(delivery_id)
    if await store.events([content_id(mlflow.DELIVERY_SOURCE, canonical_json(marker))]):
        return JSONResponse({"status": "duplicate", "delivery_id": delivery_id})
    try:
        body = orjson.loads(raw)
        event = _event(body)
    except (orjson.JSONDecodeError, InvalidInput) as e:
        reason = str(e) if isinstance(e, InvalidInput) else f"/: not JSON: {e}"
        await _dead_letter(store, delivery_id, raw, reason, now)
        return JSONResponse({"error": reason}, status_code=400)
    reader = MlflowReader(
        settings.mlflow_tracking_uri,
        timeout=settings.mlflow_timeout_seconds,
        feast_project=settings.feast_project,
    )
    try:
        snapshot = await reader.for_delivery(body)
    except MlflowUnavailable as e:
        log.warning("MLflow webhook %s (%s): re-read failed, asking MLflow to retry: %s", delivery_id, event, e)
        return JSONResponse(
            {"error": str(e), "retriable": True},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    finally:
        await reader.aclose()
    snapshot["delivery"] = {"id": delivery_id, **{k: body.get(k) for k in ("entity", "action", "timestamp", "data")}}
    try:
        ids = await intake_together(
            store, [(mlflow.SOURCE, orjson.dumps(snapshot).decode()), (mlflow.DELIVERY_SOURCE, marker)], now
        )
    except InvalidInput as e:
        await _dead_letter(store, delivery_id, raw, str(e), now)
        return JSONResponse({"error": str(e)}, status_code=400)
    return JSONResponse({"status": "accepted", "event": event, "id": ids[0]})


def _refusal(settings: Settings, delivery_id: str, stamp: str, sent: str, raw: bytes, now: float) -> str | None:
    """Return why a delivery is not authentic or too old, or None when it is fine."""
    assert settings.mlflow_webhook_secret is not None
    if not delivery_id or not stamp or not sent:
        return "headers: X-MLflow-Delivery-Id, X-MLflow-Timestamp and X-MLflow-Signature are required"
    expected = signature(settings.mlflow_webhook_secret.get_secret_value(), delivery_id, stamp, raw)
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        return "X-MLflow-Signature: does not match the body signed with the configured secret"
    if not stamp.isdigit() or abs(now - int(stamp)) > settings.mlflow_webhook_max_age_seconds:
        return f"X-MLflow-Timestamp: {stamp!r} is not within {settings.mlflow_webhook_max_age_seconds} s of now"
    return None


def _event(body: object) -> str:
    """Return ``entity.action`` of a delivery body, refusing what is not one of MLflow's events."""
    if not isinstance(body, dict):
        msg = "/: a webhook body is a JSON object"
        raise InvalidInput(msg, field="/")
    event = f"{body.get('entity')}.{body.get('action')}"
    if event not in EVENTS:
        msg = f"/entity: {event!r} is not an MLflow registry event this service handles"
        raise InvalidInput(msg, field="/entity")
    if not isinstance(body.get("data"), dict) or not isinstance(body.get("timestamp"), str):
        msg = "/data: a delivery has data (an object) and a timestamp"
        raise InvalidInput(msg, field="/data")
    return event


async def _dead_letter(store: LineageStore, delivery_id: str, raw: bytes, reason: str, now: float) -> None:
    """Keep the refused delivery (body and id, never the signature or the secret) with the reason."""
    kept = orjson.dumps({"delivery_id": delivery_id, "body": raw.decode("utf-8", "replace")}).decode()
    await store.reject(mlflow.SOURCE, kept, reason, now)
    log.info("MLflow webhook %s refused: %s", delivery_id or "(no id)", reason)
