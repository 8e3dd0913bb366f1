"""Query semantics, written once: every store answers lineage and path through this module.

A store only has to say, level by level, which edges leave a set of nodes (GraphReader);
the rules of the walk live here, so two stores cannot answer the same query differently.

The rules (DESIGN.md, "Queries"):
- breadth-first over flow edges, each node once, at most ``max_hops`` levels, no paths;
- a walk that starts at a run/version-level node stays at that level: walking upstream into
  an entity that has versions (a dataset, an index, a prompt, a job), it takes the version
  live at the time of the node it came from, and says so in a Resolution;
- an entity stands for its versions: walking downstream from an entity also walks into its
  versions (and a job into its runs), and from them on at run level.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from graph.edges import VERSION_EDGES
from graph.errors import NodeNotFound, QueryDeadlineExceeded
from graph.keys import RUN_LEVEL, VERSIONED_ENTITIES, Kind, NodeKey
from graph.query import MAX_HOPS, Direction, LineageQuery, TimeWindow
from graph.records import EdgeRecord, NodeRecord
from graph.results import LineageEdge, LineageNode, LineageResult, PathResult, Resolution

#: (the node the hop leaves from, the edge, the node at the edge's other end)
Hop = tuple[str, EdgeRecord, NodeRecord]


class GraphReader(Protocol):
    """What a store provides for traversal: nodes by id, and the edges around a set of nodes."""

    async def nodes(self, urns: Collection[str]) -> dict[str, NodeRecord]:
        """Return the records of those nodes that exist."""
        ...

    async def flow_hops(self, urns: Sequence[str], upstream: bool) -> list[Hop]:
        """Return flow edges into (upstream) or out of (downstream) these nodes."""
        ...

    async def version_hops(self, urns: Sequence[str]) -> list[Hop]:
        """Return the version edges (VERSION_OF, RUN_OF) into these entities."""
        ...


@dataclass(slots=True)
class _Visit:
    record: NodeRecord
    distance: int
    at_run_level: bool
    ref_time: float
    resolution: Resolution | None = None


def _node_ok(record: NodeRecord, window: TimeWindow) -> bool:
    if window.as_of is not None:
        return record.valid_at(window.as_of)
    return window.until is None or record.first_seen <= window.until


def _edge_ok(edge: EdgeRecord, window: TimeWindow) -> bool:
    if window.as_of is not None:
        return edge.valid_at(window.as_of)
    return edge.active_in(window.since, window.until)


class _Deadline:
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() > self.at


async def lineage(reader: GraphReader, query: LineageQuery) -> LineageResult:
    """Answer a lineage query; raise QueryDeadlineExceeded (with the partial result) when cut."""
    start = await _start(reader, query.start)
    deadline = _Deadline(query.deadline)
    visits: dict[str, _Visit] = {start.urn: _Visit(start, 0, start.kind in RUN_LEVEL, start.first_seen)}
    edges: dict[tuple[str, str, str, str, str, str], LineageEdge] = {}
    directions = [Direction.UPSTREAM, Direction.DOWNSTREAM] if query.direction is Direction.BOTH else [query.direction]
    cut = False
    for direction in directions:
        cut = await _walk(reader, start, direction is Direction.UPSTREAM, query, visits, edges, deadline) or cut
        if cut:
            break
    result = _page(start.urn, query, visits, edges, cut)
    if cut:
        raise QueryDeadlineExceeded(deadline.seconds or 0.0, result)
    return result


async def _start(reader: GraphReader, key: NodeKey) -> NodeRecord:
    found = await reader.nodes([key.urn])
    if key.urn not in found:
        raise NodeNotFound(key.urn)
    return found[key.urn]


async def _walk(
    reader: GraphReader,
    start: NodeRecord,
    upstream: bool,
    query: LineageQuery,
    visits: dict[str, _Visit],
    edges: dict[tuple[str, str, str, str, str, str], LineageEdge],
    deadline: _Deadline,
) -> bool:
    """Walk one direction breadth-first, merging into ``visits``; return True if the deadline cut it."""
    window = query.window
    seen = {start.urn}
    frontier = [_Visit(start, 0, start.kind in RUN_LEVEL, start.first_seen)]
    for depth in range(1, query.max_hops + 1):
        if not frontier:
            break
        if deadline.passed():
            return True
        state = {v.record.urn: v for v in frontier}
        steps = await _steps(reader, frontier, state, upstream, window)
        frontier = []
        for origin, edge, node, resolution in steps:
            if not _edge_ok(edge, window) or not _node_ok(node, window):
                continue
            src, dst = (node.urn, origin) if upstream else (origin, node.urn)
            if edge.type in VERSION_EDGES:  # an entity expanded into its version
                src, dst = node.urn, origin
            key = (*edge.ident, src, dst)
            if key not in edges:
                edges[key] = LineageEdge(edge, src, dst, resolution)
            if node.urn in seen:
                continue
            seen.add(node.urn)
            parent = state[origin]
            at_run_level = parent.at_run_level or node.kind in RUN_LEVEL
            ref = node.first_seen if node.kind in RUN_LEVEL else parent.ref_time
            visit = _Visit(node, depth, at_run_level, ref, resolution)
            frontier.append(visit)
            known = visits.get(node.urn)
            if known is None or depth < known.distance:
                visits[node.urn] = visit
    return False


async def _steps(
    reader: GraphReader,
    frontier: list[_Visit],
    state: dict[str, _Visit],
    upstream: bool,
    window: TimeWindow,
) -> list[tuple[str, EdgeRecord, NodeRecord, Resolution | None]]:
    """Return this level's hops, with entities resolved to versions where the rules say so."""
    urns = [v.record.urn for v in frontier]
    hops = await reader.flow_hops(urns, upstream)
    steps: list[tuple[str, EdgeRecord, NodeRecord, Resolution | None]] = []
    if not upstream:
        steps = [(origin, edge, node, None) for origin, edge, node in hops]
        entities = [v.record.urn for v in frontier if not v.at_run_level and v.record.kind in VERSIONED_ENTITIES]
        if entities:
            steps.extend((origin, edge, node, None) for origin, edge, node in await reader.version_hops(entities))
        return steps
    to_resolve: list[tuple[str, EdgeRecord, NodeRecord]] = []
    writers: dict[tuple[str, str, str], tuple[str, EdgeRecord, NodeRecord]] = {}
    for origin, edge, node in hops:
        visit = state[origin]
        if not visit.at_run_level:
            steps.append((origin, edge, node, None))
        elif node.kind in VERSIONED_ENTITIES:
            to_resolve.append((origin, edge, node))
        elif node.kind is Kind.RUN and visit.record.kind not in RUN_LEVEL:
            # An unversioned node (a feature view, a document) written by many runs: what stood
            # behind it at the time is the last run of each job that wrote it before then.
            if node.first_seen <= visit.ref_time:
                job = (origin, node.key.namespace, node.key.name)
                best = writers.get(job)
                if best is None or (node.first_seen, node.urn) > (best[2].first_seen, best[2].urn):
                    writers[job] = (origin, edge, node)
        else:
            steps.append((origin, edge, node, None))
    steps.extend((origin, edge, node, None) for origin, edge, node in writers.values())
    if to_resolve:
        steps.extend(await _resolve(reader, to_resolve, state, window))
        # Which route reaches a node first decides its note: make that independent of store order.
        steps.sort(key=lambda s: (s[2].urn, s[3] is not None, s[1].ident, s[0]))
    return steps


