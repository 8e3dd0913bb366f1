"""Neo4jStore: the production store, on the official async driver.

One apply is one write transaction: it locks the journal head, skips inputs already kept,
reads the records it will merge, merges them with the same functions as the embedded store
(graph/records.py), and writes journal records, nodes and edges with batched UNWIND: what
existed is updated through the element id it was read with, what is new is created.
Reads go through ``execute_query`` with ``routing_=READ`` and an explicit database (a query's
through one read session: ``_Reads``), so a cluster's secondaries or Aura serve them by
changing the URI. Traversal is level-by-level breadth-first (graph/traversal.py) over the
walk's cone, read in one statement before it (``_Cone``, ``_LeanCone``; a level outside it is
one statement), then one for the page (none for a small cone); never path enumeration.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import orjson
from neo4j import (
    READ_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    AsyncSession,
    AsyncTransaction,
    Query,
    Record,
    RoutingControl,
)
from neo4j.exceptions import ClientError, DriverError, ServiceUnavailable, SessionExpired, TransientError

from graph import collector, traversal
from graph.edges import EdgeType
from graph.errors import QueryDeadlineExceeded, StoreUnavailable
from graph.group_commit import GroupCommit
from graph.journal import GENESIS, ChainReport, DeadLetter, JournalEntry, JournalRecord, chain, verify_chain
from graph.keys import VERSIONED_ENTITIES, Kind, NodeKey, parse_key
from graph.merging import merge_batch, touched
from graph.neo4j import cypher
from graph.query import MAX_HOPS, Direction, LineageQuery, TimeWindow
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

log = logging.getLogger("lineage.neo4j")
# When the running query must end (monotonic seconds); set per lineage call, read by _read.
_deadline: ContextVar[float | None] = ContextVar("lineage_neo4j_deadline", default=None)
# The reads of the running traversal (one session; see _Reads).
_reads: ContextVar[_Reads | None] = ContextVar("lineage_neo4j_reads", default=None)
# The cones of the running lineage query by direction (upstream: True), read before its walk.
_cones: ContextVar[dict[bool, _Cone | _LeanCone] | None] = ContextVar("lineage_neo4j_cones", default=None)
_KINDS = {k.value: k for k in Kind}
_TYPES = {t.value: t for t in EdgeType}
_ENTITY_KINDS = sorted(k.value for k in VERSIONED_ENTITIES)
_ENTITY_KIND_SET = frozenset(_ENTITY_KINDS)
_UNAVAILABLE = (ServiceUnavailable, SessionExpired, DriverError, OSError)
_REPLAY_CHUNK = 2000
_PAGE_GRACE = 5.0  # seconds: a new statement is planned first, which takes long on a busy server
# Nodes: a larger cone is walked level by level (one statement each) instead. Upstream the
# cone holds every version of each entity on the way and what made them, where the walk
# resolves one, so it can be much larger than the walk: the cap is lower.
_CONE_CAP = {True: 10_000, False: 100_000}
# A bare downstream cone ships only its hops' ends (_LeanCone): at 1M nodes, an impact reaching
# 620k nodes took 12.5 s read as one cone against 26.9 s level by level (docs/benchmarks.md).
_LEAN_CONE_CAP = 1_000_000
_CONE_FULL = 1000  # nodes: a cone up to this size comes with its full records (for the page)
_DIRECTIONS = {Direction.UPSTREAM: (True,), Direction.DOWNSTREAM: (False,), Direction.BOTH: (True, False)}


class Neo4jStore:
    """The Neo4j store; open it with ``await Neo4jStore.open(uri, ...)``."""

    def __init__(self, driver: AsyncDriver, database: str, read_timeout: float | None = None) -> None:
        self.driver = driver
        self.database = database
        # Every read is a transaction with this timeout: a runaway query ends on the server too.
        self.read_timeout = read_timeout
        # The largest cone read whole, by direction (upstream: True); 0 walks level by level.
        self.cone_caps = dict(_CONE_CAP)
        self.lean_cone_cap = _LEAN_CONE_CAP
        # The largest cone that brings its full records; a larger bare downstream cone ships lean hops.
        self.cone_full = _CONE_FULL
        # Applies waiting on the one running are joined into the next transaction.
        self.group_commit = GroupCommit(self._apply_now)

    @classmethod
    async def open(
        cls,
        uri: str,
        *,
        user: str | None = None,
        password: str | None = None,
        database: str = "neo4j",
        retry_seconds: float = 5.0,
        read_timeout: float | None = 30.0,
    ) -> Neo4jStore:
        """Connect, and create the constraints and indexes if they are missing."""
        auth = (user, password) if user and password else None
        driver = AsyncGraphDatabase.driver(
            uri,
            auth=auth,
            max_transaction_retry_time=retry_seconds,
            # Property keys missing from a young graph would warn on every read; the queries are fixed.
            notifications_min_severity="OFF",
        )
        store = cls(driver, database, read_timeout)
        try:
            await driver.verify_connectivity()
            for statement in cypher.CONSTRAINTS:
                await driver.execute_query(statement, database_=database)
            await store._key_old_edges()
        except _UNAVAILABLE as e:
            await driver.close()
            msg = f"Neo4j at {uri} is not reachable: {e}"
            raise StoreUnavailable(msg) from e
        return store

    async def _key_old_edges(self) -> None:
        """Give edges written before edges had keys their key (once: the journal head remembers)."""
        done, _, _ = await self.driver.execute_query(cypher.EDGE_KEYS_DONE, database_=self.database)
        if done and done[0]["done"]:
            return
        while True:
            records, _, _ = await self.driver.execute_query(
                cypher.EDGES_WITHOUT_KEY, limit=10_000, database_=self.database
            )
            if not records:
                await self.driver.execute_query(cypher.MARK_EDGE_KEYS_DONE, database_=self.database)
                return
            idents = [(r["src"], r["type"], r["dst"], r["qualifier"]) for r in records]
            rows = [{"eid": r["eid"], "key": edge_key(i)} for r, i in zip(records, idents, strict=True)]
            await self.driver.execute_query(cypher.SET_EDGE_KEYS, rows=rows, database_=self.database)

    # -- plumbing ----------------------------------------------------------------------------

    async def _read(self, text: str, **params: Any) -> list[dict[str, Any]]:
        """Run a read, as plain dicts; driver failures become typed errors.

        Inside a traversal it runs in the traversal's session (_Reads); otherwise through
        ``execute_query`` routed to a reader. The timeout is what is left of the running
        query's deadline, so the server stops working on it too.
        """
        reads = _reads.get()
        try:
            if reads is not None and not reads.cut:
                return await reads.run(text, params, self._timeout())
            timeout = self._timeout()
            if reads is not None and timeout is not None:
                # The walk was cut: the page of what it found is bounded (limit), give it time to be read.
                timeout = max(timeout, _PAGE_GRACE)
            query = Query(text, timeout=timeout)
            records, _, _ = await self.driver.execute_query(
                query, params, routing_=RoutingControl.READ, database_=self.database
            )
            return [_plain(r) for r in records]
        except _UNAVAILABLE as e:
            raise StoreUnavailable(f"Neo4j unavailable: {e}") from e  # noqa: EM102
        except ClientError as e:
            if "TransactionTimedOut" in (e.code or "") or "Terminated" in (e.code or ""):
                if reads is not None:
                    reads.cut = True  # the transaction is gone; what follows (the page) reads outside it
                raise QueryDeadlineExceeded(self._timeout() or 0.0) from e
            raise

    def _timeout(self) -> float | None:
        ends = _deadline.get()
        timeout = self.read_timeout
        if ends is not None:
            left = max(ends - time.monotonic(), 0.001)
            timeout = left if timeout is None else min(timeout, left)
        return timeout

    @asynccontextmanager
    async def _snapshot(self, deadline: float | None) -> AsyncIterator[None]:
        """Run the reads of one query in one read session (_Reads), timed out at its deadline."""
        token = _deadline.set(None if deadline is None else time.monotonic() + deadline)
        try:
            async with self.driver.session(database=self.database, default_access_mode=READ_ACCESS) as session:
                reads = _Reads(session)
                reads_token = _reads.set(reads)
                try:
                    yield
                finally:
                    _reads.reset(reads_token)
                    if reads.tx is not None and not reads.cut:
                        await reads.tx.close()
        except _UNAVAILABLE as e:
            raise StoreUnavailable(f"Neo4j unavailable: {e}") from e  # noqa: EM102
        finally:
            _deadline.reset(token)

    async def write(self, work: Any) -> Any:
        """Run a function in one managed write transaction (retried by the driver on transient errors).

        Driver failures become StoreUnavailable; apply, reject, replay and the bulk copy write through it.
        """
        try:
            async with self.driver.session(database=self.database) as session:
                return await session.execute_write(work)
        except (*_UNAVAILABLE, TransientError) as e:
            raise StoreUnavailable(f"Neo4j unavailable: {e}") from e  # noqa: EM102

    # -- writing -----------------------------------------------------------------------------

    async def apply(self, batch: Sequence[Ingested]) -> list[bool]:
        """Journal and apply each input in one transaction; False marks an input already kept.

        Concurrent callers share transactions (graph/group_commit.py); each gets its own outcome.
        """
        return await self.group_commit.apply(batch)

    async def _apply_now(self, batch: Sequence[Ingested]) -> list[bool]:
        async def work(tx: AsyncManagedTransaction) -> list[bool]:
            ids = [item.entry.id for item in batch]
            head = await (await tx.run(cypher.LOCK_HEAD, genesis=GENESIS, ids=ParamRows(ids))).single()
            assert head is not None
            known = set(head["known"])
            fresh, outcome = [], []
            for item, rid in zip(batch, ids, strict=True):
                outcome.append(rid not in known)
                if rid not in known:
                    known.add(rid)
                    fresh.append(item)
            if not fresh:
                return outcome
            records = chain((item.entry for item in fresh), head["seq"], head["hash"])
            await _write_graph(tx, await _merge(tx, fresh), records)
            return outcome

        result: list[bool] = await self.write(work)
        return result

    async def reject(self, source: str, raw: str, reason: str, received_at: float) -> DeadLetter:
        """Keep an input that was refused, with the reason."""

        async def work(tx: AsyncManagedTransaction) -> int:
            record = await (
                await tx.run(
                    cypher.ADD_DEAD_LETTER,
                    genesis=GENESIS,
                    source=source,
                    received_at=received_at,
                    raw=raw,
                    reason=reason,
                )
            ).single()
            assert record is not None
            return int(record["id"])

        return DeadLetter(await self.write(work), source, received_at, raw, reason)

    async def replay(self, project: Projector, progress: Progress | None = None) -> int:
        """Drop the graph and rebuild it from the journal; return how many records were applied."""
        try:
            async with self.driver.session(database=self.database) as session:
                await (await session.run(cypher.CLEAR_GRAPH)).consume()
        except _UNAVAILABLE as e:
            raise StoreUnavailable(f"Neo4j unavailable: {e}") from e  # noqa: EM102
        applied, after = 0, 0
        while True:
            records = await self.journal(after, _REPLAY_CHUNK)
            if not records:
                return applied
            items = []
            for record in records:
                delta = project(record)
                if delta is not None:
                    items.append(Ingested(JournalEntry(record.source, record.raw, record.received_at), delta))

            async def work(tx: AsyncManagedTransaction, items: list[Ingested] = items) -> None:
                await _write_graph(tx, await _merge(tx, items), [])

            await self.write(work)
            applied += len(items)
            after = records[-1].seq
            if progress is not None:
                progress(len(records))

    # -- reading: traversal (GraphReader) ----------------------------------------------------

    async def nodes(self, urns: Collection[str]) -> dict[str, NodeView]:
        """Return the views of those nodes that exist."""
        for cone in (_cones.get() or {}).values():
            if len(urns) == 1 and cone.start.urn in urns:  # the walk's start, read with its cone
                return {cone.start.urn: cone.start}
        return {r["urn"]: _node_meta(r) for r in await self._read(cypher.NODE_METAS, urns=list(urns))}

    async def flow_hops(self, urns: Sequence[str], upstream: bool, skip: Collection[str] = ()) -> list[Hop]:
        """Return flow edges into (upstream) or out of (downstream) these nodes (``skip`` is not sent)."""
        rows = await self._read(cypher.HOPS_UP if upstream else cypher.HOPS_DOWN, urns=list(urns))
        return [(r["origin"], _edge_meta(r), _hop_node(r)) for r in rows]

    async def version_hops(self, urns: Sequence[str], skip: Collection[str] = ()) -> list[Hop]:
        """Return the version edges into these entities."""
        rows = await self._read(cypher.VERSION_HOPS, urns=list(urns))
        return [(r["origin"], _edge_meta(r), _hop_node(r)) for r in rows]

    async def edges_among(self, urns: Collection[str], others: Collection[str]) -> list[EdgeView]:
        """Return the flow and version edges between a node of ``urns`` and one of ``others``."""
        rows = await self._read(cypher.EDGES_AMONG, urns=list(urns), others=list(others))
        return [_edge_meta(r) for r in rows]

    async def hydrate(
        self, urns: Collection[str], idents: Collection[EdgeIdent]
    ) -> tuple[dict[str, NodeRecord], dict[EdgeIdent, EdgeRecord]]:
        """Return the full records of these nodes and edges."""
        nodes = {r["urn"]: node_from_row(r) for r in await self._read(cypher.FULL_NODES, urns=list(urns))}
        edges = {}
        for edge_type, keys in _keys_by_type(idents).items():
            for row in await self._read(cypher.FULL_EDGES[edge_type], keys=keys):
                edge = edge_from_row(row)
                edges[edge.ident] = edge
        return nodes, edges

    async def level(
        self,
        urns: Sequence[str],
        upstream: bool,
        versioned: Collection[str],
        skip: Collection[str] = (),
        bare: bool = False,
    ) -> tuple[list[Hop], list[Hop]]:
        """Return one level's flow hops and the version hops the rules need, from the cone or in one statement."""
        cone = (_cones.get() or {}).get(upstream)
        if cone is not None:
            found = cone.level(urns, upstream, versioned, skip)
            if found is not None:
                return found
        reads = _reads.get()
        if reads is not None and reads.cut:
            # The walk's transaction timed out (reading the cone): the walk is over, as after a level.
            raise QueryDeadlineExceeded(0.0)
        params = {"urns": list(urns), "versioned": list(versioned), "entity_kinds": _ENTITY_KINDS}
        rows = await self._read(cypher.LEVEL[upstream, bare], **params)
        hops: tuple[list[Hop], list[Hop]] = ([], [])
        for part, origin, src, type_, dst, qualifier, first, last, markers, *b in rows[0]["rows"]:
            edge = EdgeMeta(src, dst, _TYPES[type_], qualifier, first, last, _markers(markers))
            node = NodeMeta(b[0], _KINDS[b[1]], b[2], b[3], _markers(b[4]))
            hops[part].append((origin, edge, node))
        return hops

    async def page(
        self, urns: Collection[str], others: Collection[str], idents: Collection[EdgeIdent]
    ) -> tuple[dict[str, NodeRecord], list[EdgeRecord], dict[EdgeIdent, EdgeRecord]]:
        """Return the full records of ``urns``, of the edges among them and ``others``, and of ``idents``."""
        cones = _cones.get() or {}
        known: set[EdgeIdent] = set()
        pairs: set[tuple[str, str]] = set()
        open_: list[str] = list(urns)  # without a cone: every edge is looked for around the page
        versions_open: list[str] = []
        if len(cones) == 1:
            [cone] = cones.values()
            known, pairs, open_, versions_open = cone.among(urns, others)
            if not open_ and not versions_open:
                found = cone.page(urns, known, idents)
                if found is not None:
                    return found
        named = [{"src": i[0], "dst": i[2], "key": edge_key(i)} for i in {*idents, *known}]
        params = {
            "urns": list(urns),
            "others": list(others),
            "open": open_,
            "versions_open": versions_open,
            "named": named,
            "pairs": [list(p) for p in pairs],
        }
        try:
            rows = await self._read(cypher.PAGE, **params)
        except QueryDeadlineExceeded:
            # The deadline ran out in the read transaction: the page (bounded by the limit) is read
            # once more outside it, with a short grace, so the partial answer can be returned.
            if _reads.get() is None:
                raise
            rows = await self._read(cypher.PAGE, **params)
        nodes: dict[str, NodeRecord] = {}
        among: dict[EdgeIdent, EdgeRecord] = {}
        edges: dict[EdgeIdent, EdgeRecord] = {}
        for r in rows:
            if r["part"] == 0:
                node = node_from_row(r["row"])
                nodes[node.urn] = node
            elif r["part"] == 1:
                edge = edge_from_row(r["row"])
                among[edge.ident] = edge
            else:
                edge = edge_from_row(r["row"])
                edges[edge.ident] = edge
        among.update((i, edges[i]) for i in known if i in edges)
        return nodes, list(among.values()), edges

    async def lineage(self, query: LineageQuery) -> LineageResult:
        """Answer a lineage query, its reads in one session (_Reads), each timed out at the deadline."""
        async with self._snapshot(query.deadline):
            cones = await self._read_cones(query)
            token = _cones.set(cones)
            try:
                if any(isinstance(c, _LeanCone) for c in cones.values()):
                    with collector.paused():
                        return await traversal.lineage(self, query)
                return await traversal.lineage(self, query)
            finally:
                _cones.reset(token)

    async def _read_cones(self, query: LineageQuery) -> dict[bool, _Cone | _LeanCone]:
        """Read the cone of each direction the query walks (none past the cap, or when cut)."""
        cones: dict[bool, _Cone | _LeanCone] = {}
        if query.max_hops < 1:
            return cones
        for upstream in _DIRECTIONS[query.direction]:
            # Upstream a level may take two edges (a flow hop, then the version resolved from it).
            edges = 2 * query.max_hops - 1 if upstream else query.max_hops - 1
            depth = next(d for d in cypher.CONE_DEPTHS if d >= edges)
            statement = cypher.CONE[upstream, depth, query.window.is_open]
            lean = not upstream and query.window.is_open
            try:
                rows = await self._read(
                    statement,
                    urn=query.start.urn,
                    cap=self.lean_cone_cap if lean else self.cone_caps[upstream],
                    full=self.cone_full,
                    entity_kinds=_ENTITY_KINDS,
                )
            except QueryDeadlineExceeded:
                break
            cone = _Cone.read(rows[0], upstream, query.window.is_open) if rows else None
            if cone is not None:
                cones[upstream] = cone
        return cones

    async def path(
        self, source: NodeKey, target: NodeKey, window: TimeWindow = TimeWindow(), max_hops: int = MAX_HOPS
    ) -> PathResult | None:
        """Explain how two nodes are connected."""
        async with self._snapshot(None):
            return await traversal.path(self, source, target, window, max_hops)

    # -- reading: everything else ------------------------------------------------------------

    async def get(self, urns: Collection[str]) -> dict[str, NodeRecord]:
        """Return the full records of the nodes that exist among these ids."""
        nodes, _ = await self.hydrate(urns, ())
        return nodes

    async def edges_of(
        self, urns: Collection[str], types: Collection[EdgeType], *, incoming: bool, newest: int | None = None
    ) -> list[EdgeRecord]:
        """Return the edges of these types into (incoming) or out of these nodes."""
        if newest is None:
            statement = cypher.EDGES_IN if incoming else cypher.EDGES_OUT
        else:
            statement = cypher.NEWEST_EDGES_IN if incoming else cypher.NEWEST_EDGES_OUT
        params = {"urns": list(dict.fromkeys(urns)), "types": [str(t) for t in types], "newest": max(newest or 0, 0)}
        return [edge_from_row(r) for r in await self._read(statement, **params)]

    async def search(
        self, text: str, kinds: Collection[Kind] | None = None, limit: int = 20, offset: int = 0
    ) -> SearchResult:
        """Find nodes by name or namespace, best match first."""
        kind_names = [k.value for k in kinds] if kinds else None
        rows = await self._read(cypher.SEARCH, needle=id_needle(text), kinds=kind_names)
        ranked = rank_matches((row["urn"] for row in rows), text)
        page = ranked[offset : offset + limit]
        found = await self.get(page)
        return SearchResult([found[u] for u in page], len(ranked))

    async def export(self) -> tuple[list[NodeRecord], list[EdgeRecord]]:
        """Return every node and edge."""
        nodes = [node_from_row(r) for r in await self._read(cypher.ALL_NODES)]
        edges = [edge_from_row(r) for r in await self._read(cypher.ALL_EDGES)]
        return nodes, edges

    async def events(self, ids: Collection[str]) -> dict[str, JournalRecord]:
        """Return journal records by id."""
        return {r["id"]: JournalRecord(**r) for r in await self._read(cypher.JOURNAL_BY_ID, ids=list(ids))}

    async def journal(self, after_seq: int = 0, limit: int = 1000) -> list[JournalRecord]:
        """Return journal records in order, after a position."""
        return [JournalRecord(**r) for r in await self._read(cypher.JOURNAL_PAGE, after=after_seq, limit=limit)]

    async def head(self) -> tuple[int, str]:
        """Return the journal's last position and its hash."""
        rows = await self._read(cypher.READ_HEAD)
        return (0, GENESIS) if not rows else (int(rows[0]["seq"]), str(rows[0]["hash"]))

    async def verify(self, upto: int | None = None, progress: Progress | None = None) -> ChainReport:
        """Check the journal's hash chain."""
        records: list[JournalRecord] = []
        after = 0
        while True:
            page = await self.journal(after, 5000)
            if not page:
                break
            records.extend(page)
            if progress is not None:
                progress(len(page))
            after = page[-1].seq
        return verify_chain(iter(records), upto=upto)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Return the most recent refused inputs."""
        return [DeadLetter(**r) for r in await self._read(cypher.DEAD_LETTERS, limit=limit)]

    async def close(self) -> None:
        """Close the driver."""
        await self.driver.close()


@dataclass(slots=True)
class _Reads:
    """The reads of one lineage or path query: one session, the first read alone, the rest in one transaction.

    Most queries are one read (the walk's cone): run on its own (auto-commit), it is one round
    trip, where a transaction adds a BEGIN and a ROLLBACK (~1.5 ms of a ~5 ms trace-back here).
    Reads after it share one transaction, begun when the second comes. Neo4j reads at
    read-committed isolation, so a transaction was never a snapshot of the graph: splitting
    the first read off changes what a concurrent write can show no more than that.
    """

    session: AsyncSession
    tx: AsyncTransaction | None = None
    first: bool = True
    cut: bool = False  # a read timed out: what follows (the page) is read outside the session

    async def run(self, text: str, params: dict[str, Any], seconds: float | None) -> list[dict[str, Any]]:
        """Run one read in the query's session, as plain dicts; ``seconds``: its server-side timeout."""
        if self.first:
            self.first = False
            result = await self.session.run(Query(text, timeout=seconds), params)
        else:
            if self.tx is None:
                self.tx = await self.session.begin_transaction(timeout=seconds)
            result = await self.tx.run(text, params)
        return [_plain(record) async for record in result]


@dataclass(slots=True)
class _Cone:
    """What a walk can ask of the store, read in one statement before it (cypher.CONE).

    ``flow`` holds every flow hop (in the walk's direction) of each node the cone covers, in
    the order the level statement returns them; ``versions`` every version hop into each entity
    it covers. A level that asks of a node outside the cone is read from Neo4j as before, so
    the cone only saves round trips, it never changes an answer. Hops are kept as the rows
    Neo4j sent and made into views only when a level asks for them (most of a large cone's
    hops lead back into nodes the walk has seen, which it skips).
    """

    start: NodeMeta
    nodes: dict[int, NodeMeta]
    flow: dict[str, list[list[Any]]]
    versions: dict[str, list[list[Any]]]
    forward: bool  # flow hops leave their node (downstream)
    bare: bool
    #: the full records of a small cone's nodes (kind, the rest) and hops (first_seen, the rest), as
    #: Neo4j sent them (None: not read); node_row and edge_row make them rows
    node_rows: dict[str, tuple[str, list[Any]]] | None = None
    edge_rows: dict[EdgeIdent, tuple[float, list[Any]]] | None = None
    first_seen: dict[str, float] | None = None

    @classmethod
    def read(cls, row: dict[str, Any], upstream: bool, bare: bool) -> _Cone | _LeanCone | None:
        """Build the cone from the statement's one record (hops name their ends by internal id).

        None if a node lacks a field (its columns would not line up): the walk then reads level by level.
        """
        ids, urns, kinds, firsts = row["ids"], row["urns"], row["kinds"], row["firsts"]
        if not len(ids) == len(urns) == len(kinds) == len(firsts):
            return None
        if row["lean"]:
            return _LeanCone.read(row)
        nodes: dict[int, NodeMeta] = {}
        if bare:
            for i, urn, kind, first in zip(ids, urns, kinds, firsts, strict=True):
                nodes[i] = NodeMeta(urn, _KINDS[kind], first, first)
        else:
            for i, urn, kind, first, (last, markers) in zip(ids, urns, kinds, firsts, row["times"], strict=True):
                nodes[i] = NodeMeta(urn, _KINDS[kind], first, last, _markers(markers))
        covered = [nodes[i] for i in row["covered"]]
        flow: dict[str, list[list[Any]]] = {n.urn: [] for n in covered}
        versions: dict[str, list[list[Any]]] = {n.urn: [] for n in covered if n.kind in VERSIONED_ENTITIES}
        for rows, into in ((row["flow"], flow), (row["versions"], versions)):
            for hop in rows:
                into[nodes[hop[0]].urn].append(hop)
        cone = cls(_node_meta(row["start"]), nodes, flow, versions, not upstream, bare)
        if row["full"]:  # the rows are made when the page asks for them
            cone.node_rows = {u: (k, extra) for u, k, extra in zip(urns, kinds, row["node_records"], strict=True)}
            cone.first_seen = dict(zip(urns, firsts, strict=True))
            cone.edge_rows = {}
            for hops, extras, forward in (
                (row["flow"], row["flow_records"], not upstream),
                (row["versions"], row["versions_records"], False),
            ):
                for (a_id, b_id, type_, qualifier, first, *_), extra in zip(hops, extras, strict=True):
                    a, b = nodes[a_id].urn, nodes[b_id].urn
                    src, dst = (a, b) if forward else (b, a)
                    cone.edge_rows[src, type_, dst, qualifier] = (first, extra)
        return cone

    def hops(self, origin: str, rows: list[list[Any]], forward: bool, skip: Collection[str] = ()) -> list[Hop]:
        """Make views of one node's hops (those into ``skip`` left out)."""
        found: list[Hop] = []
        for _, b_id, type_, qualifier, first, *timed in rows:
            node = self.nodes[b_id]
            if node.urn in skip:
                continue
            src, dst = (origin, node.urn) if forward else (node.urn, origin)
            if self.bare:
                edge = EdgeMeta(src, dst, _TYPES[type_], qualifier, first, first)
            else:
                edge = EdgeMeta(src, dst, _TYPES[type_], qualifier, first, timed[0], _markers(timed[1]))
            found.append((origin, edge, node))
        return found

    def level(
        self, urns: Sequence[str], upstream: bool, versioned: Collection[str], skip: Collection[str]
    ) -> tuple[list[Hop], list[Hop]] | None:
        """Answer GraphReader.level from the cone; None if it asks of a node the cone does not cover."""
        flow, forward = self.flow, self.forward
        if not all(u in flow for u in urns):
            return None
        if upstream:
            hops = [hop for u in urns for hop in self.hops(u, flow[u], forward)]
            wanted = set(versioned)
            entities = list(dict.fromkeys(n.urn for o, _, n in hops if o in wanted and n.kind in VERSIONED_ENTITIES))
        else:
            hops = [hop for u in urns for hop in self.hops(u, flow[u], forward, skip)]
            entities = list(versioned)
        if not all(e in self.versions for e in entities):
            return None
        return hops, [hop for e in entities for hop in self.hops(e, self.versions[e], False)]

    def page(
        self, urns: Collection[str], among: Collection[EdgeIdent], idents: Collection[EdgeIdent]
    ) -> tuple[dict[str, NodeRecord], list[EdgeRecord], dict[EdgeIdent, EdgeRecord]] | None:
        """Answer GraphReader.page from a small cone's records; None if it lacks one of them."""
        node_rows, edge_rows = self.node_rows, self.edge_rows
        if node_rows is None or edge_rows is None:
            return None
        if not all(u in node_rows for u in urns) or not all(i in edge_rows for i in (*among, *idents)):
            return None
        nodes = {u: node_from_row(self.node_row(u)) for u in urns}
        return (
            nodes,
            [edge_from_row(self.edge_row(i)) for i in among],
            {i: edge_from_row(self.edge_row(i)) for i in idents},
        )

    def node_row(self, urn: str) -> dict[str, Any]:
        """Return the stored values of a node the cone brought the record of."""
        assert self.node_rows is not None
        assert self.first_seen is not None
        kind, extra = self.node_rows[urn]
        row = {"urn": urn, "kind": kind, "first_seen": self.first_seen[urn]}
        return row | dict(zip(cypher.NODE_EXTRA, extra, strict=True))

    def edge_row(self, ident: EdgeIdent) -> dict[str, Any]:
        """Return the stored values of an edge the cone brought the record of."""
        assert self.edge_rows is not None
        first, extra = self.edge_rows[ident]
        src, type_, dst, qualifier = ident
        edge = {"src": src, "type": type_, "dst": dst, "qualifier": qualifier, "first_seen": first}
        return edge | dict(zip(cypher.EDGE_EXTRA, extra, strict=True))

    def among(self, urns: Collection[str], others: Collection[str]) -> _Among:
        """Split edges_among(urns, others) into what the cone holds and what Neo4j must look for.

        Return the idents of the edges the cone holds, the nodes whose flow edges it does not
        hold all of (upstream it holds a covered node's incoming ones, downstream its outgoing
        ones: a flow edge is held when its end on that side is covered), and the entities whose
        incoming version edges it does not hold (a version edge ends at an entity: graph/edges.py,
        ALLOWED, checked for every edge a delta adds).
        """
        page = set(urns)
        around = set(others) | page
        known: set[EdgeIdent] = set()
        open_: list[str] = []
        versions_open: list[str] = []
        for nodes, rows_of, forward in ((open_, self.flow, self.forward), (versions_open, self.versions, False)):
            for u in around:
                rows = rows_of.get(u)
                if rows is None:
                    if rows_of is self.flow or parse_key(u).kind in VERSIONED_ENTITIES:
                        nodes.append(u)
                    continue
                for _, b_id, type_, qualifier, *_ in rows:  # self.hops, without making views
                    end = self.nodes[b_id].urn
                    if end in around and (u in page or end in page):
                        known.add((u, type_, end, qualifier) if forward else (end, type_, u, qualifier))
        return known, set(), open_, versions_open


#: edges_among split by a cone: idents it holds, pairs of nodes whose edges it knows to exist,
#: nodes whose flow edges and entities whose version edges Neo4j must look for
_Among = tuple[set[EdgeIdent], set[tuple[str, str]], list[str], list[str]]


@dataclass(slots=True)
class _LeanCone:
    """A large bare downstream cone: each hop only its ends' ids, each node only its columns.

    A bare downstream walk reads of a hop only the node it leads to (no time filter, nothing
    resolved), so its edges are a view that refuses to be read (``_UNREAD``). Views of nodes
    are made when a level first reaches them; a level keeps only the first flow hop into each
    node (GraphReader.level allows it when bare: the walk keeps the first anyway), so the walk
    handles each reached node once instead of once per edge into it. The hops stay in the
    flat lists Neo4j sent, each node's as one run (_Runs): a list per node was ~60k more
    objects for the garbage collector to walk, many times per query.
    """

    start: NodeMeta
    position: dict[int, int]  # a node's id -> its place in the columns
    urns: list[str]
    kinds: list[str]
    firsts: list[float]
    covered: set[int]  # the nodes whose flow hops the cone holds
    entities: set[int]  # the covered entities (whose version hops it holds)
    flow: _Runs
    versions: _Runs
    ids: dict[str, int]  # urn -> id of every node a view was made of (and the start)
    views: dict[int, NodeMeta]

    @classmethod
    def read(cls, row: dict[str, Any]) -> _LeanCone:
        """Build the cone from the statement's columns."""
        ids, urns, kinds = row["ids"], row["urns"], row["kinds"]
        position = dict(zip(ids, range(len(ids)), strict=True))
        covered = set(row["covered"])
        entities = {i for i, kind in zip(ids, kinds, strict=True) if kind in _ENTITY_KIND_SET} & covered
        start = _node_meta(row["start"])
        start_id = ids[urns.index(start.urn)]
        flow = _Runs.of(row["flow_from"], row["flow_to"])
        versions = _Runs.of(row["versions_from"], row["versions_to"])
        return cls(
            start, position, urns, kinds, row["firsts"], covered, entities, flow, versions, {start.urn: start_id}, {}
        )

    def view(self, i: int) -> NodeMeta:
        """Return the view of a node, made on first use."""
        node = self.views.get(i)
        if node is None:
            k = self.position[i]
            first = self.firsts[k]
            node = self.views[i] = NodeMeta(self.urns[k], _KINDS[self.kinds[k]], first, first)
            self.ids[node.urn] = i
        return node

    def level(
        self, urns: Sequence[str], upstream: bool, versioned: Collection[str], skip: Collection[str]
    ) -> tuple[list[Hop], list[Hop]] | None:
        """Answer GraphReader.level (bare, downstream) from the cone; None if it asks of a node it does not cover."""
        ids = self.ids
        origins = [(u, ids.get(u, -1)) for u in urns]
        entities = [(e, ids.get(e, -1)) for e in versioned]
        if (
            upstream
            or not self.covered.issuperset([i for _, i in origins])
            or not self.entities.issuperset([i for _, i in entities])
        ):
            return None
        views, position, columns, kinds, firsts = self.views, self.position, self.urns, self.kinds, self.firsts
        hops: list[Hop] = []
        taken: set[int] = set()
        for u, i in origins:
            for b in self.flow.ends(i):
                if b in taken:
                    continue
                taken.add(b)
                node = views.get(b)
                if node is None:  # self.view, inlined: this loop runs once per hop of the reach
                    k = position[b]
                    urn = columns[k]
                    if urn in skip:
                        continue
                    node = views[b] = NodeMeta(urn, _KINDS[kinds[k]], firsts[k], firsts[k])
                    ids[urn] = b
                elif node.urn in skip:
                    continue
                hops.append((u, _UNREAD, node))
        return hops, [(e, _UNREAD, self.view(v)) for e, i in entities for v in self.versions.ends(i)]

    def page(self, urns: Collection[str], among: Collection[EdgeIdent], idents: Collection[EdgeIdent]) -> None:
        """Return None: a lean cone brings no records, the page is read from Neo4j."""
        return None

    def among(self, urns: Collection[str], others: Collection[str]) -> _Among:
        """Split edges_among(urns, others) as _Cone.among does, naming what the cone holds as pairs of nodes.

        A lean cone's hops carry no type or qualifier: an edge it holds is named by its ends,
        and the page reads every flow or version edge from the first to the second.
        """
        page = set(urns)
        around = set(others) | page
        pairs: set[tuple[str, str]] = set()
        open_: list[str] = []
        versions_open: list[str] = []
        for u in around:
            i = self.ids.get(u, -1)
            if i in self.covered:
                for b in self.flow.ends(i):
                    end = self.view(b).urn
                    if end in around and (u in page or end in page):
                        pairs.add((u, end))
            else:
                open_.append(u)
            if i in self.entities:
                for v in self.versions.ends(i):
                    version = self.view(v).urn
                    if version in around and (u in page or version in page):
                        pairs.add((version, u))
            elif parse_key(u).kind in VERSIONED_ENTITIES:
                versions_open.append(u)
        return set(), pairs, open_, versions_open


@dataclass(slots=True)
class _Runs:
    """Hops as two flat lists of ids, each origin's hops one run: ``ends[first[o]:last[o]]``."""

    to: list[int]
    first: dict[int, int]
    last: dict[int, int]

    @classmethod
    def of(cls, origins: list[int], ends: list[int]) -> _Runs:
        """Index the hops by origin, keeping the store's order within each origin's hops."""
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        previous = None
        for k, a in enumerate(origins):
            if a != previous:
                if a in first:  # an origin's hops are not together: put them together (stable)
                    order = sorted(range(len(origins)), key=origins.__getitem__)
                    return cls.of([origins[j] for j in order], [ends[j] for j in order])
                first[a] = k
                if previous is not None:
                    last[previous] = k
                previous = a
        if previous is not None:
            last[previous] = len(origins)
        return cls(ends, first, last)

    def ends(self, origin: int) -> list[int]:
        """Return the ids the hops of ``origin`` lead to, in the store's order."""
        k = self.first.get(origin)
        return [] if k is None else self.to[k : self.last[origin]]


class _UnreadEdge:
    """The edge of a lean cone's hop, which a bare downstream walk never reads: reading it is a bug."""

    def _unread(self) -> Any:
        msg = "a lean cone's hop does not carry its edge (only a bare downstream walk may use it)"
        raise AssertionError(msg)

    src = dst = type = ident = property(_unread)

    def valid_at(self, t: float) -> bool:
        """Refuse: the edge was not read."""
        return bool(self._unread())

    def active_in(self, since: float | None, until: float | None) -> bool:
        """Refuse: the edge was not read."""
        return bool(self._unread())


_UNREAD: EdgeView = _UnreadEdge()


# -- merge and write inside a transaction ------------------------------------------------------


class ParamRows(list[Any]):
    """A list sent as a parameter, with a short repr.

    The driver formats every RUN's parameters for its debug log even when debug logging is off
    (neo4j 6.4, ``AsyncBolt5x5.run``): a repr of every row written, ~15 % of apply's Python
    time, and raw inputs in a debug log if one were on.
    """

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


@dataclass(slots=True)
class _Merged:
    """What a merge writes: the full rows of new records, only the changed values of known ones."""

    new_nodes: list[dict[str, Any]] = field(default_factory=ParamRows)
    # {"eid": element id, "values": the values that changed}
    changed_nodes: list[dict[str, Any]] = field(default_factory=ParamRows)
    changed_edges: list[dict[str, Any]] = field(default_factory=ParamRows)
    new_edges: list[tuple[EdgeIdent, dict[str, Any]]] = field(default_factory=list)
    eids: dict[str, str] = field(default_factory=dict)  # element ids of nodes by urn, of edges by key


async def _merge(tx: AsyncManagedTransaction, items: Sequence[Ingested]) -> _Merged:
    """Merge the items' deltas into full records read in the same transaction.

    A known record is written as the values the merge changed, not whole: a table seen again
    changes its last sighting and its evidence, not its facets, and Neo4j writes (and the driver
    packs) only what it is sent. A mention inside what is known of a node changes nothing and is
    not written at all.
    """
    node_keys, edge_keys = touched(items)
    node_keys.update(u for ident in edge_keys for u in (ident[0], ident[2]))
    nodes: dict[str, NodeRecord] = {}
    stored: dict[str, dict[str, Any]] = {}
    merged = _Merged()
    eids = merged.eids
    head = await (await tx.run(cypher.MERGED_NODES, urns=ParamRows(node_keys))).single()
    for values in head["rows"] if head else ():
        row = dict(zip(cypher.MERGED_NODES_COLUMNS, values, strict=True))
        urn = row["urn"]
        nodes[urn], stored[urn], eids[urn] = node_from_row(row), row, row.pop("eid")
    keys_of = {i: edge_key(i) for i in edge_keys}
    # An edge can only exist between two nodes that exist: the others are new, not looked up.
    by_key = {keys_of[i]: i for i in edge_keys if i[0] in eids and i[2] in eids}
    edges: dict[EdgeIdent, EdgeRecord] = {}
    stored_edges: dict[EdgeIdent, dict[str, Any]] = {}
    if by_key:
        keys: dict[str, list[str]] = {t.value: ParamRows() for t in EdgeType}
        for key, ident in by_key.items():
            keys[ident[1]].append(key)
        head = await (await tx.run(cypher.MERGED_EDGES, keys)).single()
        for values in head["rows"] if head else ():
            row = dict(zip(cypher.MERGED_EDGES_COLUMNS, values, strict=True))
            src, type_, dst, _ = ident = by_key[row["key"]]
            edges[ident] = edge_from_row({**row, "src": src, "type": type_, "dst": dst})
            eids[row["key"]] = row.pop("eid")
            stored_edges[ident] = row
    merge_batch(items, nodes, edges)
    for urn, record in nodes.items():
        row = node_to_row(record)
        before = stored.get(urn)
        if before is None:
            row["search"] = urn.lower()
            merged.new_nodes.append(row)
        elif changed := _changed(row, before):
            merged.changed_nodes.append({"eid": eids[urn], "values": changed})
    for ident, edge in edges.items():
        row = edge_to_row(edge)
        del row["src"], row["type"], row["dst"]
        before = stored_edges.get(ident)
        if before is None:
            row["key"] = keys_of[ident]
            merged.new_edges.append((ident, row))
        elif changed := _changed(row, before):
            merged.changed_edges.append({"eid": eids[before["key"]], "values": changed})
    return merged


def _changed(row: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """Return the values of a row that differ from what is stored.

    A value that is not read back (a node's kind: its urn fixes it) counts as unchanged.
    """
    return {k: v for k, v in row.items() if stored.get(k, v) != v}


def edge_key(ident: EdgeIdent) -> str:
    """Return the key an edge is indexed by: a hash of its identity (URNs can be long)."""
    return hashlib.blake2b("\x1f".join(ident).encode(), digest_size=16).hexdigest()


def _keys_by_type(idents: Collection[EdgeIdent]) -> dict[EdgeType, list[str]]:
    keys: dict[EdgeType, list[str]] = {}
    for ident in idents:
        keys.setdefault(_TYPES[ident[1]], []).append(edge_key(ident))
    return keys


async def _write_graph(tx: AsyncManagedTransaction, merged: _Merged, journal: Sequence[JournalRecord]) -> None:
    """Write journal records and merged records in two statements: the new nodes, then the rest.

    Known nodes and edges are written through their element ids, new ones created; the head
    moves to the last journal record (if any) in the same statement.
    """
    eids = merged.eids
    if merged.new_nodes:
        head = await (await tx.run(cypher.CREATE_NODES, rows=merged.new_nodes)).single()
        eids.update(head["rows"] if head else ())
    missing = {u for ident, _ in merged.new_edges for u in (ident[0], ident[2]) if u not in eids}
    if missing:  # an edge whose end this batch did not touch
        async for r in await tx.run(cypher.NODE_IDS, urns=list(missing)):
            eids[r["urn"]] = r["eid"]
    new: dict[str, list[dict[str, Any]]] = {t.value: ParamRows() for t in EdgeType}
    for (src, type_, dst, _), values in merged.new_edges:
        if src in eids and dst in eids:
            new[type_].append({"a": eids[src], "b": eids[dst], "values": values})
    last = [{"seq": journal[-1].seq, "hash": journal[-1].record_hash}] if journal else []
    params = {
        "journal": ParamRows(map(journal_row, journal)),
        "nodes": merged.changed_nodes,
        "edges": merged.changed_edges,
        "new": new,
    }
    await (await tx.run(cypher.WRITE_REST, params, head=last)).consume()


# -- rows from Neo4j ---------------------------------------------------------------------------


def _plain(record: Record) -> dict[str, Any]:
    """Return a record as a dict, its values as they came.

    ``Record.data()`` walks every nested value to convert graph types; no read returns any, and
    on a level of thousands of hops that walk cost more than the query (100-200 ms at 10k nodes).
    """
    return dict(zip(record.keys(), record.values(), strict=True))


def _markers(text: str | None) -> list[tuple[float, int]] | None:
    return [(float(t), int(c)) for t, c in orjson.loads(text)] if text else None


def _node_meta(r: dict[str, Any]) -> NodeMeta:
    return NodeMeta(r["urn"], _KINDS[r["kind"]], r["first_seen"], r["last_seen"], _markers(r["markers"]))


def _hop_node(r: dict[str, Any]) -> NodeMeta:
    return NodeMeta(r["b_urn"], _KINDS[r["b_kind"]], r["b_first_seen"], r["b_last_seen"], _markers(r["b_markers"]))


def _edge_meta(r: dict[str, Any]) -> EdgeMeta:
    return EdgeMeta(
        r["src"], r["dst"], _TYPES[r["type"]], r["qualifier"], r["first_seen"], r["last_seen"], _markers(r["markers"])
    )


def journal_row(r: JournalRecord) -> dict[str, Any]:
    """Return a journal record as the parameters its node is written with (apply, graph/neo4j/bulk.py)."""
    return {
        "seq": r.seq,
        "id": r.id,
        "source": r.source,
        "received_at": r.received_at,
        "raw": r.raw,
        "prev_hash": r.prev_hash,
        "record_hash": r.record_hash,
    }
