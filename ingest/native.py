"""The native source: graph changes written directly as JSON (the demo estate, scripts, tests).

    {"nodes": [{"id": "urn:lineage:dataset:...", "time": "2026-11-20T10:00:00Z",
                "properties": {...}, "priority": 0}],
     "edges": [{"src": ID, "type": "INPUT_OF", "dst": ID, "time": ..., "qualifier": "",
                "properties": {...}, "opens": false}],
     "closes": [{"node": ID, "time": ..., "reason": "..."}
                | {"edge": {"src": ID, "type": ..., "dst": ID, "qualifier": ""}, "time": ...}]}

An id is a URN or a Marquez-style id. Every error names the JSON pointer of what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graph.delta import DeltaBuilder, EdgeRef, GraphDelta
from graph.edges import EdgeType
from graph.errors import InvalidInput
from graph.keys import parse_key

SOURCE = "native"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NativeNode(_Strict):
    id: str
    time: datetime
    properties: dict[str, Any] = Field(default_factory=dict)
    priority: int = 0


class NativeEdge(_Strict):
    src: str
    type: str
    dst: str
    time: datetime
    qualifier: str = ""
    properties: dict[str, Any] = Field(default_factory=dict)
    opens: bool = False


class NativeEdgeRef(_Strict):
    src: str
    type: str
    dst: str
    qualifier: str = ""


class NativeClose(_Strict):
    node: str | None = None
    edge: NativeEdgeRef | None = None
    time: datetime
    reason: str = ""


class NativeDelta(_Strict):
    nodes: list[NativeNode] = Field(default_factory=list)
    edges: list[NativeEdge] = Field(default_factory=list)
    closes: list[NativeClose] = Field(default_factory=list)


def to_delta(raw: str) -> GraphDelta:
    """Parse a native document into a delta; errors name the JSON pointer."""
    try:
        doc = NativeDelta.model_validate_json(raw)
    except ValidationError as e:
        first = e.errors()[0]
        pointer = "/" + "/".join(str(p) for p in first["loc"])
        msg = f"{pointer}: {first['msg']}"
        raise InvalidInput(msg, field=pointer) from e
    builder = DeltaBuilder()
    for i, node in enumerate(doc.nodes):
        with _at(f"/nodes/{i}"):
            builder.node(parse_key(node.id), node.time, node.properties, priority=node.priority)
    for i, edge in enumerate(doc.edges):
        with _at(f"/edges/{i}"):
            builder.edge(
                parse_key(edge.src),
                EdgeType.parse(edge.type),
                parse_key(edge.dst),
                edge.time,
                edge.properties,
                qualifier=edge.qualifier,
                opens=edge.opens,
            )
    for i, close in enumerate(doc.closes):
        with _at(f"/closes/{i}"):
            if (close.node is None) == (close.edge is None):
                msg = "give exactly one of node or edge"
                raise InvalidInput(msg, field="node")
            if close.node is not None:
                builder.close(parse_key(close.node), close.time, close.reason)
            elif close.edge is not None:
                ref = EdgeRef(
                    parse_key(close.edge.src),
                    EdgeType.parse(close.edge.type),
                    parse_key(close.edge.dst),
                    close.edge.qualifier,
                )
                builder.close(ref, close.time, close.reason)
    return builder.build()


@contextmanager
def _at(pointer: str) -> Iterator[None]:
    """Prefix an InvalidInput raised inside with the JSON pointer of the element."""
    try:
        yield
    except InvalidInput as e:
        msg = f"{pointer}/{e}"
        raise InvalidInput(msg, field=f"{pointer}/{e.field or ''}") from e


def dumps(doc: dict[str, Any]) -> str:
    """Return the canonical text of a native document."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
