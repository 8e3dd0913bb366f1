"""Neo4j store benchmark: ingest, trace-back and impact, beside raw Cypher through the same driver.

The floor is the same reachability asked as one Cypher statement (variable-length pattern,
RETURN DISTINCT), which Neo4j plans without enumerating paths; the store walks with the shared
semantics (breadth-first levels, version resolution) over the walk's cone, read in one
statement, and reads the page in one more (none for a small cone, which brings its records).

    python -m benchmarks.neo4j_bench --nodes 100000 [--heap 2g --pagecache 1g]
    python -m benchmarks.neo4j_bench --nodes 1000000 --copy --heap 4g --pagecache 6g --samples 200

With ``--copy`` the estate is built in the embedded store (a temporary folder) and copied into
Neo4j (graph/neo4j/bulk.py, timed as "copy"); the last ``--hold-back`` events are then applied
to Neo4j on top of the copied graph, which is what "ingest" times, and to the embedded store,
whose answers the Neo4j ones are checked against.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks.quantiles import quantile
from graph.journal import JournalEntry
from graph.keys import parse_key
from graph.memory import MemoryStore
from graph.neo4j import Neo4jStore
from graph.neo4j.bulk import copy_embedded, target_counts
from graph.neo4j.local_server import start_local_neo4j
from graph.query import Direction, LineageQuery
from graph.store import Ingested, LineageStore
from ingest import native
from ingest.estate import Estate, Plan

BATCH = 1000
ANSWERS = (
    "MATCH (n:Node {kind: 'Output'}) WHERE n.urn STARTS WITH 'urn:lineage:output:support-rag:' RETURN n.urn AS urn"
)
RAW_UPSTREAM = """
MATCH (a:Node {urn: $urn})<-[:INPUT_OF|PRODUCED|DERIVES*1..10]-(b:Node)
RETURN count(DISTINCT b) AS n
"""
# The impact's reach, directed as the walk is: flow edges out of the start, and from an entity
# reached on the way into its versions (VERSION_OF, RUN_OF) and on out of them. It reaches the
# nodes the store counts; what it leaves to the store is the distances (breadth-first levels)
# and the page.
RAW_DOWNSTREAM = """
MATCH (s:Node {urn: $urn})
CALL (s) { MATCH (s)-[:INPUT_OF|PRODUCED|DERIVES*0..30]->(x:Node) RETURN collect(DISTINCT x) AS head }
CALL (head) {
  UNWIND head AS e WITH e WHERE e.kind IN ['Dataset', 'Job', 'Model', 'Prompt', 'VectorIndex']
  MATCH (e)<-[:VERSION_OF|RUN_OF]-(v:Node) RETURN collect(DISTINCT v) AS vs
}
CALL (vs) { UNWIND vs AS v MATCH (v)-[:INPUT_OF|PRODUCED|DERIVES*0..29]->(x:Node) RETURN collect(DISTINCT x) AS tail }
UNWIND head + tail AS b
RETURN b.kind AS kind, count(DISTINCT b) AS n
"""
# The floor of the earlier runs (kept to compare with them): undirected, so it also walks from
# versions up to their entities and on, and it leaves out RUN_OF; it reaches other nodes.
RAW_DOWNSTREAM_UNDIRECTED = """
MATCH (a:Node {urn: $urn})-[:INPUT_OF|PRODUCED|DERIVES|VERSION_OF*1..30]-(b:Node)
RETURN b.kind AS kind, count(DISTINCT b) AS n
"""


def _folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _say(text: str) -> None:
    print(time.strftime("%H:%M:%S"), text, file=sys.stderr, flush=True)


def _ingested(docs: list[str]) -> list[Ingested]:
    now = time.time()  # one arrival time per batch: the journal records are the same in both stores
    return [Ingested(JournalEntry(native.SOURCE, t, now), native.to_delta(t)) for t in docs]


async def _apply(store: LineageStore, items: list[Ingested]) -> float:
    """Apply items in batches; return the seconds it took."""
    started = time.perf_counter()
    for i in range(0, len(items), BATCH):
        await store.apply(items[i : i + BATCH])
    return time.perf_counter() - started


async def _copy_load(docs: list[str], hold_back: int, store: Neo4jStore, memory: MemoryStore) -> dict[str, Any]:
    """Build all but the last events in the embedded store, copy it into Neo4j, then apply the rest to both.

    The copy is timed on its own ("copy"); what is timed as ingest is ``Neo4jStore.apply`` of
    the held-back events on top of the copied graph, the store's own write path. Deltas are
    built batch by batch and dropped once applied: at 1M the whole list would hold GBs the
    Neo4j server beside it needs.
    """
    cut = len(docs) - hold_back
    embedded_s, loaded_elements = 0.0, 0
    for i in range(0, cut, BATCH):
        batch = _ingested(docs[i : min(i + BATCH, cut)])
        loaded_elements += sum(item.delta.size for item in batch)
        embedded_s += await _apply(memory, batch)
    fresh = _ingested(docs[cut:])
    del docs[:]
    _say(f"embedded store built: {loaded_elements} elements in {embedded_s:.0f} s; copying")
    load_before_copy = os.getloadavg()
    started = time.perf_counter()
    copied = await copy_embedded(memory.file, store)
    copy_s = time.perf_counter() - started
    load_after_copy = os.getloadavg()
    _say(f"copied {copied.elements} elements, {copied.journal} journal records in {copy_s:.0f} s; applying")
    ingest_s = await _apply(store, fresh)
    await _apply(memory, fresh)  # the same events: both stores must then answer alike
    heads = await store.head(), await memory.head()
    elements = sum(i.delta.size for i in fresh)
    return {
        "embedded_apply_per_s": loaded_elements / embedded_s,
        "embedded_apply_s": embedded_s,
        "copied_nodes": copied.nodes,
        "copied_edges": copied.edges,
        "copied_journal": copied.journal,
        "copy_s": copy_s,
        "copy_elements_per_s": copied.elements / copy_s,
        "copy_load_average": [load_before_copy, load_after_copy],
        "ingest_events": len(fresh),
        "ingest_elements": elements,
        "ingest_per_s": elements / ingest_s,
        "events_per_s": len(fresh) / ingest_s,
        "journal_heads_equal": heads[0] == heads[1],
        "head_seq": heads[0][0],
    }


async def run(
    nodes: int,
    heap: str,
    pagecache: str,
    samples: int,
    impacts: int,
    copy: bool,
    hold_back: int,
    cone_cap: int | None = None,
) -> dict[str, Any]:
    estate = Estate(Plan.for_nodes(nodes), seed=42)
    docs = [native.dumps(d) for d in estate.events()]
    events = len(docs)
    # A home of our own, kept past the stop: store files are only complete after the checkpoint of a clean stop.
    home = Path(tempfile.mkdtemp(prefix="neo4j-bench-home-"))
    server = start_local_neo4j(heap=heap, pagecache=pagecache, home=home)
    store = await Neo4jStore.open(server.uri, read_timeout=None)
    folder = Path(tempfile.mkdtemp(prefix="neo4j-bench-embedded-"))
    memory = MemoryStore(folder) if copy else None
    try:
        if memory is not None:
            loading = await _copy_load(docs, hold_back, store, memory)
        else:
            items = _ingested(docs)
            ingest_s = await _apply(store, items)
            elements = sum(i.delta.size for i in items)
            loading = {"elements": elements, "ingest_per_s": elements / ingest_s, "events_per_s": len(items) / ingest_s}
            del items
        found, _, _ = await store.driver.execute_query(ANSWERS, database_=store.database)
        answers = sorted(r["urn"] for r in found)
        rng = random.Random(1)
        starts = rng.sample(answers, k=min(samples, len(answers)))
        load_before_queries = os.getloadavg()
        trace, raw_trace, totals = [], [], []
        for urn in starts:
            t = time.perf_counter()
            result = await store.lineage(LineageQuery(parse_key(urn), Direction.UPSTREAM, max_hops=10))
            trace.append(time.perf_counter() - t)
            totals.append(result.total)
            t = time.perf_counter()
            await store.driver.execute_query(RAW_UPSTREAM, {"urn": urn}, database_=store.database)
            raw_trace.append(time.perf_counter() - t)
        source = estate.landmarks["source_table"]
        impact, raw_impact, raw_undirected, total, raw_total, counts = [], [], [], 0, 0, {}
        for _ in range(impacts):
            t = time.perf_counter()
            result = await store.lineage(LineageQuery(parse_key(source), Direction.DOWNSTREAM, max_hops=30, limit=100))
            impact.append(time.perf_counter() - t)
            total, counts = result.total, result.counts_by_kind
            t = time.perf_counter()
            rows, _, _ = await store.driver.execute_query(RAW_DOWNSTREAM, {"urn": source}, database_=store.database)
            raw_impact.append(time.perf_counter() - t)
            raw_total = sum(r["n"] for r in rows)
            t = time.perf_counter()
            await store.driver.execute_query(RAW_DOWNSTREAM_UNDIRECTED, {"urn": source}, database_=store.database)
            raw_undirected.append(time.perf_counter() - t)
        wider: dict[str, Any] = {}
        if cone_cap is not None:
            # The same impacts with the (bare: lean) downstream cone's cap moved: one statement for
            # a reach a lower cap leaves to the walk level by level. Answers compared.
            store.lean_cone_cap = cone_cap
            timed = []
            for _ in range(impacts):
                t = time.perf_counter()
                result = await store.lineage(
                    LineageQuery(parse_key(source), Direction.DOWNSTREAM, max_hops=30, limit=100)
                )
                timed.append(time.perf_counter() - t)
            wider = {
                "cone_cap": cone_cap,
                "impact_cone_cap_ms": [t * 1e3 for t in timed],
                "impact_cone_cap_p50_ms": statistics.median(timed) * 1e3,
                "impact_cone_cap_same_answer": (result.total, result.counts_by_kind) == (total, counts),
            }
        load_after_queries = os.getloadavg()
        rss = psutil.Process(server.pid).memory_info().rss / 2**20
        graph = await target_counts(store)
        if memory is not None:
            # The embedded store holds the same events: its answers are the reference.
            same_traces = 0
            for urn, n in zip(starts, totals, strict=True):
                query = LineageQuery(parse_key(urn), Direction.UPSTREAM, max_hops=10)
                same_traces += (await memory.lineage(query)).total == n
            query = LineageQuery(parse_key(source), Direction.DOWNSTREAM, max_hops=30, limit=100)
            expected = await memory.lineage(query)
            loading["answers_match"] = {
                "trace_totals": f"{same_traces}/{len(starts)}",
                "impact": (expected.total, expected.counts_by_kind) == (total, counts),
            }
    finally:
        await store.close()
        if memory is not None:
            await memory.close()
        shutil.rmtree(folder, ignore_errors=True)
        server.stop()
        store_mb, tx_mb = _folder_mb(home / "data" / "databases"), _folder_mb(home / "data" / "transactions")
        shutil.rmtree(home, ignore_errors=True)
    return {
        "nodes_target": nodes,
        "nodes": graph["nodes"],
        "edges": graph["edges"],
        "events": events,
        "journal": graph["journal"],
        **loading,
        "trace_samples": len(trace),
        "trace_p50_ms": quantile(trace, 0.5) * 1e3,
        "trace_p95_ms": quantile(trace, 0.95) * 1e3,
        "raw_trace_p50_ms": quantile(raw_trace, 0.5) * 1e3,
        "raw_trace_p95_ms": quantile(raw_trace, 0.95) * 1e3,
        "impact_total": total,
        "impact_ms": [t * 1e3 for t in impact],
        "impact_p50_ms": statistics.median(impact) * 1e3,
        "raw_impact_ms": [t * 1e3 for t in raw_impact],
        "raw_impact_p50_ms": statistics.median(raw_impact) * 1e3,
        "raw_impact_total": raw_total,
        "raw_impact_undirected_p50_ms": statistics.median(raw_undirected) * 1e3,
        "trace_ratio_p50": quantile(trace, 0.5) / quantile(raw_trace, 0.5),
        "trace_ratio_p95": quantile(trace, 0.95) / quantile(raw_trace, 0.95),
        "impact_ratio": statistics.median(impact) / statistics.median(raw_impact),
        "impact_ratio_undirected": statistics.median(impact) / statistics.median(raw_undirected),
        **wider,
        "load_average": [load_before_queries, load_after_queries],
        "neo4j_rss_mb": rss,
        "neo4j_store_mb": store_mb,
        "neo4j_tx_logs_mb": tx_mb,
        "heap": heap,
        "pagecache": pagecache,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache", default="1g")
    parser.add_argument("--samples", type=int, default=100, help="trace-backs (random answers)")
    parser.add_argument("--impacts", type=int, default=3)
    parser.add_argument(
        "--copy",
        action="store_true",
        help="load by building the estate in the embedded store and copying it (graph/neo4j/bulk.py)",
    )
    parser.add_argument(
        "--hold-back",
        type=int,
        default=5000,
        help="with --copy: the last events, applied to Neo4j after the copy (timed as ingest)",
    )
    parser.add_argument(
        "--cone-cap",
        type=int,
        default=None,
        help="also time the impacts with the lean downstream cone capped at this many nodes instead",
    )
    args = parser.parse_args()
    for n in args.nodes:
        result = asyncio.run(
            run(n, args.heap, args.pagecache, args.samples, args.impacts, args.copy, args.hold_back, args.cone_cap)
        )
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
