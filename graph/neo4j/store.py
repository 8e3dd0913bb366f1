"""Neo4jStore: the production store, on the official async driver.

One apply is one write transaction: it locks the journal head, skips inputs already kept,
reads the records it will merge, merges them with the same functions as the embedded store
(graph/records.py), and writes journal records, nodes and edges with batched UNWIND: what
existed is updated through the element id it was read with, what is new is created.
Reads go through ``execute_query`` with ``routing_=READ`` and an explicit database, so a
cluster's secondaries or Aura serve them by changing the URI. Traversal is level-by-level
breadth-first (graph/traversal.py): one statement per level (flow and version hops), one for
the page, never path enumeration.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import orjson
from neo4j import (
    READ_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    AsyncTransaction,
    Query,
    RoutingControl,
)
from neo4j.exceptions import ClientError, DriverError, ServiceUnavailable, SessionExpired, TransientError

from graph import traversal
from graph.edges import EdgeType
from graph.errors import QueryDeadlineExceeded, StoreUnavailable
from graph.journal import GENESIS, ChainReport, DeadLetter, JournalEntry, JournalRecord, chain, verify_chain
from graph.keys import VERSIONED_ENTITIES, Kind, NodeKey
from graph.merging import merge_batch, touched
from graph.neo4j import cypher
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

log = logging.getLogger("lineage.neo4j")
# When the running query must end (monotonic seconds); set per lineage call, read by _read.
_deadline: ContextVar[float | None] = ContextVar("lineage_neo4j_deadline", default=None)
# The read transaction of the running traversal (in a list so a timeout can drop it).
_read_tx: ContextVar[list[AsyncTransaction | None] | None] = ContextVar("lineage_neo4j_read_tx", default=None)
_KINDS = {k.value: k for k in Kind}
_TYPES = {t.value: t for t in EdgeType}
_ENTITY_KINDS = sorted(k.value for k in VERSIONED_ENTITIES)
_UNAVAILABLE = (ServiceUnavailable, SessionExpired, DriverError, OSError)
_REPLAY_CHUNK = 2000
_PAGE_GRACE = 5.0  # seconds: a new statement is planned first, which takes long on a busy server


class Neo4jStore:
    """The Neo4j store; open it with ``await Neo4jStore.open(uri, ...)``."""

    def __init__(self, driver: AsyncDriver, database: str, read_timeout: float | None = None) -> None:
        self.driver = driver
        self.database = database
        # Every read is a transaction with this timeout: a runaway query ends on the server too.
        self.read_timeout = read_timeout

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

        Inside a traversal it runs in the traversal's read transaction (one snapshot, one
        connection); otherwise through ``execute_query`` routed to a reader. The timeout is
        what is left of the running query's deadline, so the server stops working on it too.
        """
        holder = _read_tx.get()
        try:
            if holder is not None and holder[0] is not None:
                result = await holder[0].run(text, params)
                return [record.data() async for record in result]
            timeout = self._timeout()
            if holder is not None and timeout is not None:
                # The walk was cut: the page of what it found is bounded (limit), give it time to be read.
                timeout = max(timeout, _PAGE_GRACE)
            query = Query(text, timeout=timeout)
            records, _, _ = await self.driver.execute_query(
                query, params, routing_=RoutingControl.READ, database_=self.database
            )
            return [r.data() for r in records]
        except _UNAVAILABLE as e:
            raise StoreUnavailable(f"Neo4j unavailable: {e}") from e  # noqa: EM102
        except ClientError as e:
            if "TransactionTimedOut" in (e.code or "") or "Terminated" in (e.code or ""):
                if holder is not None:
                    holder[0] = None  # the transaction is gone; what follows (the page) reads outside it
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
        """Run the reads of one query in one read transaction, timed out at its deadline."""
        token = _deadline.set(None if deadline is None else time.monotonic() + deadline)
        try:
            async with self.driver.session(database=self.database, default_access_mode=READ_ACCESS) as session:
                tx = await session.begin_transaction(timeout=self._timeout())
                holder: list[AsyncTransaction | None] = [tx]
                tx_token = _read_tx.set(holder)
                try:
                    yield
                finally:
                    _read_tx.reset(tx_token)
                    if holder[0] is not None:
                        await tx.close()
        except _UNAVAILABLE as e:
            raise StoreUnavailable(f"Neo4j unavailable: {e}") from e  # noqa: EM102
        finally:
            _deadline.reset(token)

    async def _write(self, work: Any) -> Any:
        """Run a function in one managed write transaction (retried by the driver on transient errors)."""
        try:
            async with self.driver.session(database=self.database) as session:
                return await session.execute_write(work)
        except (*_UNAVAILABLE, TransientError) as e:
            raise StoreUnavailable(f"Neo4j unavailable: {e}") from e  # noqa: EM102

    # -- writing -----------------------------------------------------------------------------

    async def apply(self, batch: Sequence[Ingested]) -> list[bool]:
        """Journal and apply each input in one transaction; False marks an input already kept."""

        async def work(tx: AsyncManagedTransaction) -> list[bool]:
            ids = [item.entry.id for item in batch]
            head = await (await tx.run(cypher.LOCK_HEAD, genesis=GENESIS, ids=_Rows(ids))).single()
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
            nodes, edges, eids = await _merge(tx, fresh)
            await _write_graph(tx, nodes, edges, eids, records)
            return outcome

        result: list[bool] = await self._write(work)
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

        return DeadLetter(await self._write(work), source, received_at, raw, reason)

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
                nodes, edges, eids = await _merge(tx, items)
                await _write_graph(tx, nodes, edges, eids, [])

            await self._write(work)
            applied += len(items)
            after = records[-1].seq
            if progress is not None:
                progress(len(records))

    # -- reading: traversal (GraphReader) ----------------------------------------------------

    async def nodes(self, urns: Collection[str]) -> dict[str, NodeView]:
        """Return the views of those nodes that exist."""
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
        """Return one level's flow hops and the version hops the rules need, in one statement."""
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
        named = [{"src": i[0], "dst": i[2], "key": edge_key(i)} for i in idents]
        params = {"urns": list(urns), "others": list(others), "named": named}
        try:
            rows = await self._read(cypher.PAGE, **params)
        except QueryDeadlineExceeded:
            # The deadline ran out in the read transaction: the page (bounded by the limit) is read
            # once more outside it, with a short grace, so the partial answer can be returned.
            if _read_tx.get() is None:
                raise
            rows = await self._read(cypher.PAGE, **params)
        nodes: dict[str, NodeRecord] = {}
        among: list[EdgeRecord] = []
        edges: dict[EdgeIdent, EdgeRecord] = {}
        for r in rows:
            if r["part"] == 0:
                node = node_from_row(r["row"])
                nodes[node.urn] = node
            elif r["part"] == 1:
                among.append(edge_from_row(r["row"]))
            else:
                edge = edge_from_row(r["row"])
                edges[edge.ident] = edge
        return nodes, among, edges

    async def lineage(self, query: LineageQuery) -> LineageResult:
        """Answer a lineage query, all its reads in one read transaction timed out at the deadline."""
        async with self._snapshot(query.deadline):
            return await traversal.lineage(self, query)

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


