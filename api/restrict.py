"""Namespace-limited tokens: nodes outside the token's namespaces become placeholders, never dropped.

``restrict`` is the one function that does it, over any graph result (a lineage page, a path,
search hits, node and edge records, journal records). A placeholder keeps the node's kind and
its place in the result (its distance, its edges) under an opaque id; its namespace, name,
version, properties, times and evidence are gone. An opaque id is an HMAC of the URN with a
key the app draws at start, so one node has one placeholder id within a process (edges still
connect) and the id cannot be turned back into the name. A journal record (evidence) that
names any node the token may not see keeps its id and position but not its text.

``RestrictedStore`` applies it at the store boundary for one request, so every resolver that
reads through the context (lineage, traceBack, impact, path, search, node, nodes, the per-kind
fields, evidence) sees only restricted results. It is closed by default: a store method it
does not know is refused rather than passed through unfiltered.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, overload

import orjson
from starlette.requests import Request

from api.auth import Principal
from graph.edges import EdgeType
from graph.errors import InvalidInput, QueryDeadlineExceeded
from graph.journal import ChainReport, JournalRecord
from graph.keys import Kind, NodeKey, parse_key
from graph.query import MAX_HOPS, LineageQuery, TimeWindow
from graph.records import EdgeRecord, Evidence, NodeRecord
from graph.results import LineageEdge, LineageNode, LineageResult, PathResult, Resolution, SearchResult
from graph.store import Ingested, LineageStore

# A namespace no source uses (URN-safe); placeholders are urn:lineage:<kind>:~restricted:<hmac>.
PLACEHOLDER_NAMESPACE = "~restricted"
HIDDEN_RAW = orjson.dumps({"restricted": "this input names nodes outside the token's namespaces"}).decode()
_NO_EVIDENCE = Evidence("", 0.0, "", 0.0, 0)

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class View:
    """What one caller may see: nodes whose namespace starts with one of ``prefixes``."""

    prefixes: tuple[str, ...]
    key: bytes  # the app's HMAC key for opaque ids
    # Placeholder id -> real id, for this request only: a resolver may follow a placeholder's
    # edges within the request (the node stays a placeholder); a later request cannot.
    hidden: dict[str, str] = field(default_factory=dict)

    def shows(self, urn: str) -> bool:
        """Return whether the caller may see the node with this id (placeholders stay placeholders)."""
        if is_placeholder(urn):
            return True
        try:
            namespace = parse_key(urn).namespace
        except InvalidInput:
            return False
        return namespace.startswith(self.prefixes)

    def opaque(self, urn: str) -> str:
        """Return the placeholder id of a node: its kind and an HMAC of its id, nothing else."""
        if is_placeholder(urn):
            return urn
        kind = parse_key(urn).kind
        digest = hmac.new(self.key, urn.encode(), hashlib.sha256).hexdigest()[:24]
        placeholder = NodeKey(kind, PLACEHOLDER_NAMESPACE, digest, PLACEHOLDER_NAMESPACE if kind.is_versioned else None)
        self.hidden[placeholder.urn] = urn
        return placeholder.urn

    def seen(self, urn: str) -> str:
        """Return the id the caller sees for a node: its own, or its placeholder."""
        return urn if self.shows(urn) else self.opaque(urn)

    def real(self, urn: str) -> str:
        """Return the id behind a placeholder handed out in this request (others unchanged)."""
        return self.hidden.get(urn, urn)


def is_placeholder(urn: str) -> bool:
    """Return whether an id is a restricted placeholder."""
    try:
        return parse_key(urn).namespace == PLACEHOLDER_NAMESPACE
    except InvalidInput:
        return False


@overload
def restrict(result: LineageResult, view: View) -> LineageResult: ...
@overload
def restrict(result: PathResult, view: View) -> PathResult: ...
@overload
def restrict(result: SearchResult, view: View) -> SearchResult: ...
@overload
def restrict(result: NodeRecord, view: View) -> NodeRecord: ...
@overload
def restrict(result: EdgeRecord, view: View) -> EdgeRecord: ...
@overload
def restrict(result: JournalRecord, view: View) -> JournalRecord: ...
def restrict(result: Any, view: View) -> Any:
    """Return the result as the caller may see it: hidden nodes as placeholders, nothing dropped."""
    if isinstance(result, LineageResult):
        return replace(
            result,
            start=view.seen(result.start),
            nodes=[_lineage_node(n, view) for n in result.nodes],
            edges=[_lineage_edge(e, view) for e in result.edges],
        )
    if isinstance(result, PathResult):
        return PathResult([restrict(n, view) for n in result.nodes], [_lineage_edge(e, view) for e in result.edges])
    if isinstance(result, SearchResult):
        return SearchResult([restrict(n, view) for n in result.nodes], result.total)
    if isinstance(result, NodeRecord):
        if view.shows(result.urn):
            return result
        opaque = view.opaque(result.urn)
        return NodeRecord(urn=opaque, key=parse_key(opaque), first_seen=0.0, last_seen=0.0)
    if isinstance(result, EdgeRecord):
        return _edge(result, view)
    if isinstance(result, JournalRecord):
        return result if _names_only_visible(result, view) else replace(result, raw=HIDDEN_RAW)
    msg = f"restrict: no rule for {type(result).__name__}"
    raise TypeError(msg)


def _lineage_node(node: LineageNode, view: View) -> LineageNode:
    if view.shows(node.record.urn):
        return replace(node, resolution=_resolution(node.resolution, view))
    return LineageNode(restrict(node.record, view), node.distance)


def _resolution(resolution: Resolution | None, view: View) -> Resolution | None:
    return resolution if resolution is None or view.shows(resolution.entity) else None


def _lineage_edge(edge: LineageEdge, view: View) -> LineageEdge:
    return LineageEdge(_edge(edge.record, view), view.seen(edge.src), view.seen(edge.dst), _resolution(edge.via, view))


def _edge(record: EdgeRecord, view: View) -> EdgeRecord:
    if view.shows(record.src) and view.shows(record.dst):
        return record
    # Only the type survives: a qualifier, properties, times or evidence could name the hidden end.
    return EdgeRecord(view.seen(record.src), record.type, view.seen(record.dst), "", 0.0, 0.0, _NO_EVIDENCE)


def _names_only_visible(record: JournalRecord, view: View) -> bool:
    from ingest.intake import project  # imported late: ingest registers every source on import

    try:
        delta = project(record)
    except InvalidInput:
        return False
    if delta is None:
        return False  # a source this process cannot read: its text may name anything
    urns = {n.key.urn for n in delta.nodes}
    urns |= {u for e in delta.edges for u in (e.ref.src.urn, e.ref.dst.urn)}
    for close in delta.closes:
        target = close.target
        urns |= {target.urn} if isinstance(target, NodeKey) else {target.src.urn, target.dst.urn}
    return all(view.shows(u) for u in urns)


class RestrictedStore:
    """The store as one namespace-limited caller sees it; only the reads below are offered."""

    def __init__(self, inner: LineageStore, view: View) -> None:
        self.inner = inner
        self.view = view

    async def get(self, urns: Collection[str]) -> dict[str, NodeRecord]:
        """Return the nodes among these ids, hidden ones as placeholders (under the id asked)."""
        asked = {self.view.real(u): u for u in urns}
        found = await self.inner.get(list(asked))
        return {asked[u]: restrict(r, self.view) for u, r in found.items()}

    async def lineage(self, query: LineageQuery) -> LineageResult:
        """Answer a lineage query, restricted (the partial result of a deadline too)."""
        try:
            return restrict(await self.inner.lineage(query), self.view)
        except QueryDeadlineExceeded as e:
            partial = None if e.partial is None else restrict(e.partial, self.view)
            raise QueryDeadlineExceeded(e.deadline, partial) from e

    async def path(
        self, source: NodeKey, target: NodeKey, window: TimeWindow = TimeWindow(), max_hops: int = MAX_HOPS
    ) -> PathResult | None:
        """Explain how two nodes are connected, restricted."""
        found = await self.inner.path(source, target, window, max_hops)
        return None if found is None else restrict(found, self.view)

    async def search(
        self, text: str, kinds: Collection[Kind] | None = None, limit: int = 20, offset: int = 0
    ) -> SearchResult:
        """Find nodes, hidden hits as placeholders."""
        return restrict(await self.inner.search(text, kinds, limit, offset), self.view)

    async def edges_of(
        self, urns: Collection[str], types: Collection[EdgeType], *, incoming: bool, newest: int | None = None
    ) -> list[EdgeRecord]:
        """Return edges of these nodes, hidden ends as placeholders."""
        real = [self.view.real(u) for u in urns]
        found = await self.inner.edges_of(real, types, incoming=incoming, newest=newest)
        return [restrict(e, self.view) for e in found]

    async def events(self, ids: Collection[str]) -> dict[str, JournalRecord]:
        """Return journal records, the text hidden where it names hidden nodes."""
        return {i: restrict(r, self.view) for i, r in (await self.inner.events(ids)).items()}

    async def journal(self, after_seq: int = 0, limit: int = 1000) -> list[JournalRecord]:
        """Return journal records in order, restricted."""
        return [restrict(r, self.view) for r in await self.inner.journal(after_seq, limit)]

    async def export(self) -> tuple[list[NodeRecord], list[EdgeRecord]]:
        """Return every node and edge, restricted."""
        nodes, edges = await self.inner.export()
        return [restrict(n, self.view) for n in nodes], [restrict(e, self.view) for e in edges]

    async def head(self) -> tuple[int, str]:
        """Return the journal head (a position and a hash name no node)."""
        return await self.inner.head()

    async def verify(self, upto: int | None = None, progress: Any = None) -> ChainReport:
        """Check the hash chain (the report names positions, not nodes)."""
        return await self.inner.verify(upto, progress)

    async def apply(self, batch: Sequence[Ingested]) -> list[bool]:
        """Ingest is not limited by namespace (the ingest scope decides)."""
        return await self.inner.apply(batch)

    async def reject(self, source: str, raw: str, reason: str, received_at: float) -> Any:
        """Keep a refused input."""
        return await self.inner.reject(source, raw, reason, received_at)

    def __getattr__(self, name: str) -> Any:
        # Closed by default: a store method added later is not handed out unfiltered.
        msg = f"{name}: not available to a token limited to namespaces"
        raise AttributeError(msg)


def restricted_store(store: LineageStore, prefixes: tuple[str, ...] | None, key: bytes) -> LineageStore:
    """Return the store as a caller limited to these namespace prefixes sees it (None: all of it)."""
    if prefixes is None:
        return store
    return RestrictedStore(store, View(prefixes, key))


def request_store(request: Request) -> LineageStore:
    """Return the store as the caller of this request may see it (routers read through this)."""
    principal = getattr(request.state, "principal", None)
    prefixes = principal.namespaces if isinstance(principal, Principal) else None
    return restricted_store(request.app.state.store, prefixes, request.app.state.restrict_key)
