"""MemoryStore: the graph's shape in a networkx DiGraph, its full records in SQLite.

SQLite holds everything (journal, full node and edge records) and is the truth. The DiGraph
holds what traversal needs and nothing more, so a million nodes fit in a few GB: each node's
entry is a NodeMeta, and each adjacency entry (``graph._succ[u][v]``, the same object in
``graph._pred[v][u]``) is a tuple of EdgeMeta, one per edge type between the two nodes.
networkx algorithms that read adjacency (BFS, shortest paths) work on it unchanged.

``apply`` reads the full records it touches (from its cache of recently written records, else
from SQLite), merges in Python (graph/records.py), writes journal and rows in one transaction
and only then updates memory: a failed write leaves the graph as it was and empties the cache.
Calls run on the caller's event loop thread, one at a time.
"""

from __future__ import annotations

import itertools
import json
import operator
import sys
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import networkx as nx

from graph import collector, traversal
from graph.delta import NodeUpsert
from graph.edges import FLOW_EDGES, VERSION_EDGES, EdgeType
from graph.journal import ChainReport, DeadLetter, JournalEntry, JournalRecord, chain, verify_chain
from graph.keys import VERSIONED_ENTITIES, Kind, NodeKey
from graph.memory.sqlite import EDGE_COLUMNS, NODE_COLUMNS, SqliteFile
from graph.merging import merge_batch, touched
from graph.query import MAX_HOPS, LineageQuery, TimeWindow
from graph.records import (
    EdgeMeta,
    EdgeRecord,
    NodeMeta,
    NodeRecord,
    edge_from_row,
    edge_to_row,
    node_from_row,
    node_to_row,
)
from graph.results import LineageResult, PathResult, SearchResult
from graph.store import Ingested, Progress, Projector, id_needle, rank_matches
from graph.traversal import EdgeIdent, EdgeView, Hop, NodeView

_REPLAY_CHUNK = 2000
# Records kept parsed after a write, so the next sighting of a hot node or edge (a table every
# run reads, its columns) merges without a read and a JSON parse. Bounded: a dataset's record
# holds its raw facets, a few KB.
_CACHED_NODES = 20_000
_CACHED_EDGES = 100_000
# A record's stored values in column order, after the row id.
_NODE_VALUES = operator.itemgetter(*NODE_COLUMNS[1:])
_EDGE_VALUES = operator.itemgetter(*EDGE_COLUMNS[1:])
K = TypeVar("K")
V = TypeVar("V")
_KINDS = {k.value: k for k in Kind}
_TYPES = {t.value: t for t in EdgeType}


