"""MemoryStore: the graph in a networkx DiGraph, durable in SQLite under a data folder.

SQLite is the truth; the DiGraph is rebuilt from it on open. An ``apply`` merges into the
in-memory records, writes the journal and the touched rows in one transaction, and only
then returns; if the write fails, the touched records are read back from SQLite, so memory
never holds what disk does not. Everything runs on the caller's event loop thread, one
call at a time, so readers never see a half-applied delta.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

import networkx as nx

from graph import traversal
from graph.delta import EdgeRef, EdgeUpsert, NodeUpsert
from graph.edges import FLOW_EDGES, VERSION_EDGES
from graph.journal import ChainReport, DeadLetter, JournalEntry, JournalRecord, chain, verify_chain
from graph.keys import Kind, NodeKey
from graph.memory.sqlite import SqliteFile
from graph.query import MAX_HOPS, LineageQuery, TimeWindow
from graph.records import (
    EdgeRecord,
    NodeRecord,
    apply_close,
    edge_from_row,
    edge_ident,
    edge_to_row,
    merge_edge,
    merge_node,
    new_edge,
    new_node,
    node_from_row,
    node_to_row,
)
from graph.results import LineageResult, PathResult, SearchResult
from graph.store import Ingested, Progress, Projector, search_rank
from graph.traversal import Hop

EdgeIdent = tuple[str, str, str, str]
_REPLAY_CHUNK = 2000


class MemoryStore:
    """The embedded store."""

    def __init__(self, data_dir: Path | str, *, synchronous: str = "NORMAL") -> None:
        self.data_dir = Path(data_dir)
        self.file = SqliteFile(self.data_dir / "lineage.sqlite", synchronous=synchronous)
        self.graph = nx.DiGraph()
        self._head = self.file.head()
        self._load()

    # -- opening -----------------------------------------------------------------------------

    def _load(self) -> None:
        """Rebuild the in-memory graph from SQLite."""
        graph = nx.DiGraph()
        add_node = graph.add_node
        for row in self.file.node_rows():
            record = node_from_row(row)
            add_node(record.urn, r=record)
        succ = graph._succ
        for row in self.file.edge_rows():
            edge = edge_from_row(row)
            self._link(graph, succ, edge)
        self.graph = graph

    @staticmethod
    def _link(graph: nx.DiGraph, succ: dict[str, dict[str, dict[EdgeIdent, EdgeRecord]]], edge: EdgeRecord) -> None:
        bundle = succ.get(edge.src, {}).get(edge.dst)
        if bundle is None:
            graph.add_edge(edge.src, edge.dst)
            bundle = succ[edge.src][edge.dst]
        bundle[edge.ident] = edge

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
        touched_nodes: dict[str, NodeRecord] = {}
        touched_edges: dict[EdgeIdent, EdgeRecord] = {}
        created_nodes: list[str] = []
        created_edges: list[EdgeRecord] = []
        try:
            for item in fresh:
                self._merge(item, touched_nodes, touched_edges, created_nodes, created_edges)
            self.file.write(
                records,
                (node_to_row(r) for r in touched_nodes.values()),
                (edge_to_row(e) for e in touched_edges.values()),
            )
        except BaseException:
            self._restore(touched_nodes, touched_edges, created_nodes, created_edges)
            raise
        self._head = (records[-1].seq, records[-1].record_hash)
        return outcome

    def _merge(
        self,
        item: Ingested,
        touched_nodes: dict[str, NodeRecord],
        touched_edges: dict[EdgeIdent, EdgeRecord],
        created_nodes: list[str],
        created_edges: list[EdgeRecord],
    ) -> None:
        rid = item.entry.id
        nodes = self.graph._node
        for upsert in item.delta.nodes:
            urn = upsert.key.urn
            attrs = nodes.get(urn)
            if attrs is None:
                record = new_node(upsert, rid)
                self.graph.add_node(urn, r=record)
                created_nodes.append(urn)
            else:
                record = attrs["r"]
                merge_node(record, upsert, rid)
            touched_nodes[urn] = record
        succ = self.graph._succ
        for eu in item.delta.edges:
            ident = edge_ident(eu.ref)
            edge = succ.get(ident[0], {}).get(ident[2], {}).get(ident)
            if edge is None:
                edge = new_edge(eu, rid)
                self._link(self.graph, succ, edge)
                created_edges.append(edge)
            else:
                merge_edge(edge, eu, rid)
            touched_edges[ident] = edge
        for close in item.delta.closes:
            target = close.target
            if isinstance(target, NodeKey):
                record = self._node_for_close(target, close.time, rid, created_nodes)
                apply_close(record, close)
                touched_nodes[record.urn] = record
            else:
                edge = self._edge_for_close(target, close.time, rid, touched_nodes, created_nodes, created_edges)
                apply_close(edge, close)
                touched_edges[edge.ident] = edge

    def _node_for_close(self, key: NodeKey, at: float, rid: str, created: list[str]) -> NodeRecord:
        attrs = self.graph._node.get(key.urn)
        if attrs is not None:
            record: NodeRecord = attrs["r"]
            return record
        # A close that arrives before the sighting it ends is kept all the same.
        record = new_node(NodeUpsert(key, at), rid)
        self.graph.add_node(key.urn, r=record)
        created.append(key.urn)
        return record

    def _edge_for_close(
        self,
        ref: EdgeRef,
        at: float,
        rid: str,
        touched_nodes: dict[str, NodeRecord],
        created_nodes: list[str],
        created_edges: list[EdgeRecord],
    ) -> EdgeRecord:
        ident = edge_ident(ref)
        known: EdgeRecord | None = self.graph._succ.get(ident[0], {}).get(ident[2], {}).get(ident)
        if known is not None:
            return known
        for key in (ref.src, ref.dst):
            touched_nodes[key.urn] = self._node_for_close(key, at, rid, created_nodes)
        edge = new_edge(EdgeUpsert(ref, at), rid)
        self._link(self.graph, self.graph._succ, edge)
        created_edges.append(edge)
        return edge

    def _restore(
        self,
        touched_nodes: dict[str, NodeRecord],
        touched_edges: dict[EdgeIdent, EdgeRecord],
        created_nodes: list[str],
        created_edges: list[EdgeRecord],
    ) -> None:
        """Undo in-memory merges after a failed write by reading the touched rows back."""
        for edge in created_edges:
            bundle = self.graph._succ[edge.src][edge.dst]
            bundle.pop(edge.ident, None)
            if not bundle:
                self.graph.remove_edge(edge.src, edge.dst)
        self.graph.remove_nodes_from(created_nodes)
        for row in self.file.node_rows([u for u in touched_nodes if u in self.graph]):
            self.graph._node[row["urn"]]["r"] = node_from_row(row)
        for ident in touched_edges:
            edge_row = self.file.edge_row(ident)
            if edge_row is not None:
                self.graph._succ[ident[0]][ident[2]][ident] = edge_from_row(edge_row)

    async def reject(self, source: str, raw: str, reason: str, received_at: float) -> DeadLetter:
        """Keep an input that was refused, with the reason."""
        return self.file.add_dead_letter(source, raw, reason, received_at)

    async def replay(self, project: Projector, progress: Progress | None = None) -> int:
        """Drop the graph and rebuild it from the journal; return how many records were applied."""
        self.file.clear_graph()
        self.graph = nx.DiGraph()
        applied, after = 0, 0
        while True:
            records = self.file.journal(after, _REPLAY_CHUNK)
            if not records:
                return applied
            touched_nodes: dict[str, NodeRecord] = {}
            touched_edges: dict[EdgeIdent, EdgeRecord] = {}
            for record in records:
                delta = project(record)
                if delta is not None:
                    entry = JournalEntry(record.source, record.raw, record.received_at)
                    self._merge(Ingested(entry, delta), touched_nodes, touched_edges, [], [])
                    applied += 1
            self.file.write_graph(
                (node_to_row(r) for r in touched_nodes.values()),
                (edge_to_row(e) for e in touched_edges.values()),
            )
            after = records[-1].seq
            if progress is not None:
                progress(len(records))

    # -- reading -----------------------------------------------------------------------------

    async def get(self, urns: Collection[str]) -> dict[str, NodeRecord]:
        """Return the nodes that exist among these ids."""
        nodes = self.graph._node
        return {u: nodes[u]["r"] for u in urns if u in nodes}

    async def nodes(self, urns: Collection[str]) -> dict[str, NodeRecord]:
        """Return the records of those nodes that exist (GraphReader)."""
        return await self.get(urns)

    async def flow_hops(self, urns: Sequence[str], upstream: bool) -> list[Hop]:
        """Return flow edges into (upstream) or out of (downstream) these nodes (GraphReader)."""
        adjacency = self.graph._pred if upstream else self.graph._succ
        nodes = self.graph._node
        hops: list[Hop] = []
        append = hops.append
        for urn in urns:
            for other, bundle in adjacency[urn].items():
                for edge in bundle.values():
                    if edge.type in FLOW_EDGES:
                        append((urn, edge, nodes[other]["r"]))
        return hops

    async def version_hops(self, urns: Sequence[str]) -> list[Hop]:
        """Return the version edges into these entities (GraphReader)."""
        pred = self.graph._pred
        nodes = self.graph._node
        hops: list[Hop] = []
        for urn in urns:
            for other, bundle in pred[urn].items():
                for edge in bundle.values():
                    if edge.type in VERSION_EDGES:
                        hops.append((urn, edge, nodes[other]["r"]))
        return hops

    async def lineage(self, query: LineageQuery) -> LineageResult:
        """Answer a lineage query."""
        return await traversal.lineage(self, query)

    async def path(
        self,
        source: NodeKey,
        target: NodeKey,
        window: TimeWindow = TimeWindow(),
        max_hops: int = MAX_HOPS,
    ) -> PathResult | None:
        """Explain how two nodes are connected."""
        return await traversal.path(self, source, target, window, max_hops)

    async def search(
        self, text: str, kinds: Collection[Kind] | None = None, limit: int = 20, offset: int = 0
    ) -> SearchResult:
        """Find nodes by name or namespace, best match first."""
        needle = text.strip().lower()
        wanted = set(kinds) if kinds else None
        ranked = []
        for attrs in self.graph._node.values():
            record: NodeRecord = attrs["r"]
            if wanted is not None and record.kind not in wanted:
                continue
            rank = search_rank(record, needle)
            if rank is not None:
                ranked.append((rank, record))
        ranked.sort(key=lambda pair: pair[0])
        return SearchResult([r for _, r in ranked[offset : offset + limit]], len(ranked))

    async def export(self) -> tuple[list[NodeRecord], list[EdgeRecord]]:
        """Return every node and edge."""
        nodes = [attrs["r"] for attrs in self.graph._node.values()]
        edges = [e for _, _, bundle in self.graph.edges(data=True) for e in bundle.values()]
        return nodes, edges

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
        return {
            "nodes": self.graph.number_of_nodes(),
            "edges": sum(len(b) for _, _, b in self.graph.edges(data=True)),
            "journal": self._head[0],
        }