# -- merge and write inside a transaction ------------------------------------------------------


class _Rows(list[Any]):
    """A list sent as a parameter, with a short repr.

    The driver formats every RUN's parameters for its debug log even when debug logging is off
    (neo4j 6.4, ``AsyncBolt5x5.run``): a repr of every row written, ~15 % of apply's Python
    time, and raw inputs in a debug log if one were on.
    """

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


async def _merge(
    tx: AsyncManagedTransaction, items: Sequence[Ingested]
) -> tuple[dict[str, dict[str, Any]], dict[EdgeIdent, EdgeRecord], dict[str, str]]:
    """Merge the items' deltas into full records read in the same transaction.

    Return the rows of the nodes the merge changed (a mention inside what is known of a node
    changes nothing, and is not written again), the merged edges, and the element ids of what
    existed (nodes by id, edges by key), to write through them.
    """
    node_keys, edge_keys = touched(items)
    node_keys.update(u for ident in edge_keys for u in (ident[0], ident[2]))
    nodes: dict[str, NodeRecord] = {}
    stored: dict[str, dict[str, Any]] = {}
    eids: dict[str, str] = {}
    head = await (await tx.run(cypher.MERGED_NODES, urns=_Rows(node_keys))).single()
    for values in head["rows"] if head else ():
        row = dict(zip(cypher.MERGED_NODES_COLUMNS, values, strict=True))
        urn = row["urn"]
        nodes[urn], stored[urn], eids[urn] = node_from_row(row), row, row.pop("eid")
    # An edge can only exist between two nodes that exist: the others are new, not looked up.
    by_key = {edge_key(i): i for i in edge_keys if i[0] in eids and i[2] in eids}
    edges: dict[EdgeIdent, EdgeRecord] = {}
    if by_key:
        keys: dict[str, list[str]] = {t.value: _Rows() for t in EdgeType}
        for key, ident in by_key.items():
            keys[ident[1]].append(key)
        head = await (await tx.run(cypher.MERGED_EDGES, keys)).single()
        for values in head["rows"] if head else ():
            row = dict(zip(cypher.MERGED_EDGES_COLUMNS, values, strict=True))
            src, type_, dst, _ = ident = by_key[row["key"]]
            edges[ident] = edge_from_row({**row, "src": src, "type": type_, "dst": dst})
            eids[row["key"]] = row["eid"]
    merge_batch(items, nodes, edges)
    rows: dict[str, dict[str, Any]] = {}
    for urn, record in nodes.items():
        row = node_to_row(record)
        before = stored.get(urn)
        if before is None or any(row[k] != v for k, v in before.items()):
            rows[urn] = row
    return rows, edges, eids


