"""Copy an embedded store (its SQLite file) into an empty Neo4j, without replaying the journal.

A user who started on the embedded default and moves to Neo4j keeps everything: the journal
record for record (same seq, ids and hashes, so the chain still verifies), the dead letters,
and every node and edge with all its fields. Nothing is merged: the SQLite rows are already
the merged records (``node_to_row``, ``edge_to_row``), so they are written as they are, with
the statements ``Neo4jStore.apply`` creates new records with (cypher.CREATE_NODES,
cypher.WRITE_REST), in large batches of ``UNWIND ... CREATE``: the same labels, properties,
relationship types, edge keys and journal head as if every input had been applied.

The target must be empty (no node of any label): the copy reads nothing back and would
duplicate what is there. The head is written last: a copy cut short leaves a target without
one, which the next copy refuses as not empty (empty it, then copy again). Nothing may write
to the embedded store during the copy: its tables are read one after the other, not as one snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.edges import EdgeType
from graph.errors import LineageError
from graph.memory.sqlite import SqliteFile
from graph.neo4j import cypher
from graph.neo4j.store import Neo4jStore, ParamRows, edge_key, journal_row

JOURNAL_BATCH = 5_000
NODE_BATCH = 10_000
EDGE_BATCH = 20_000
#: what is being copied (named as SqliteFile.counts names it) and how many more are done
CopyProgress = Callable[[str, int], None]

_ANY = "MATCH (n) RETURN labels(n) AS labels LIMIT 1"
_COUNTS = """
CALL () { MATCH (j:JournalRecord) RETURN count(j) AS journal }
CALL () { MATCH (d:DeadLetter) RETURN count(d) AS dead_letters }
CALL () { MATCH (n:Node) RETURN count(n) AS nodes }
CALL () { MATCH ()-[r]->() RETURN count(r) AS edges }
RETURN journal, dead_letters, nodes, edges
"""
_DEAD_LETTERS = "UNWIND $rows AS row CREATE (d:DeadLetter) SET d = row"
# The head apply's LOCK_HEAD would create, moved to the copied journal's end. ``edge_keys``:
# every copied edge has its key, so opening the store has none to add (store._key_old_edges).
_HEAD = """
CREATE (h:JournalHead {name: 'head'})
SET h.seq = $seq, h.hash = $hash, h.dead_letters = $dead_letters, h.edge_keys = true
"""


class TargetNotEmpty(LineageError):
    """The Neo4j to copy into already holds data."""


@dataclass(frozen=True, slots=True)
class Copied:
    """How many of each were copied, and the journal head the target now has."""

    journal: int
    dead_letters: int
    nodes: int
    edges: int
    head_seq: int
    head_hash: str

    @property
    def elements(self) -> int:
        """Return the graph elements copied (nodes and edges)."""
        return self.nodes + self.edges


async def copy_embedded(source: SqliteFile, target: Neo4jStore, progress: CopyProgress | None = None) -> Copied:
    """Copy journal, dead letters, nodes and edges of an embedded store's file into an empty Neo4j."""
    found, _, _ = await target.driver.execute_query(_ANY, database_=target.database)
    if found:
        labels = ":".join(found[0]["labels"])
        msg = (
            f"Neo4j database {target.database!r} is not empty (it holds :{labels} nodes, at least): "
            "copy only into an empty database"
        )
        raise TargetNotEmpty(msg)
    tell = progress or (lambda _what, _n: None)
    journal = 0
    after = 0
    while page := source.journal(after, JOURNAL_BATCH):
        await _write_rest(target, journal=ParamRows(map(journal_row, page)))
        journal += len(page)
        after = page[-1].seq
        tell("journal", len(page))
    letters = source.dead_letters(-1)  # SQLite: a negative LIMIT is none
    if letters:
        rows = ParamRows(asdict(d) for d in letters)
        await _run(target, _DEAD_LETTERS, rows=rows)
        tell("dead_letters", len(letters))
    eids: dict[str, str] = {}
    for batch in _chunks(source.node_rows(), NODE_BATCH):
        eids.update(await _create_nodes(target, batch))
        tell("nodes", len(batch))
    edges = 0
    for batch in _chunks(source.edge_rows(), EDGE_BATCH):
        new: dict[str, list[dict[str, Any]]] = {t.value: ParamRows() for t in EdgeType}
        for row in batch:
            values = {k: v for k, v in row.items() if k not in ("id", "src", "type", "dst")}
            values["key"] = edge_key((row["src"], row["type"], row["dst"], row["qualifier"]))
            new[row["type"]].append({"a": eids[row["src"]], "b": eids[row["dst"]], "values": values})
        await _write_rest(target, new=new)
        edges += len(batch)
        tell("edges", len(batch))
    seq, hash_ = source.head()
    dead = max((d.id for d in letters), default=0)
    await _run(target, _HEAD, seq=seq, hash=hash_, dead_letters=dead)
    return Copied(journal, len(letters), len(eids), edges, seq, hash_)


async def target_counts(target: Neo4jStore) -> dict[str, int]:
    """Return how many journal records, dead letters, nodes and edges a Neo4j holds."""
    records, _, _ = await target.driver.execute_query(_COUNTS, database_=target.database)
    return {k: int(records[0][k]) for k in ("journal", "dead_letters", "nodes", "edges")}


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _create_nodes(target: Neo4jStore, batch: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Create one batch of nodes as apply creates new ones; return their (urn, element id)."""
    rows = ParamRows()
    for row in batch:
        values = {k: v for k, v in row.items() if k != "id"}
        values["search"] = row["urn"].lower()
        rows.append(values)

    async def work(tx: AsyncManagedTransaction) -> list[tuple[str, str]]:
        head = await (await tx.run(cypher.CREATE_NODES, rows=rows)).single()
        return [(urn, eid) for urn, eid in head["rows"]] if head else []

    created: list[tuple[str, str]] = await target.write(work)
    return created


async def _write_rest(
    target: Neo4jStore,
    *,
    journal: list[dict[str, Any]] | None = None,
    new: dict[str, list[dict[str, Any]]] | None = None,
) -> None:
    """Create journal records or edges with apply's last statement (nothing updated, the head left alone)."""
    params = {
        "journal": journal or ParamRows(),
        "nodes": ParamRows(),
        "edges": ParamRows(),
        "new": new or {t.value: ParamRows() for t in EdgeType},
        "head": ParamRows(),
    }
    await _run(target, cypher.WRITE_REST, **params)


async def _run(target: Neo4jStore, statement: str, **params: Any) -> None:
    async def work(tx: AsyncManagedTransaction) -> None:
        await (await tx.run(statement, params)).consume()

    await target.write(work)
