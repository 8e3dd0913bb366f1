"""The LineageStore port every backend implements, and the search ranking they share."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import quote

from graph.delta import GraphDelta
from graph.edges import EdgeType
from graph.journal import ChainReport, DeadLetter, JournalEntry, JournalRecord
from graph.keys import URN_SAFE, Kind, NodeKey, parse_key
from graph.query import MAX_HOPS, LineageQuery, TimeWindow
from graph.records import EdgeRecord, NodeRecord
from graph.results import LineageResult, PathResult, SearchResult

#: Turns a journal record back into graph changes (None: the record changes nothing).
Projector = Callable[[JournalRecord], GraphDelta | None]
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Ingested:
    """An accepted input and the graph changes it causes, applied together or not at all."""

    entry: JournalEntry
    delta: GraphDelta


@runtime_checkable
class LineageStore(Protocol):
    """Where the graph and its journal live."""

    async def apply(self, batch: Sequence[Ingested]) -> list[bool]:
        """Journal and apply each input in one transaction; False marks an input already kept."""
        ...

    async def get(self, urns: Collection[str]) -> dict[str, NodeRecord]:
        """Return the nodes that exist among these ids."""
        ...

    async def lineage(self, query: LineageQuery) -> LineageResult:
        """Answer a lineage query (graph/traversal.py has the semantics)."""
        ...

    async def path(
        self,
        source: NodeKey,
        target: NodeKey,
        window: TimeWindow = TimeWindow(),
        max_hops: int = MAX_HOPS,
    ) -> PathResult | None:
        """Explain how two nodes are connected, or None when they are not."""
        ...

    async def edges_of(
        self, urns: Collection[str], types: Collection[EdgeType], *, incoming: bool, newest: int | None = None
    ) -> list[EdgeRecord]:
        """Return the edges of these types into (incoming) or out of these nodes, in full.

        With ``newest``, only that many per node: the latest first seen (ties: the other end's id).
        """
        ...

    async def search(
        self, text: str, kinds: Collection[Kind] | None = None, limit: int = 20, offset: int = 0
    ) -> SearchResult:
        """Find nodes by name or namespace, best match first."""
        ...

    async def export(self) -> tuple[list[NodeRecord], list[EdgeRecord]]:
        """Return every node and edge (for comparisons, exports and checks against the journal)."""
        ...

    async def events(self, ids: Collection[str]) -> dict[str, JournalRecord]:
        """Return journal records by id (the evidence behind nodes and edges)."""
        ...

    async def journal(self, after_seq: int = 0, limit: int = 1000) -> list[JournalRecord]:
        """Return journal records in order, after a position."""
        ...

    async def head(self) -> tuple[int, str]:
        """Return the journal's last position and its hash (an auditor can note them down)."""
        ...

    async def verify(self, upto: int | None = None, progress: Progress | None = None) -> ChainReport:
        """Check the journal's hash chain, all of it or up to a position."""
        ...

    async def reject(self, source: str, raw: str, reason: str, received_at: float) -> DeadLetter:
        """Keep an input that was refused, with the reason."""
        ...

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Return the most recent refused inputs."""
        ...

    async def replay(self, project: Projector, progress: Progress | None = None) -> int:
        """Drop the graph and rebuild it from the journal; return how many records were applied."""
        ...

    async def close(self) -> None:
        """Release connections and files."""
        ...


def id_needle(text: str) -> str:
    """Return the lower-case search text as it appears inside ids (which escape ":" and "%")."""
    return quote(text.strip().lower(), safe=URN_SAFE).lower()


def rank_matches(urns: Iterable[str], text: str) -> list[str]:
    """Order candidate ids best match first, dropping those that match only by their escaping."""
    needle = text.strip().lower()
    ranked = []
    for urn in urns:
        rank = search_rank(parse_key(urn), urn, needle)
        if rank is not None:
            ranked.append((rank, urn))
    ranked.sort()
    return [urn for _, urn in ranked]


def search_rank(key: NodeKey, urn: str, needle: str) -> tuple[int, int, str] | None:
    """Rank a node for a lower-case search text: exact name, prefix, word, substring, namespace."""
    if not needle:
        return (4, len(key.name), urn)
    name = key.name.lower()
    if name == needle or (key.version or "").lower() == needle:
        rank = 0
    elif name.startswith(needle):
        rank = 1
    elif needle in name:
        tail = name.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
        rank = 2 if tail.startswith(needle) else 3
    elif needle in key.namespace.lower() or needle in (key.version or "").lower():
        rank = 4
    else:
        return None
    return (rank, len(key.name), urn)
