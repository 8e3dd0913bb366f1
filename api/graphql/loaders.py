"""Per-request DataLoaders: resolvers ask for what they need, the store answers in batches."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from strawberry.dataloader import DataLoader

from graph.edges import EdgeType
from graph.journal import JournalRecord
from graph.records import EdgeRecord, NodeRecord
from graph.store import LineageStore

EdgeLoader = DataLoader[str, list[EdgeRecord]]


class Loaders:
    """One request's loaders: nodes and journal records by id, structural edges by node."""

    def __init__(self, store: LineageStore) -> None:
        self.store = store
        self.nodes: DataLoader[str, NodeRecord | None] = DataLoader(load_fn=self._nodes)
        self.events: DataLoader[str, JournalRecord | None] = DataLoader(load_fn=self._events)
        self._edges: dict[tuple[frozenset[EdgeType], bool, int | None], EdgeLoader] = {}

    def edges(self, types: Collection[EdgeType], *, incoming: bool, newest: int | None = None) -> EdgeLoader:
        """Return the loader of the edges of these types into (incoming) or out of a node (``newest`` per node)."""
        key = (frozenset(types), incoming, newest)
        loader = self._edges.get(key)
        if loader is None:

            async def load(urns: list[str]) -> Sequence[list[EdgeRecord]]:
                found: dict[str, list[EdgeRecord]] = {u: [] for u in urns}
                for edge in await self.store.edges_of(urns, key[0], incoming=incoming, newest=newest):
                    found[edge.dst if incoming else edge.src].append(edge)
                return [found[u] for u in urns]

            loader = self._edges[key] = DataLoader(load_fn=load)
        return loader

    async def _nodes(self, urns: list[str]) -> Sequence[NodeRecord | None]:
        found = await self.store.get(urns)
        for record in found.values():
            self.nodes.prime(record.urn, record)
        return [found.get(u) for u in urns]

    async def _events(self, ids: list[str]) -> Sequence[JournalRecord | None]:
        found = await self.store.events(ids)
        return [found.get(i) for i in ids]
