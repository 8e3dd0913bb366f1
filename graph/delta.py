"""GraphDelta: the graph changes one input causes, built by ingestors and applied by stores.

A delta only ever adds assertions (a node seen with properties, an edge seen, a validity
closed at a time); nothing is deleted, so the graph is the same whatever order inputs arrive in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from graph.edges import EdgeType, kind_error
from graph.errors import InvalidDelta, InvalidInput
from graph.keys import NodeKey
from graph.timestamps import to_epoch

JSON = Any  # a value json.dumps accepts


@dataclass(frozen=True, slots=True)
class NodeUpsert:
    """A node seen at ``time`` with these properties.

    Properties merge key by key: the higher ``priority`` wins, then the later time. An
    ingestor raises the priority of final statements (a terminal run state beats a late START).
    """

    key: NodeKey
    time: float
    properties: Mapping[str, JSON] = field(default_factory=dict)
    priority: int = 0
    implied: bool = False  # only named as an edge's end: moves first/last seen, asserts nothing


@dataclass(frozen=True, slots=True)
class EdgeRef:
    """The identity of an edge; ``qualifier`` tells apart edges of one type (alias names)."""

    src: NodeKey
    type: EdgeType
    dst: NodeKey
    qualifier: str = ""
    # (src urn, type, dst urn, qualifier): the text identity stores key edges by, computed once.
    ident: tuple[str, str, str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ident", (self.src.urn, self.type, self.dst.urn, self.qualifier))

    def __hash__(self) -> int:
        return hash(self.ident)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EdgeRef):
            return NotImplemented
        return self.ident == other.ident


@dataclass(frozen=True, slots=True)
class EdgeUpsert:
    """An edge seen at ``time``.

    ``opens`` records this sighting as the start of a validity interval, for edges whose
    truth comes and goes (an alias that moves away and back).
    """

    ref: EdgeRef
    time: float
    properties: Mapping[str, JSON] = field(default_factory=dict)
    opens: bool = False


@dataclass(frozen=True, slots=True)
class Close:
    """The node or edge stopped being true at ``time`` (alias moved, dataset dropped)."""

    target: NodeKey | EdgeRef
    time: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class GraphDelta:
    """Everything one input asserts. Build it with DeltaBuilder, which checks it."""

    nodes: tuple[NodeUpsert, ...] = ()
    edges: tuple[EdgeUpsert, ...] = ()
    closes: tuple[Close, ...] = ()

    @property
    def size(self) -> int:
        """Return the number of graph elements this delta touches."""
        return len(self.nodes) + len(self.edges) + len(self.closes)


class DeltaBuilder:
    """Collect nodes and edges for one input, checking each as it is added."""

    def __init__(self) -> None:
        # Keyed by text identity (urn, edge ident): string and tuple-of-string hashing is C code.
        self._nodes: dict[str, NodeUpsert] = {}
        self._edges: dict[tuple[str, str, str, str], EdgeUpsert] = {}
        self._closes: list[Close] = []

    def node(
        self,
        key: NodeKey,
        time: datetime | float,
        properties: Mapping[str, JSON] | None = None,
        *,
        priority: int = 0,
    ) -> NodeKey:
        """Add a node (merging with an earlier sighting in this delta) and return its key."""
        t = _epoch(time, "nodes.time")
        props = _checked_properties(properties or {}, f"nodes[{key.urn}].properties")
        known = self._nodes.get(key.urn)
        if known is not None and known.implied:
            known = None
        if known is not None:
            merged = {**known.properties, **props} if priority >= known.priority else {**props, **known.properties}
            props, t, priority = merged, min(t, known.time), max(priority, known.priority)
        self._nodes[key.urn] = NodeUpsert(key, t, props, priority)
        return key

    def edge(
        self,
        src: NodeKey,
        edge_type: EdgeType,
        dst: NodeKey,
        time: datetime | float,
        properties: Mapping[str, JSON] | None = None,
        *,
        qualifier: str = "",
        opens: bool = False,
    ) -> EdgeRef:
        """Add an edge; its endpoints are added as nodes seen at the same time."""
        problem = kind_error(edge_type, src.kind, dst.kind)
        if problem is not None:
            raise InvalidDelta(problem, field=problem.split(":")[0])
        if src == dst:
            msg = f"dst: a {edge_type} edge cannot loop on {src.urn}"
            raise InvalidDelta(msg, field="dst")
        t = _epoch(time, "edges.time")
        nodes = self._nodes
        if src.urn not in nodes:
            nodes[src.urn] = NodeUpsert(src, t, implied=True)
        if dst.urn not in nodes:
            nodes[dst.urn] = NodeUpsert(dst, t, implied=True)
        ref = EdgeRef(src, edge_type, dst, qualifier)
        props = _checked_properties(properties, f"edges[{edge_type}].properties") if properties else {}
        known = self._edges.get(ref.ident)
        if known is not None:
            props, t = {**known.properties, **props}, min(t, known.time)
            opens = opens or known.opens
        self._edges[ref.ident] = EdgeUpsert(ref, t, props, opens)
        return ref

    def close(self, target: NodeKey | EdgeRef, time: datetime | float, reason: str = "") -> None:
        """Record that a node or edge stopped being true at ``time``."""
        self._closes.append(Close(target, _epoch(time, "closes.time"), reason))

    def build(self) -> GraphDelta:
        """Return the delta."""
        return GraphDelta(tuple(self._nodes.values()), tuple(self._edges.values()), tuple(self._closes))


def _epoch(value: datetime | float, field: str) -> float:
    if isinstance(value, datetime):
        return to_epoch(value, field=field)
    return float(value)


_PLAIN = (str, bool, type(None))  # always JSON; an int may be too big for 64 bits, a float may be NaN


def _checked_properties(properties: Mapping[str, JSON], field: str) -> dict[str, JSON]:
    """Refuse what the stores could not write: they encode with orjson (graph/records.py, canonical)."""
    if not properties:  # most edges carry none: skip the encoder
        return {}
    if all(type(k) is str and type(v) in _PLAIN for k, v in properties.items()):  # a column's type: skip it too
        return dict(properties)
    try:
        text = orjson.dumps(properties)
        if b"null" in text:  # orjson writes NaN and infinities as null: ask the strict encoder
            json.dumps(properties, allow_nan=False)
    except (TypeError, ValueError) as e:  # orjson.JSONEncodeError is a TypeError
        msg = f"{field}: not JSON: {e}"
        raise InvalidInput(msg, field=field) from e
    return dict(properties)