async def _resolve(
    reader: GraphReader,
    hops: list[tuple[str, EdgeRecord, NodeRecord]],
    state: dict[str, _Visit],
    window: TimeWindow,
) -> list[tuple[str, EdgeRecord, NodeRecord, Resolution | None]]:
    """Replace each entity by its version live at the time of the node that used it."""
    entities = sorted({node.urn for _, _, node in hops})
    versions: dict[str, list[NodeRecord]] = {}
    for entity_urn, edge, version in await reader.version_hops(entities):
        if _edge_ok(edge, window) and _node_ok(version, window):
            versions.setdefault(entity_urn, []).append(version)
    steps: list[tuple[str, EdgeRecord, NodeRecord, Resolution | None]] = []
    for origin, edge, entity in hops:
        at = state[origin].ref_time
        live = [v for v in versions.get(entity.urn, ()) if v.first_seen <= at]
        if live:
            chosen = max(live, key=lambda v: (v.first_seen, v.urn))
            steps.append((origin, edge, chosen, Resolution(entity.urn, at, found=True)))
        else:
            steps.append((origin, edge, entity, Resolution(entity.urn, at, found=False)))
    return steps


def _page(
    start: str,
    query: LineageQuery,
    visits: dict[str, _Visit],
    edges: dict[tuple[str, str, str, str, str, str], LineageEdge],
    cut: bool,
) -> LineageResult:
    kinds = query.kinds
    chosen = [v for v in visits.values() if kinds is None or v.record.kind in kinds or v.record.urn == start]
    chosen.sort(key=lambda v: (v.distance, v.record.urn))
    end = query.offset + query.limit
    page = chosen[query.offset : end]
    on_page = {v.record.urn for v in page}
    returned = on_page | {v.record.urn for v in chosen[: query.offset]}
    page_edges = [
        e for e in edges.values() if e.src in returned and e.dst in returned and (e.src in on_page or e.dst in on_page)
    ]
    page_edges.sort(key=lambda e: (e.src, e.record.type.value, e.dst, e.record.qualifier))
    counts = Counter(v.record.kind.value for v in chosen if v.record.urn != start)
    return LineageResult(
        start=start,
        nodes=[LineageNode(v.record, v.distance, v.resolution) for v in page],
        edges=page_edges,
        total=len(chosen),
        counts_by_kind=dict(sorted(counts.items())),
        is_partial=cut or end < len(chosen),
        deadline_exceeded=cut,
    )


