"""Neo4j store benchmark: ingest, trace-back and impact, beside raw Cypher through the same driver.

The floor is the same reachability asked as one Cypher statement (variable-length pattern,
RETURN DISTINCT), which Neo4j plans without enumerating paths; the store walks with the shared
semantics (breadth-first levels, version resolution) over the walk's cone, read in one
statement, and reads the page in one more (none for a small cone, which brings its records).

    python -m benchmarks.neo4j_bench --nodes 100000 [--heap 2g --pagecache 1g]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from typing import Any

import psutil

from graph.journal import JournalEntry
from graph.keys import parse_key
from graph.neo4j import Neo4jStore
from graph.neo4j.local_server import start_local_neo4j
from graph.query import Direction, LineageQuery
from graph.store import Ingested
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


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[int(q * (len(ordered) - 1))] * 1e3


async def run(nodes: int, heap: str, pagecache: str, samples: int) -> dict[str, Any]:
    estate = Estate(Plan.for_nodes(nodes), seed=42)
    docs = [native.dumps(d) for d in estate.events()]
    now = time.time()
    items = [Ingested(JournalEntry(native.SOURCE, t, now), native.to_delta(t)) for t in docs]
    elements = sum(i.delta.size for i in items)
    server = start_local_neo4j(heap=heap, pagecache=pagecache)
    store = await Neo4jStore.open(server.uri, read_timeout=None)
    try:
        started = time.perf_counter()
        for i in range(0, len(items), BATCH):
            await store.apply(items[i : i + BATCH])
        ingest_s = time.perf_counter() - started
        found, _, _ = await store.driver.execute_query(ANSWERS, database_=store.database)
        answers = sorted(r["urn"] for r in found)
        rng = random.Random(1)
        starts = rng.sample(answers, k=min(samples, len(answers)))
        trace, raw_trace = [], []
        for urn in starts:
            t = time.perf_counter()
            await store.lineage(LineageQuery(parse_key(urn), Direction.UPSTREAM, max_hops=10))
            trace.append(time.perf_counter() - t)
            t = time.perf_counter()
            await store.driver.execute_query(RAW_UPSTREAM, {"urn": urn}, database_=store.database)
            raw_trace.append(time.perf_counter() - t)
        source = estate.landmarks["source_table"]
        impact, raw_impact, raw_undirected, total, raw_total = [], [], [], 0, 0
        for _ in range(3):
            t = time.perf_counter()
            result = await store.lineage(LineageQuery(parse_key(source), Direction.DOWNSTREAM, max_hops=30, limit=100))
            impact.append(time.perf_counter() - t)
            total = result.total
            t = time.perf_counter()
            rows, _, _ = await store.driver.execute_query(RAW_DOWNSTREAM, {"urn": source}, database_=store.database)
            raw_impact.append(time.perf_counter() - t)
            raw_total = sum(r["n"] for r in rows)
            t = time.perf_counter()
            await store.driver.execute_query(RAW_DOWNSTREAM_UNDIRECTED, {"urn": source}, database_=store.database)
            raw_undirected.append(time.perf_counter() - t)
        rss = psutil.Process(server.pid).memory_info().rss / 2**20
    finally:
        await store.close()
        server.stop()
    return {
        "nodes_target": nodes,
        "events": len(items),
        "elements": elements,
        "ingest_per_s": elements / ingest_s,
        "events_per_s": len(items) / ingest_s,
        "trace_p50_ms": _p(trace, 0.5),
        "trace_p95_ms": _p(trace, 0.95),
        "raw_trace_p50_ms": _p(raw_trace, 0.5),
        "raw_trace_p95_ms": _p(raw_trace, 0.95),
        "impact_total": total,
        "impact_p50_ms": statistics.median(impact) * 1e3,
        "raw_impact_p50_ms": statistics.median(raw_impact) * 1e3,
        "raw_impact_total": raw_total,
        "raw_impact_undirected_p50_ms": statistics.median(raw_undirected) * 1e3,
        "trace_ratio_p50": _p(trace, 0.5) / _p(raw_trace, 0.5),
        "trace_ratio_p95": _p(trace, 0.95) / _p(raw_trace, 0.95),
        "impact_ratio": statistics.median(impact) / statistics.median(raw_impact),
        "impact_ratio_undirected": statistics.median(impact) / statistics.median(raw_undirected),
        "load_average": os.getloadavg(),
        "neo4j_rss_mb": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache", default="1g")
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    for n in args.nodes:
        print(json.dumps(asyncio.run(run(n, args.heap, args.pagecache, args.samples))), flush=True)


if __name__ == "__main__":
    main()