def edge_key(ident: EdgeIdent) -> str:
    """Return the key an edge is indexed by: a hash of its identity (URNs can be long)."""
    return hashlib.blake2b("\x1f".join(ident).encode(), digest_size=16).hexdigest()


def _keys_by_type(idents: Collection[EdgeIdent]) -> dict[EdgeType, list[str]]:
    keys: dict[EdgeType, list[str]] = {}
    for ident in idents:
        keys.setdefault(_TYPES[ident[1]], []).append(edge_key(ident))
    return keys


async def _write_graph(
    tx: AsyncManagedTransaction,
    nodes: dict[str, dict[str, Any]],
    edges: dict[EdgeIdent, EdgeRecord],
    eids: dict[str, str],
    journal: Sequence[JournalRecord],
) -> None:
    """Write journal records and merged records in two statements: the new nodes, then the rest.

    Known nodes and edges are written through their element ids, new ones created; the head
    moves to the last journal record (if any) in the same statement.
    """
    new_nodes, old_nodes = [], []
    for urn, row in nodes.items():
        row["search"] = urn.lower()
        eid = eids.get(urn)
        if eid is None:
            new_nodes.append(row)
        else:
            old_nodes.append({"eid": eid, "values": row})
    if new_nodes:
        head = await (await tx.run(cypher.CREATE_NODES, rows=_Rows(new_nodes))).single()
        eids.update(head["rows"] if head else ())
    missing = {u for e in edges.values() for u in (e.src, e.dst) if u not in eids}
    if missing:  # an edge whose end this batch did not touch
        async for r in await tx.run(cypher.NODE_IDS, urns=list(missing)):
            eids[r["urn"]] = r["eid"]
    new: dict[str, list[dict[str, Any]]] = {t.value: _Rows() for t in EdgeType}
    old: list[dict[str, Any]] = _Rows()
    for ident, edge in edges.items():
        row = edge_to_row(edge)
        values = {k: v for k, v in row.items() if k not in ("src", "type", "dst")}
        key = values["key"] = edge_key(ident)
        eid = eids.get(key)
        if eid is not None:
            old.append({"eid": eid, "values": values})
        elif edge.src in eids and edge.dst in eids:
            new[edge.type].append({"a": eids[edge.src], "b": eids[edge.dst], "values": values})
    last = [{"seq": journal[-1].seq, "hash": journal[-1].record_hash}] if journal else []
    params = {"journal": _Rows(map(_journal_row, journal)), "nodes": _Rows(old_nodes), "edges": old, "new": new}
    await (await tx.run(cypher.WRITE_REST, params, head=last)).consume()


# -- rows from Neo4j ---------------------------------------------------------------------------


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


def _journal_row(r: JournalRecord) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "id": r.id,
        "source": r.source,
        "received_at": r.received_at,
        "raw": r.raw,
        "prev_hash": r.prev_hash,
        "record_hash": r.record_hash,
    }