async def path(
    reader: GraphReader,
    source: NodeKey,
    target: NodeKey,
    window: TimeWindow = TimeWindow(),
    max_hops: int = MAX_HOPS,
) -> PathResult | None:
    """Return a shortest flow path between two nodes (either way round), upstream end first."""
    a = await _start(reader, source)
    b = await _start(reader, target)
    if a.urn == b.urn:
        return PathResult([a], [])
    found = await _shortest(reader, a, b, window, max_hops)
    if found is None:
        found = await _shortest(reader, b, a, window, max_hops)
    return found


async def _shortest(
    reader: GraphReader, a: NodeRecord, b: NodeRecord, window: TimeWindow, max_hops: int
) -> PathResult | None:
    """Walk downstream from ``a`` until ``b``; ties go to the smallest ids, so stores agree."""
    parents: dict[str, tuple[str, LineageEdge] | None] = {a.urn: None}
    records = {a.urn: a}
    frontier = [_Visit(a, 0, a.kind in RUN_LEVEL, a.first_seen)]
    for _depth in range(max_hops):
        if not frontier:
            return None
        frontier.sort(key=lambda v: v.record.urn)
        state = {v.record.urn: v for v in frontier}
        steps = await _steps(reader, frontier, state, False, window)
        steps.sort(key=lambda s: (s[0], s[2].urn, s[1].ident))
        next_frontier = []
        for origin, edge, node, _ in steps:
            if node.urn in parents or not _edge_ok(edge, window) or not _node_ok(node, window):
                continue
            src, dst = (node.urn, origin) if edge.type in VERSION_EDGES else (origin, node.urn)
            parents[node.urn] = (origin, LineageEdge(edge, src, dst))
            records[node.urn] = node
            parent = state[origin]
            next_frontier.append(_Visit(node, 0, parent.at_run_level or node.kind in RUN_LEVEL, node.first_seen))
            if node.urn == b.urn:
                return _unwind(parents, records, b.urn)
        frontier = next_frontier
    return None


def _unwind(parents: dict[str, tuple[str, LineageEdge] | None], records: dict[str, NodeRecord], end: str) -> PathResult:
    nodes, hops = [records[end]], []
    step = parents[end]
    while step is not None:
        origin, edge = step
        hops.append(edge)
        nodes.append(records[origin])
        step = parents[origin]
    return PathResult(nodes[::-1], hops[::-1])
