"""GraphDelta: the graph changes one input causes, built by ingestors and applied by stores.

A delta only ever adds assertions (a node seen with properties, an edge seen, a validity
closed at a time); nothing is deleted, so the graph is the same whatever order inputs arrive in.

Ingest builds a hundred or more of these values per input, so the builder keeps its hot path
short: the upserts and edge references are slots dataclasses that only the type checker holds
frozen (see ``_value``), and a repeated sighting that changes nothing builds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar, dataclass_transform

import orjson

from graph.edges import EdgeType, kind_error
from graph.errors import InvalidDelta, InvalidInput
from graph.keys import Kind, NodeKey
from graph.timestamps import to_epoch

JSON = Any  # a value json.dumps accepts
_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def _value(cls: type[_T]) -> type[_T]:
    """Make ``cls`` a slots dataclass that mypy checks as frozen but Python does not enforce.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, four
    times the cost of a plain one; ingest builds a hundred or more per event. Nothing assigns
    to these values (mypy refuses it) and none is hashed by its fields (properties are dicts).
    """
    return dataclass(slots=True)(cls)


@_value
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


class EdgeRef:
    """The identity of an edge; ``qualifier`` tells apart edges of one type (alias names).

    Written out rather than a dataclass: ingest makes one per edge, and a dataclass could only
    compute ``ident`` in ``__post_init__``, twice the cost. ``Final`` keeps it immutable for mypy.
    """

    __slots__ = ("dst", "ident", "qualifier", "src", "type")

    def __init__(self, src: NodeKey, type: EdgeType, dst: NodeKey, qualifier: str = "") -> None:
        self.src: Final = src
        self.type: Final = type
        self.dst: Final = dst
        self.qualifier: Final = qualifier
        # (src urn, type, dst urn, qualifier): the text identity stores key edges by, computed once.
        self.ident: Final[tuple[str, str, str, str]] = (src.urn, type, dst.urn, qualifier)

    def __repr__(self) -> str:
        return f"EdgeRef(src={self.src!r}, type={self.type!r}, dst={self.dst!r}, qualifier={self.qualifier!r})"

    def __hash__(self) -> int:
        return hash(self.ident)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EdgeRef):
            return NotImplemented
        return self.ident == other.ident


@_value
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
        props = _checked_properties(properties, "nodes", key.urn) if properties else {}
        known = self._nodes.get(key.urn)
        if known is not None and not known.implied:
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
        src_urn, dst_urn = src.urn, dst.urn
        ident = (src_urn, edge_type, dst_urn, qualifier)
        known = self._edges.get(ident)
        if known is None:  # a known edge's kinds and ends were checked when it was first added
            problem = _KIND_ERRORS[edge_type, src.kind, dst.kind]
            if problem is not None:
                raise InvalidDelta(problem, field=problem.split(":")[0])
            if src_urn == dst_urn:
                msg = f"dst: a {edge_type} edge cannot loop on {src_urn}"
                raise InvalidDelta(msg, field="dst")
        t = _epoch(time, "edges.time")
        props = _checked_properties(properties, "edges", edge_type) if properties else {}
        if known is None:
            nodes = self._nodes
            if src_urn not in nodes:  # positional: a keyword and the default properties double the cost
                nodes[src_urn] = NodeUpsert(src, t, {}, 0, True)
            if dst_urn not in nodes:
                nodes[dst_urn] = NodeUpsert(dst, t, {}, 0, True)
            ref = EdgeRef(src, edge_type, dst, qualifier)
            self._edges[ident] = EdgeUpsert(ref, t, props, opens)
            return ref
        # Sighted again (a column named by its schema and by column lineage): often nothing new.
        if props or t < known.time or (opens and not known.opens):
            props, t, opens = {**known.properties, **props}, min(t, known.time), opens or known.opens
            self._edges[ident] = EdgeUpsert(known.ref, t, props, opens)
        return known.ref

    def close(self, target: NodeKey | EdgeRef, time: datetime | float, reason: str = "") -> None:
        """Record that a node or edge stopped being true at ``time``."""
        self._closes.append(Close(target, _epoch(time, "closes.time"), reason))

    def build(self) -> GraphDelta:
        """Return the delta."""
        return GraphDelta(tuple(self._nodes.values()), tuple(self._edges.values()), tuple(self._closes))


def _epoch(value: datetime | float, field: str) -> float:
    if type(value) is float:  # what parsers pass: converted once per input, not per element
        return value
    if isinstance(value, datetime):
        return to_epoch(value, field=field)
    return float(value)


# Whether each edge type may join each pair of kinds, decided once: every new edge asks.
_KIND_ERRORS = {(t, s, d): kind_error(t, s, d) for t in EdgeType for s in Kind for d in Kind}
_PLAIN = (str, bool, type(None))  # always JSON; an int may be too big for 64 bits, a float may be NaN


def _checked_properties(properties: Mapping[str, JSON], what: str, name: str) -> dict[str, JSON]:
    """Refuse what the stores could not write: they encode with orjson (graph/records.py, canonical).

    The field named in an error is ``<what>[<name>].properties``, written only when there is one.
    """
    for k, v in properties.items():  # a column's type: plain values need no encoder
        if type(k) is not str or type(v) not in _PLAIN:
            break
    else:
        return dict(properties)
    field = f"{what}[{name}].properties"
    try:
        text = orjson.dumps(properties)
        if b"null" in text:  # orjson writes NaN and infinities as null: ask the strict encoder
            json.dumps(properties, allow_nan=False)
    except (TypeError, ValueError) as e:  # orjson.JSONEncodeError is a TypeError
        msg = f"{field}: not JSON: {e}"
        raise InvalidInput(msg, field=field) from e
    return dict(properties)
