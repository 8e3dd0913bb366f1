"""What a store keeps per node and per edge, and how a new sighting merges into it.

Every merge is commutative and idempotent (min, max, per-key last-writer-wins with a total
order on ties), so any arrival order of the same inputs gives the same records. Both stores
call these functions; neither has merge rules of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from graph.delta import Close, EdgeRef, EdgeUpsert, NodeUpsert
from graph.edges import EdgeType
from graph.keys import Kind, NodeKey, parse_key

JSON = Any
# A validity marker: (time, 1 for a close, 0 for an open). Closes sort after opens at one time.
Marker = tuple[float, int]


@dataclass(slots=True)
class Evidence:
    """The raw inputs that asserted something: the earliest, the latest, and how many."""

    first_id: str
    first_time: float
    last_id: str
    last_time: float
    count: int = 1

    def add(self, record_id: str, time: float) -> None:
        """Count one more asserting input."""
        if (time, record_id) < (self.first_time, self.first_id):
            self.first_id, self.first_time = record_id, time
        if (time, record_id) > (self.last_time, self.last_id):
            self.last_id, self.last_time = record_id, time
        self.count += 1


@dataclass(slots=True)
class NodeMeta:
    """What traversal needs of a node: kept in memory for every node, so kept small."""

    urn: str
    kind: Kind
    first_seen: float
    last_seen: float
    markers: list[Marker] | None = None
    row: int = 0  # where a store keeps the full record (0: nowhere yet)

    @property
    def key(self) -> NodeKey:
        """Return the node's key (parsed from its id on demand)."""
        return parse_key(self.urn)

    def valid_at(self, t: float) -> bool:
        """Return whether the node existed and was not closed at ``t``."""
        return self.first_seen <= t and _open_at(t, self.first_seen, self.last_seen, self.markers)


@dataclass(slots=True)
class EdgeMeta:
    """What traversal needs of an edge: kept in memory for every edge, so kept small."""

    src: str
    dst: str
    type: EdgeType
    qualifier: str
    first_seen: float
    last_seen: float
    markers: list[Marker] | None = None
    row: int = 0  # where a store keeps the full record (0: nowhere yet)

    @property
    def ident(self) -> tuple[str, str, str, str]:
        """Return (src, type, dst, qualifier), the edge's identity as text."""
        return (self.src, self.type, self.dst, self.qualifier)  # a StrEnum: equal to its text

    def valid_at(self, t: float) -> bool:
        """Return whether the edge had been seen by ``t`` and was not closed at ``t``."""
        return self.first_seen <= t and _open_at(t, self.first_seen, self.last_seen, self.markers)

    def active_in(self, since: float | None, until: float | None) -> bool:
        """Return whether the edge was seen in [since, until], or held by its validity then.

        A lineage edge counts as active while it is being observed (as DataHub's time filter
        does); only edges with an explicit validity (an alias) also count while merely valid.
        """
        if until is not None and self.first_seen > until:
            return False
        if since is None:
            return True
        return self.last_seen >= since or (bool(self.markers) and self.valid_at(since))


@dataclass(slots=True)
class NodeRecord:
    """A node as stored: key, merged properties, when it was seen, validity markers."""

    urn: str
    key: NodeKey
    first_seen: float
    last_seen: float
    properties: dict[str, JSON] = field(default_factory=dict)
    # Per property: (priority, time) of the sighting that set it.
    stamps: dict[str, tuple[int, float]] = field(default_factory=dict)
    markers: list[Marker] = field(default_factory=list)
    evidence: Evidence | None = None

    @property
    def kind(self) -> Kind:
        """Return the node's kind."""
        return self.key.kind

    def meta(self) -> NodeMeta:
        """Return the part traversal needs."""
        return NodeMeta(self.urn, self.key.kind, self.first_seen, self.last_seen, list(self.markers) or None)

    def valid_at(self, t: float) -> bool:
        """Return whether the node existed and was not closed at ``t``."""
        return self.meta().valid_at(t)


@dataclass(slots=True)
class EdgeRecord:
    """An edge as stored, with when it was seen, its validity and its evidence."""

    src: str
    type: EdgeType
    dst: str
    qualifier: str
    first_seen: float
    last_seen: float
    evidence: Evidence
    properties: dict[str, JSON] = field(default_factory=dict)
    stamps: dict[str, tuple[int, float]] = field(default_factory=dict)
    markers: list[Marker] = field(default_factory=list)

    @property
    def ident(self) -> tuple[str, str, str, str]:
        """Return (src, type, dst, qualifier), the edge's identity as text."""
        return (self.src, self.type, self.dst, self.qualifier)  # a StrEnum: equal to its text

    def meta(self) -> EdgeMeta:
        """Return the part traversal needs."""
        return EdgeMeta(
            self.src, self.dst, self.type, self.qualifier, self.first_seen, self.last_seen, list(self.markers) or None
        )

    def valid_at(self, t: float) -> bool:
        """Return whether the edge had been seen by ``t`` and was not closed at ``t``."""
        return self.meta().valid_at(t)


def _open_at(t: float, first: float, last: float, markers: list[Marker] | None) -> bool:
    """Decide validity at ``t`` from the latest marker at or before it.

    Sightings at first and last seen count as opens, so a closed edge seen again is open.
    """
    latest: Marker = (first, 0)
    if last <= t:
        latest = max(latest, (last, 0))
    for marker in markers or ():
        if marker[0] <= t and marker > latest:
            latest = marker
    return latest[1] == 0