class MemoryStore:
    """The embedded store."""

    def __init__(self, data_dir: Path | str, *, synchronous: str = "NORMAL", busy_timeout: float = 5.0) -> None:
        collector.tune()
        self.data_dir = Path(data_dir)
        self.file = SqliteFile(self.data_dir / "lineage.sqlite", synchronous=synchronous, busy_timeout=busy_timeout)
        self.graph = nx.DiGraph()
        self._head = self.file.head()
        self._last_node_row, self._last_edge_row = self.file.last_rows()
        self._edge_rows: dict[EdgeIdent, int] = {}  # rows of the known edges an apply is merging into
        self._versions: dict[str, set[str]] = {}  # entity -> its versions (and a job -> its runs)
        # Full records as last written, oldest first (the only writer is this object).
        self._node_cache: dict[str, NodeRecord] = {}
        self._edge_cache: dict[EdgeIdent, EdgeRecord] = {}
        self._load()

    # -- the in-memory shape -----------------------------------------------------------------

    def _load(self) -> None:
        """Rebuild the in-memory shape from SQLite (ids interned: one string per node)."""
        with collector.loading():
            graph = nx.DiGraph()
            self._versions = {}
            nodes, succ, pred = graph._node, graph._succ, graph._pred
            intern = sys.intern
            for row, urn, kind, first, last, markers in self.file.node_metas():
                urn = intern(urn)
                nodes[urn] = NodeMeta(urn, _KINDS[kind], first, last, _markers(markers), row)
                succ[urn], pred[urn] = {}, {}
            for row, src, type_, dst, qualifier, first, last, markers in self.file.edge_metas():
                src, dst = intern(src), intern(dst)
                self._link(graph, EdgeMeta(src, dst, _TYPES[type_], qualifier, first, last, _markers(markers), row))
            self.graph = graph

    def _link(self, graph: nx.DiGraph, meta: EdgeMeta) -> None:
        """Put an edge into adjacency, replacing the one with the same identity if present."""
        if meta.type in VERSION_EDGES:
            versions = self._versions.setdefault(meta.dst, set())
            versions.add(meta.src)
        succ_u = graph._succ[meta.src]
        bundle: tuple[EdgeMeta, ...] | None = succ_u.get(meta.dst)
        if bundle is None:  # the common case: the first edge between the two
            succ_u[meta.dst] = graph._pred[meta.dst][meta.src] = (meta,)
            return
        same = [i for i, e in enumerate(bundle) if e.type is meta.type and e.qualifier == meta.qualifier]
        bundle = (*bundle[: same[0]], meta, *bundle[same[0] + 1 :]) if same else (*bundle, meta)
        succ_u[meta.dst] = bundle
        graph._pred[meta.dst][meta.src] = bundle

    def _add_node(self, meta: NodeMeta) -> None:
        graph = self.graph
        if meta.urn in graph._node:
            graph._node[meta.urn] = meta
        else:
            urn = sys.intern(meta.urn)
            meta.urn = urn
            graph._node[urn] = meta
            graph._succ[urn], graph._pred[urn] = {}, {}

    # -- writing -----------------------------------------------------------------------------

    async def apply(self, batch: Sequence[Ingested]) -> list[bool]:
        """Journal and apply each input in one transaction; False marks an input already kept."""
        ids = [item.entry.id for item in batch]
        known = self.file.known_ids(ids)
        fresh: list[Ingested] = []
        outcome = []
        for item, rid in zip(batch, ids, strict=True):
            is_new = rid not in known
            outcome.append(is_new)
            if is_new:
                known.add(rid)
                fresh.append(item)
        if not fresh:
            return outcome
        records = chain((item.entry for item in fresh), *self._head)
        try:
            nodes, edges = self._merge_all(fresh)
            self._write(records, nodes, edges)
        except BaseException:
            self._forget()  # the merge changed cached records in place: they are no longer what is stored
            raise
        self._head = (records[-1].seq, records[-1].record_hash)
        return outcome

    def _forget(self) -> None:
        self._node_cache.clear()
        self._edge_cache.clear()

    def _remember(self, nodes: dict[str, NodeRecord], edges: dict[EdgeIdent, EdgeRecord]) -> None:
        """Keep the records just written, the most recent last; drop the oldest beyond the bound."""
        _keep_newest(self._node_cache, nodes, _CACHED_NODES)
        _keep_newest(self._edge_cache, edges, _CACHED_EDGES)

    def _write(
        self, records: Sequence[JournalRecord], nodes: dict[str, NodeRecord], edges: dict[EdgeIdent, EdgeRecord]
    ) -> None:
        """Write journal records and merged rows in one transaction, then bring memory up to them."""
        node_metas = [n.meta() for n in nodes.values()]
        edge_metas = [e.meta() for e in edges.values()]
        next_node, next_edge = self._last_node_row, self._last_edge_row
        for nmeta in node_metas:
            known = self.graph._node.get(nmeta.urn)
            if known is not None:
                nmeta.row = known.row
            else:
                next_node += 1
                nmeta.row = next_node
        for emeta, record in zip(edge_metas, edges.values(), strict=True):
            row = self._edge_rows.get(record.ident)
            if row is not None:
                emeta.row = row
            else:
                next_edge += 1
                emeta.row = next_edge
        node_rows = [(m.row, *_NODE_VALUES(node_to_row(n))) for n, m in zip(nodes.values(), node_metas, strict=True)]
        edge_rows = [(m.row, *_EDGE_VALUES(edge_to_row(e))) for e, m in zip(edges.values(), edge_metas, strict=True)]
        self.file.write(records, node_rows, edge_rows)
        self._last_node_row, self._last_edge_row = next_node, next_edge
        for nmeta in node_metas:
            self._add_node(nmeta)
        graph_nodes = self.graph._node
        for emeta in edge_metas:
            emeta.src, emeta.dst = graph_nodes[emeta.src].urn, graph_nodes[emeta.dst].urn  # share the interned ids
            self._link(self.graph, emeta)
        self._remember(nodes, edges)

    def _merge_all(self, items: Sequence[Ingested]) -> tuple[dict[str, NodeRecord], dict[EdgeIdent, EdgeRecord]]:
        """Merge every item's delta into full records, read from SQLite where they exist."""
        graph_nodes, node_cache, edge_cache = self.graph._node, self._node_cache, self._edge_cache
        node_keys, edge_keys = touched(items, self._changes_nothing)
        nodes = {u: node_cache[u] for u in node_keys if u in node_cache}
        node_ids = [graph_nodes[u].row for u in node_keys if u in graph_nodes and u not in nodes]
        nodes.update((row["urn"], node_from_row(row)) for row in self.file.node_rows(node_ids))
        known = [meta for meta in map(self._edge_meta, edge_keys) if meta is not None]
        self._edge_rows = {meta.ident: meta.row for meta in known}
        edges = {m.ident: edge_cache[m.ident] for m in known if m.ident in edge_cache}
        missing = [m.row for m in known if m.ident not in edges]
        edges.update((e.ident, e) for e in map(edge_from_row, self.file.edge_rows(missing)))
        merge_batch(items, nodes, edges, self._changes_nothing)
        return nodes, edges

    def _changes_nothing(self, upsert: NodeUpsert) -> bool:
        """Return whether an implied mention falls inside what is already known of the node."""
        if not upsert.implied:
            return False
        meta = self.graph._node.get(upsert.key.urn)
        return meta is not None and meta.first_seen <= upsert.time <= meta.last_seen

    def _edge_meta(self, ident: EdgeIdent) -> EdgeMeta | None:
        src, type_, dst, qualifier = ident
        bundle: tuple[EdgeMeta, ...] = self.graph._succ.get(src, {}).get(dst, ())
        return next((m for m in bundle if m.type == type_ and m.qualifier == qualifier), None)

    async def reject(self, source: str, raw: str, reason: str, received_at: float) -> DeadLetter:
        """Keep an input that was refused, with the reason."""
        return self.file.add_dead_letter(source, raw, reason, received_at)

    async def replay(self, project: Projector, progress: Progress | None = None) -> int:
        """Drop the graph and rebuild it from the journal; return how many records were applied."""
        self.file.clear_graph()
        self._forget()
        self.graph = nx.DiGraph()
        self._versions = {}
        self._last_node_row = self._last_edge_row = 0
        applied, after = 0, 0
        while True:
            records = self.file.journal(after, _REPLAY_CHUNK)
            if not records:
                return applied
            items = []
            for record in records:
                delta = project(record)
                if delta is not None:
                    items.append(Ingested(JournalEntry(record.source, record.raw, record.received_at), delta))
            nodes, edges = self._merge_all(items)
            self._write([], nodes, edges)
            applied += len(items)
            after = records[-1].seq
            if progress is not None:
                progress(len(records))

    # -- reading: traversal (GraphReader) ----------------------------------------------------

    async def nodes(self, urns: Collection[str]) -> dict[str, NodeView]:
        """Return the in-memory views of those nodes that exist."""
        graph_nodes = self.graph._node
        return {u: graph_nodes[u] for u in urns if u in graph_nodes}

    async def flow_hops(self, urns: Sequence[str], upstream: bool, skip: Collection[str] = ()) -> list[Hop]:
        """Return flow edges into (upstream) or out of (downstream) these nodes, except to ``skip``."""
        return self._hops(self.graph._pred if upstream else self.graph._succ, urns, FLOW_EDGES, skip)

    async def version_hops(self, urns: Sequence[str], skip: Collection[str] = ()) -> list[Hop]:
        """Return the version edges into these entities, except from ``skip``."""
        pred, graph_nodes = self.graph._pred, self.graph._node
        hops: list[Hop] = []
        for urn in urns:
            # Through the version index: an index's many documents are not walked to find its builds.
            for version in self._versions.get(urn, ()):
                if version not in skip:
                    hops.extend((urn, e, graph_nodes[version]) for e in pred[urn][version] if e.type in VERSION_EDGES)
        return hops

    def _hops(
        self,
        adjacency: dict[str, dict[str, tuple[EdgeMeta, ...]]],
        urns: Sequence[str],
        types: frozenset[EdgeType],
        skip: Collection[str],
    ) -> list[Hop]:
        graph_nodes = self.graph._node
        hops: list[Hop] = []
        append = hops.append
        for urn in urns:
            for other, bundle in adjacency[urn].items():
                if other in skip:
                    continue
                for edge in bundle:
                    if edge.type in types:
                        append((urn, edge, graph_nodes[other]))
        return hops

    async def edges_among(self, urns: Collection[str], others: Collection[str]) -> list[EdgeView]:
        """Return the flow and version edges between a node of ``urns`` and one of ``others``."""
        wanted = FLOW_EDGES | VERSION_EDGES
        others = others if isinstance(others, set | frozenset) else set(others)
        found: list[EdgeView] = []
        for urn in urns:
            for adjacency in (self.graph._succ[urn], self.graph._pred[urn]):
                # A hub (a model every answer used) has more neighbours than a page has nodes.
                if len(adjacency) > len(others):
                    bundles = [adjacency[o] for o in others if o in adjacency]
                else:
                    bundles = [b for o, b in adjacency.items() if o in others]
                for bundle in bundles:
                    found.extend(e for e in bundle if e.type in wanted)
        return found

    async def hydrate(
        self, urns: Collection[str], idents: Collection[EdgeIdent]
    ) -> tuple[dict[str, NodeRecord], dict[EdgeIdent, EdgeRecord]]:
        """Return the full records of these nodes and edges from SQLite."""
        graph_nodes = self.graph._node
        node_ids = [graph_nodes[u].row for u in urns if u in graph_nodes]
        nodes = {row["urn"]: node_from_row(row) for row in self.file.node_rows(node_ids)}
        edge_ids = [meta.row for meta in map(self._edge_meta, idents) if meta is not None]
        edges = {e.ident: e for e in map(edge_from_row, self.file.edge_rows(edge_ids))}
        return nodes, edges

    async def level(
        self,
        urns: Sequence[str],
        upstream: bool,
        versioned: Collection[str],
        skip: Collection[str] = (),
        bare: bool = False,
    ) -> tuple[list[Hop], list[Hop]]:
        """Return one level's flow hops and the version hops the rules need (``bare`` changes nothing here)."""
        hops = await self.flow_hops(urns, upstream, skip)
        if not upstream:
            return hops, await self.version_hops(list(versioned), skip) if versioned else []
        wanted = versioned if isinstance(versioned, set | frozenset) else set(versioned)
        entities = sorted({n.urn for o, _, n in hops if o in wanted and n.kind in VERSIONED_ENTITIES})
        return hops, await self.version_hops(entities) if entities else []

    async def page(
        self, urns: Collection[str], others: Collection[str], idents: Collection[EdgeIdent]
    ) -> tuple[dict[str, NodeRecord], list[EdgeRecord], dict[EdgeIdent, EdgeRecord]]:
        """Return the full records of ``urns``, of the edges among them and ``others``, and of ``idents``."""
        among = await self.edges_among(urns, others)
        nodes, edges = await self.hydrate(urns, {*idents, *(e.ident for e in among)})
        return nodes, [edges[e.ident] for e in among], {i: edges[i] for i in idents if i in edges}

    async def lineage(self, query: LineageQuery) -> LineageResult:
        """Answer a lineage query."""
        return await traversal.lineage(self, query)

    async def path(
        self, source: NodeKey, target: NodeKey, window: TimeWindow = TimeWindow(), max_hops: int = MAX_HOPS
    ) -> PathResult | None:
        """Explain how two nodes are connected."""
        return await traversal.path(self, source, target, window, max_hops)

    # -- reading: everything else ------------------------------------------------------------

    async def get(self, urns: Collection[str]) -> dict[str, NodeRecord]:
        """Return the full records of the nodes that exist among these ids."""
        nodes, _ = await self.hydrate(urns, ())
        return nodes

    async def edges_of(
        self, urns: Collection[str], types: Collection[EdgeType], *, incoming: bool, newest: int | None = None
    ) -> list[EdgeRecord]:
        """Return the edges of these types into (incoming) or out of these nodes, from SQLite."""
        adjacency = self.graph._pred if incoming else self.graph._succ
        wanted = frozenset(types)
        rows: list[int] = []
        for urn in dict.fromkeys(urns):
            metas = [e for bundle in adjacency.get(urn, {}).values() for e in bundle if e.type in wanted]
            if newest is not None and len(metas) > newest:
                # Only the page is read from SQLite: a job with a million runs stays cheap.
                metas.sort(key=lambda e: (-e.first_seen, e.src if incoming else e.dst))
                metas = metas[: max(newest, 0)]
            rows.extend(e.row for e in metas)
        return [edge_from_row(r) for r in self.file.edge_rows(rows)] if rows else []

    async def search(
        self, text: str, kinds: Collection[Kind] | None = None, limit: int = 20, offset: int = 0
    ) -> SearchResult:
        """Find nodes by name or namespace, best match first."""
        ranked = rank_matches(self.file.search(id_needle(text), [k.value for k in kinds] if kinds else None), text)
        page = ranked[offset : offset + limit]
        found = await self.get(page)
        return SearchResult([found[u] for u in page], len(ranked))

    async def export(self) -> tuple[list[NodeRecord], list[EdgeRecord]]:
        """Return every node and edge."""
        return [node_from_row(r) for r in self.file.node_rows()], [edge_from_row(r) for r in self.file.edge_rows()]

    async def events(self, ids: Collection[str]) -> dict[str, JournalRecord]:
        """Return journal records by id."""
        return self.file.journal_by_id(list(ids))

    async def journal(self, after_seq: int = 0, limit: int = 1000) -> list[JournalRecord]:
        """Return journal records in order, after a position."""
        return self.file.journal(after_seq, limit)

    async def head(self) -> tuple[int, str]:
        """Return the journal's last position and its hash."""
        return self._head

    async def verify(self, upto: int | None = None, progress: Progress | None = None) -> ChainReport:
        """Check the journal's hash chain."""

        def records() -> Iterator[JournalRecord]:
            after = 0
            while True:
                page = self.file.journal(after, 5000)
                if not page:
                    return
                yield from page
                if progress is not None:
                    progress(len(page))
                after = page[-1].seq

        return verify_chain(records(), upto=upto)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Return the most recent refused inputs."""
        return self.file.dead_letters(limit)

    async def close(self) -> None:
        """Close the SQLite file."""
        self.file.close()

    def stats(self) -> dict[str, int]:
        """Return node, edge and journal counts."""
        edges = sum(len(bundle) for adjacency in self.graph._succ.values() for bundle in adjacency.values())
        return {"nodes": len(self.graph._node), "edges": edges, "journal": self._head[0]}


def _keep_newest(cache: dict[K, V], written: dict[K, V], bound: int) -> None:
    for key, record in written.items():
        cache.pop(key, None)  # re-inserted: the order of a dict is the order of last writes
        cache[key] = record
    for key in list(itertools.islice(cache, max(0, len(cache) - bound))):
        del cache[key]


def _markers(text: str | None) -> list[tuple[float, int]] | None:
    return [(float(t), int(c)) for t, c in json.loads(text)] if text else None
