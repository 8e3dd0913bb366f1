"""OpenAPI descriptions of the ingest bodies (the routes read raw bytes, so FastAPI cannot infer them).

They tell clients and schemathesis what to send; the parsers, not these schemas, decide what is
accepted, and they answer anything else with a 400 naming the problem.
"""

from __future__ import annotations

from typing import Any

from graph.edges import EdgeType

_DATASET = {
    "type": "object",
    "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}, "facets": {"type": "object"}},
    "required": ["namespace", "name"],
}
#: A RunEvent, loosely (the spec: https://openlineage.io/spec/2-0-2/OpenLineage.json).
OPENLINEAGE_EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "eventType": {"type": "string", "enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": {"type": "string", "format": "uri"},
        "schemaURL": {"type": "string", "format": "uri"},
        "run": {
            "type": "object",
            "properties": {"runId": {"type": "string", "format": "uuid"}, "facets": {"type": "object"}},
            "required": ["runId"],
        },
        "job": {
            "type": "object",
            "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}, "facets": {"type": "object"}},
            "required": ["namespace", "name"],
        },
        "inputs": {"type": "array", "items": _DATASET},
        "outputs": {"type": "array", "items": _DATASET},
    },
    "required": ["eventTime", "producer"],
}
_NATIVE_EDGE = {
    "type": "object",
    "properties": {
        "src": {"type": "string"},
        "type": {"type": "string", "enum": [t.value for t in EdgeType]},
        "dst": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "properties": {"type": "object"},
    },
    "required": ["src", "type", "dst", "time"],
}
#: A native graph document (ingest/native.py has the rules).
NATIVE_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "nodes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "time": {"type": "string", "format": "date-time"},
                    "properties": {"type": "object"},
                },
                "required": ["id", "time"],
            },
        },
        "edges": {"type": "array", "items": _NATIVE_EDGE},
    },
}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """Return the ``openapi_extra`` of a route whose JSON body has this schema."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
