"""Query semantics, written once: every store answers lineage and path through this module.

A store only has to say, level by level, which edges leave a set of nodes (GraphReader),
and hand over the full records of the nodes and edges on the page it returns; the rules of
the walk live here, so two stores cannot answer the same query differently.

The rules (DESIGN.md, "Queries"):
- breadth-first over flow edges, each node once, at most ``max_hops`` levels, no paths;
- a walk that starts at a run/version-level node stays at that level: walking upstream into
  an entity that has versions (a dataset, an index, a prompt, a job), it takes the version
  live at the time of the node it came from, and says so in a Resolution; an unversioned
  node written by many runs (a feature view) stands for the last run of each job before then;
- an entity stands for its versions: walking downstream from an entity also walks into its
  versions (and a job into its runs), and from them on at run level.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from graph.edges import VERSION_EDGES, EdgeType
from graph.errors import NodeNotFound, QueryDeadlineExceeded
from graph.keys import RUN_LEVEL, VERSIONED_ENTITIES, Kind, NodeKey
from graph.query import MAX_HOPS, Direction, LineageQuery, TimeWindow
from graph.records import EdgeRecord, NodeRecord
from graph.results import LineageEdge, LineageNode, LineageResult, PathResult, Resolution

EdgeIdent = tuple[str, str, str, str]


class NodeView(Protocol):
    """What traversal reads of a node."""

    @property
    def urn(self) -> str: ...
    @property
    def kind(self) -> Kind: ...
    @property
    def key(self) -> NodeKey: ...
    @property
    def first_seen(self) -> float: ...
    def valid_at(self, t: float) -> bool: ...


class EdgeView(Protocol):
    """What traversal reads of an edge."""

    @property
    def src(self) -> str: ...
    @property
    def dst(self) -> str: ...
    @property
    def type(self) -> EdgeType: ...
    @property
    def ident(self) -> EdgeIdent: ...
    def valid_at(self, t: float) -> bool: ...
    def active_in(self, since: float | None, until: float | None) -> bool: ...


#: (the node the hop leaves from, the edge, the node at the edge's other end)
Hop = tuple[str, EdgeView, NodeView]
#: a hop with the resolution that chose its far end, if one did
Step = tuple[str, EdgeView, NodeView, Resolution | None]


class GraphReader(Protocol):
    """What a store provides for traversal."""

    async def nodes(self, urns: Collection[str]) -> dict[str, NodeView]:
        """Return the views of those nodes that exist."""
        ...

    async def flow_hops(self, urns: Sequence[str], upstream: bool, skip: Collection[str] = ()) -> list[Hop]:
        """Return flow edges into (upstream) or out of (downstream) these nodes.

        Hops to nodes in ``skip`` may be left out (they change nothing; it only saves work).
        """
        ...

    async def version_hops(self, urns: Sequence[str], skip: Collection[str] = ()) -> list[Hop]:
        """Return the version edges (VERSION_OF, RUN_OF) into these entities (``skip`` as above)."""
        ...

    async def edges_among(self, urns: Collection[str], others: Collection[str]) -> list[EdgeView]:
        """Return the flow and version edges between a node of ``urns`` and one of ``others``."""
        ...

    async def hydrate(
        self, urns: Collection[str], idents: Collection[EdgeIdent]
    ) -> tuple[dict[str, NodeRecord], dict[EdgeIdent, EdgeRecord]]:
        """Return the full records of these nodes and edges (for the page a query returns)."""
        ...

    async def level(
        self,
        urns: Sequence[str],
        upstream: bool,
        versioned: Collection[str],
        skip: Collection[str] = (),
        bare: bool = False,
    ) -> tuple[list[Hop], list[Hop]]:
        """Return one level's flow hops and the version hops the rules need, in one read.

        Downstream: the version hops into the entities ``versioned``. Upstream: the version hops
        into every versioned entity (VERSIONED_ENTITIES) a flow hop reaches from a node of
        ``versioned``. ``skip`` as in flow_hops. ``bare``: nothing will be filtered by time, so
        the views may leave out last_seen and markers, and downstream the flow hops into one
        node may be cut to any one of them (which one came first is the store's order anyway).
        """
        ...

    async def page(
        self, urns: Collection[str], others: Collection[str], idents: Collection[EdgeIdent]
    ) -> tuple[dict[str, NodeRecord], list[EdgeRecord], dict[EdgeIdent, EdgeRecord]]:
        """Return, in one read, the full records of ``urns``, of edges_among(urns, others) and of ``idents``."""
        ...


@dataclass(slots=True)
class _Visit:
    node: NodeView
    distance: int
    at_run_level: bool
    ref_time: float
    resolution: Resolution | None = None


def _node_ok(node: NodeView, window: TimeWindow) -> bool:
    if window.as_of is not None:
        return node.valid_at(window.as_of)
    return window.until is None or node.first_seen <= window.until


def _edge_ok(edge: EdgeView, window: TimeWindow) -> bool:
    if window.as_of is not None:
        return edge.valid_at(window.as_of)
    return edge.active_in(window.since, window.until)


class _Deadline:
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() > self.at


def _visit(node: NodeView, distance: int = 0) -> _Visit:
    return _Visit(node, distance, node.kind in RUN_LEVEL, node.first_seen)


#: an edge whose upstream end was swapped for the version resolved from it: (edge, src, dst, how)
Resolved = tuple[EdgeView, str, str, Resolution]


async def lineage(reader: GraphReader, query: LineageQuery) -> LineageResult:
    """Answer a lineage query; raise QueryDeadlineExceeded (with the partial result) when cut."""
    start = await _start(reader, query.start)
    deadline = _Deadline(query.deadline)
    visits: dict[str, _Visit] = {start.urn: _visit(start)}
    resolved: list[Resolved] = []
    both = query.direction is Direction.BOTH
    directions = [Direction.UPSTREAM, Direction.DOWNSTREAM] if both else [query.direction]
    cut = False
    for direction in directions:
        cut = await _walk(reader, start, direction is Direction.UPSTREAM, query, visits, resolved, deadline)
        if cut:
            break
    result = await _page(reader, start.urn, query, visits, resolved, cut)
    if cut:
        raise QueryDeadlineExceeded(deadline.seconds or 0.0, result)
    return result


async def _start(reader: GraphReader, key: NodeKey) -> NodeView:
    found = await reader.nodes([key.urn])
    if key.urn not in found:
        raise NodeNotFound(key.urn)
    return found[key.urn]


async def _walk(
    reader: GraphReader,
    start: NodeView,
    upstream: bool,
    query: LineageQuery,
    visits: dict[str, _Visit],
    resolved: list[Resolved],
    deadline: _Deadline,
) -> bool:
    """Walk one direction breadth-first, merging into ``visits``; return True if the deadline cut it."""
    window = query.window
    filtered = not window.is_open
    seen = {start.urn}
    frontier = [_visit(start)]
    for depth in range(1, query.max_hops + 1):
        if not frontier:
            break
        if deadline.passed():
            return True
        state = {v.node.urn: v for v in frontier}
        try:
            steps = await _steps(reader, frontier, state, upstream, window, seen, bare=not filtered)
        except QueryDeadlineExceeded:  # the store's own timeout (a server-side transaction timeout)
            return True
        frontier = []
        for origin, edge, node, resolution in steps:
            if filtered and (not _edge_ok(edge, window) or not _node_ok(node, window)):
                continue
            urn = node.urn
            if resolution is not None and resolution.found:
                resolved.append((edge, urn, origin, resolution))
            if urn in seen:
                continue
            seen.add(urn)
            parent = state[origin]
            run_level = node.kind in RUN_LEVEL
            visit = _Visit(
                node,
                depth,
                parent.at_run_level or run_level,
                node.first_seen if run_level else parent.ref_time,
                resolution,
            )
            frontier.append(visit)
            known = visits.get(urn)
            if known is None or depth < known.distance:
                visits[urn] = visit
    return False


async def _steps(
    reader: GraphReader,
    frontier: list[_Visit],
    state: dict[str, _Visit],
    upstream: bool,
    window: TimeWindow,
    seen: Collection[str] = (),
    bare: bool = False,
) -> list[Step]:
    """Return this level's hops, with entities resolved to versions where the rules say so."""
    urns = [v.node.urn for v in frontier]
    if not upstream:
        # Downstream nothing is resolved, so hops back into visited nodes can be skipped at the source.
        entities = [v.node.urn for v in frontier if not v.at_run_level and v.node.kind in VERSIONED_ENTITIES]
        hops, version_hops = await reader.level(urns, upstream, entities, seen, bare)
        steps: list[Step] = [(origin, edge, node, None) for origin, edge, node in hops]
        steps.extend((o, e, n, None) for o, e, n in version_hops)
        return steps
    # The versions of the entities to resolve come in the same read as the hops that reach them.
    run_level = [v.node.urn for v in frontier if v.at_run_level]
    hops, version_hops = await reader.level(urns, upstream, run_level, (), bare)
    steps = []
    to_resolve: list[Hop] = []
    writers: dict[tuple[str, str, str], Hop] = {}
    for origin, edge, node in hops:
        visit = state[origin]
        if not visit.at_run_level:
            steps.append((origin, edge, node, None))
        elif node.kind in VERSIONED_ENTITIES:
            to_resolve.append((origin, edge, node))
        elif node.kind is Kind.RUN and visit.node.kind not in RUN_LEVEL:
            # An unversioned node (a feature view, a document) written by many runs: what stood
            # behind it at the time is the last run of each job that wrote it before then.
            if node.first_seen <= visit.ref_time:
                key = node.key
                job = (origin, key.namespace, key.name)
                best = writers.get(job)
                if best is None or (node.first_seen, node.urn) > (best[2].first_seen, best[2].urn):
                    writers[job] = (origin, edge, node)
        else:
            steps.append((origin, edge, node, None))
    steps.extend((origin, edge, node, None) for origin, edge, node in writers.values())
    if to_resolve:
        steps.extend(_resolve(version_hops, to_resolve, state, window))
        # Which route reaches a node first decides its note: make that independent of store order.
        steps.sort(key=lambda s: (s[2].urn, s[3] is not None, s[1].ident, s[0]))
    return steps


def _resolve(version_hops: list[Hop], hops: list[Hop], state: dict[str, _Visit], window: TimeWindow) -> list[Step]:
    """Replace each entity by its version live at the time of the node that used it."""
    versions: dict[str, list[NodeView]] = {}
    for entity_urn, edge, version in version_hops:
        if _edge_ok(edge, window) and _node_ok(version, window):
            versions.setdefault(entity_urn, []).append(version)
    steps: list[Step] = []
    for origin, edge, entity in hops:
        at = state[origin].ref_time
        live = [v for v in versions.get(entity.urn, ()) if v.first_seen <= at]
        if live:
            chosen = max(live, key=lambda v: (v.first_seen, v.urn))
            steps.append((origin, edge, chosen, Resolution(entity.urn, at, found=True)))
        else:
            steps.append((origin, edge, entity, Resolution(entity.urn, at, found=False)))
    return steps


async def _page(
    reader: GraphReader,
    start: str,
    query: LineageQuery,
    visits: dict[str, _Visit],
    resolved: list[Resolved],
    cut: bool,
) -> LineageResult:
    """Count everything, cut the page, and hydrate only what the page returns."""
    kinds = query.kinds
    chosen = [v for v in visits.values() if kinds is None or v.node.kind in kinds or v.node.urn == start]
    end = query.offset + query.limit
    # Only the first offset+limit nodes in (distance, id) order are needed: no full sort.
    head = heapq.nsmallest(end, chosen, key=lambda v: (v.distance, v.node.urn))
    page = head[query.offset :]
    on_page = {v.node.urn for v in page}
    returned = {v.node.urn for v in head}
    window = query.window
    shown = [r for r in resolved if r[1] in returned and r[2] in returned and (r[1] in on_page or r[2] in on_page)]
    nodes, among, full_edges = await reader.page(on_page, returned, {edge.ident for edge, _, _, _ in shown})
    found: dict[tuple[str, ...], tuple[EdgeView, str, str, Resolution | None]] = {}
    for record in among:
        meta = record.meta()
        if _edge_ok(meta, window):
            found.setdefault((*meta.ident, meta.src, meta.dst), (meta, meta.src, meta.dst, None))
            full_edges.setdefault(meta.ident, record)
    for edge, src, dst, via in shown:
        found.setdefault((*edge.ident, src, dst), (edge, src, dst, via))
    counts = Counter(v.node.kind for v in chosen)
    counts[visits[start].node.kind] -= 1  # the start is returned, but it is not its own impact
    return LineageResult(
        start=start,
        nodes=[LineageNode(nodes[v.node.urn], v.distance, v.resolution) for v in page],
        edges=[
            LineageEdge(full_edges[edge.ident], src, dst, via)
            for _, (edge, src, dst, via) in sorted(found.items(), key=_edge_order)
        ],
        total=len(chosen),
        counts_by_kind={kind.value: n for kind, n in sorted(counts.items()) if n > 0},
        is_partial=cut or end < len(chosen),
        deadline_exceeded=cut,
    )


def _edge_order(item: tuple[tuple[str, ...], object]) -> tuple[str, ...]:
    src_ident, type_, dst_ident, qualifier, src, dst = item[0]
    return (src, type_, dst, qualifier, src_ident, dst_ident)


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
        nodes, _ = await reader.hydrate([a.urn], [])
        return PathResult([nodes[a.urn]], [])
    found = await _shortest(reader, a, b, window, max_hops)
    if found is None:
        found = await _shortest(reader, b, a, window, max_hops)
    if found is None:
        return None
    urns, hops = found
    nodes, edges = await reader.hydrate(urns, [edge.ident for edge, _, _ in hops])
    return PathResult([nodes[u] for u in urns], [LineageEdge(edges[e.ident], s, d) for e, s, d in hops])


async def _shortest(
    reader: GraphReader, a: NodeView, b: NodeView, window: TimeWindow, max_hops: int
) -> tuple[list[str], list[tuple[EdgeView, str, str]]] | None:
    """Walk downstream from ``a`` until ``b``; ties go to the smallest ids, so stores agree."""
    parents: dict[str, tuple[str, EdgeView, str, str] | None] = {a.urn: None}
    frontier = [_visit(a)]
    for _depth in range(max_hops):
        if not frontier:
            return None
        frontier.sort(key=lambda v: v.node.urn)
        state = {v.node.urn: v for v in frontier}
        steps = await _steps(reader, frontier, state, False, window)
        steps.sort(key=lambda s: (s[0], s[2].urn, s[1].ident))
        next_frontier = []
        for origin, edge, node, _ in steps:
            if node.urn in parents or not _edge_ok(edge, window) or not _node_ok(node, window):
                continue
            src, dst = (node.urn, origin) if edge.type in VERSION_EDGES else (origin, node.urn)
            parents[node.urn] = (origin, edge, src, dst)
            parent = state[origin]
            next_frontier.append(_Visit(node, 0, parent.at_run_level or node.kind in RUN_LEVEL, node.first_seen))
            if node.urn == b.urn:
                return _unwind(parents, b.urn)
        frontier = next_frontier
    return None


def _unwind(
    parents: dict[str, tuple[str, EdgeView, str, str] | None], end: str
) -> tuple[list[str], list[tuple[EdgeView, str, str]]]:
    urns, hops = [end], []
    step = parents[end]
    while step is not None:
        origin, edge, src, dst = step
        hops.append((edge, src, dst))
        urns.append(origin)
        step = parents[origin]
    return urns[::-1], hops[::-1]
