"""OTLP/HTTP traces: POST /v1/traces, protobuf or JSON, gzipped or not.

The path and the bodies follow https://opentelemetry.io/docs/specs/otlp/#otlphttp, so any
OpenTelemetry SDK or collector exports here: the answer is an ExportTraceServiceResponse in
the request's encoding (``partialSuccess`` when some spans were refused), and a body that
cannot be read is a 400 whose ``google.rpc.Status`` names the problem by JSON pointer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from google.protobuf.json_format import MessageToDict
from google.rpc.code_pb2 import INVALID_ARGUMENT
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)

from api.body import read_body
from graph.errors import InvalidInput
from ingest.privacy import redact
from ingest.trace_intake import decode, intake_spans, refuse

router = APIRouter(tags=["traces"])
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


@router.post("/v1/traces")
async def post_traces(request: Request) -> Response:
    """Accept an OTLP export: 200 once its spans are journaled, 400 naming what is wrong otherwise."""
    content_type = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
    protobuf = content_type in (PROTOBUF, "application/protobuf")
    if not protobuf and content_type not in (JSON, ""):
        status = Status(code=INVALID_ARGUMENT, message=f"content-type: {content_type!r} is not {PROTOBUF} or {JSON}")
        return _answer(status, protobuf=False, status_code=415)
    store = request.app.state.store
    try:
        body = await read_body(request)
    except HTTPException as e:
        if e.status_code != 400:  # over the size limit: 413, nothing kept
            raise
        await refuse(store, b"", protobuf, str(e.detail))
        return _answer(Status(code=INVALID_ARGUMENT, message=str(e.detail)), protobuf, status_code=400)
    try:
        decoded = decode(body, protobuf)
    except InvalidInput as e:
        await refuse(store, body, protobuf, str(e))
        return _answer(Status(code=INVALID_ARGUMENT, message=redact(str(e))), protobuf, status_code=400)
    report = await intake_spans(store, decoded, request.app.state.settings.keep_llm_text)
    if report.rejected and not (report.accepted or report.duplicate):
        message = "; ".join(report.rejected[:5])
        return _answer(Status(code=INVALID_ARGUMENT, message=message), protobuf, status_code=400)
    response = ExportTraceServiceResponse()
    if report.rejected:
        response.partial_success.CopyFrom(
            ExportTracePartialSuccess(rejected_spans=len(report.rejected), error_message="; ".join(report.rejected[:5]))
        )
    return _answer(response, protobuf)


def _answer(message: Any, protobuf: bool, status_code: int = 200) -> Response:
    if protobuf:
        return Response(message.SerializeToString(), status_code=status_code, media_type=PROTOBUF)
    body = MessageToDict(message)
    if isinstance(message, Status):
        body.setdefault("code", INVALID_ARGUMENT)
        body.setdefault("details", [])
    return JSONResponse(body, status_code=status_code)