def canonical(value: JSON) -> str:
    """Return the one JSON text of a value (sorted keys, no spaces), for hashing and ties."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def new_node(upsert: NodeUpsert, record_id: str) -> NodeRecord:
    """Return the record of a node seen for the first time."""
    record = NodeRecord(upsert.key.urn, upsert.key, upsert.time, upsert.time)
    if not upsert.implied:
        record.evidence = Evidence(record_id, upsert.time, record_id, upsert.time)
    _merge_properties(record.properties, record.stamps, upsert.properties, upsert.priority, upsert.time)
    return record


def merge_node(record: NodeRecord, upsert: NodeUpsert, record_id: str) -> None:
    """Merge another sighting of a node into its record."""
    record.first_seen = min(record.first_seen, upsert.time)
    record.last_seen = max(record.last_seen, upsert.time)
    if upsert.implied:
        return
    if record.evidence is None:
        record.evidence = Evidence(record_id, upsert.time, record_id, upsert.time)
    else:
        record.evidence.add(record_id, upsert.time)
    _merge_properties(record.properties, record.stamps, upsert.properties, upsert.priority, upsert.time)


def _merge_properties(
    properties: dict[str, JSON],
    stamps: dict[str, tuple[int, float]],
    new: Mapping[str, JSON],
    priority: int,
    time: float,
) -> None:
    """Keep, per key, the value of the highest (priority, time); on a tie, the larger JSON."""
    for name, value in new.items():
        stamp = (priority, time)
        known = stamps.get(name)
        if known is None or stamp > known or (stamp == known and canonical(value) > canonical(properties[name])):
            stamps[name] = stamp
            properties[name] = value


def new_edge(upsert: EdgeUpsert, record_id: str) -> EdgeRecord:
    """Return the record of an edge seen for the first time."""
    ref = upsert.ref
    record = EdgeRecord(
        ref.src.urn,
        ref.type,
        ref.dst.urn,
        ref.qualifier,
        upsert.time,
        upsert.time,
        Evidence(record_id, upsert.time, record_id, upsert.time),
    )
    _merge_properties(record.properties, record.stamps, upsert.properties, 0, upsert.time)
    if upsert.opens:
        record.markers.append((upsert.time, 0))
    return record


def merge_edge(record: EdgeRecord, upsert: EdgeUpsert, record_id: str) -> None:
    """Merge another sighting of an edge into its record."""
    if upsert.time < record.first_seen:
        record.first_seen = upsert.time
    if upsert.time > record.last_seen:
        record.last_seen = upsert.time
    _merge_properties(record.properties, record.stamps, upsert.properties, 0, upsert.time)
    record.evidence.add(record_id, upsert.time)
    if upsert.opens:
        _add_marker(record.markers, (upsert.time, 0))


def apply_close(record: NodeRecord | EdgeRecord, close: Close) -> None:
    """Record that a node or edge stopped being true at the close's time."""
    _add_marker(record.markers, (close.time, 1))


def _add_marker(markers: list[Marker], marker: Marker) -> None:
    if marker not in markers:
        markers.append(marker)
        markers.sort()


def edge_ident(ref: EdgeRef) -> tuple[str, str, str, str]:
    """Return the text identity of an edge reference."""
    return ref.ident


def node_to_row(record: NodeRecord) -> dict[str, JSON]:
    """Return a node record as plain JSON-able values, for storage."""
    ev = record.evidence
    return {
        "urn": record.urn,
        "kind": record.key.kind.value,
        "first_seen": record.first_seen,
        "last_seen": record.last_seen,
        "properties": canonical(record.properties),
        "stamps": canonical(record.stamps),
        "markers": canonical(record.markers) if record.markers else None,
        "evidence": canonical([ev.first_id, ev.first_time, ev.last_id, ev.last_time, ev.count]) if ev else None,
    }


def node_from_row(row: dict[str, JSON]) -> NodeRecord:
    """Rebuild a node record from its stored values."""
    record = NodeRecord(row["urn"], parse_key(row["urn"]), row["first_seen"], row["last_seen"])
    record.properties = orjson.loads(row["properties"])
    record.stamps = {k: tuple(v) for k, v in orjson.loads(row["stamps"]).items()}
    if row.get("markers"):
        record.markers = [tuple(m) for m in orjson.loads(row["markers"])]
    if row.get("evidence"):
        record.evidence = Evidence(*orjson.loads(row["evidence"]))
    return record


def edge_to_row(record: EdgeRecord) -> dict[str, JSON]:
    """Return an edge record as plain JSON-able values, for storage."""
    ev = record.evidence
    return {
        "src": record.src,
        "type": record.type.value,
        "dst": record.dst,
        "qualifier": record.qualifier,
        "first_seen": record.first_seen,
        "last_seen": record.last_seen,
        "ev_first": ev.first_id,
        "ev_first_time": ev.first_time,
        "ev_last": ev.last_id,
        "ev_last_time": ev.last_time,
        "ev_count": ev.count,
        "properties": canonical([record.properties, record.stamps]) if record.properties else None,
        "markers": canonical(record.markers) if record.markers else None,
    }


def edge_from_row(row: dict[str, JSON]) -> EdgeRecord:
    """Rebuild an edge record from its stored values."""
    properties, stamps = orjson.loads(row["properties"]) if row.get("properties") else ({}, {})
    return EdgeRecord(
        row["src"],
        EdgeType(row["type"]),
        row["dst"],
        row["qualifier"],
        row["first_seen"],
        row["last_seen"],
        Evidence(
            row["ev_first"],
            row["ev_first_time"],
            row["ev_last"],
            row["ev_last_time"],
            row["ev_count"],
        ),
        properties,
        {k: tuple(v) for k, v in stamps.items()},
        [tuple(m) for m in orjson.loads(row["markers"])] if row.get("markers") else [],
    )
