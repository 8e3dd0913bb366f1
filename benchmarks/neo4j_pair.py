"""Two versions of the Neo4j store's code, query by query on one loaded server, beside the raw floor.

Loading an estate into Neo4j takes minutes, and this machine's load moves by the minute: so
one server is loaded once (``--load``, which leaves it running and writes its state), and then
two checkouts of the code (``--old``, ``--new``: folders that hold a ``graph`` package) each
run in a worker process of their own, asked the same query in turn, with the raw Cypher floor
(benchmarks/neo4j_bench.py) asked in between. Every answer of the two is compared (a hash of
the whole result, records included), so a faster one that answers differently is reported.

    python -m benchmarks.neo4j_pair --load 100000 --state /tmp/pair/100k.json
    python -m benchmarks.neo4j_pair --state /tmp/pair/100k.json --old /tmp/main --new . --traces 100 --impacts 5
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Run as a worker (``python benchmarks/neo4j_pair.py --worker``), the code under test comes first
# on sys.path (PYTHONPATH), so these imports are deferred to the functions that use them.


def _digest(result: Any) -> str:
    """Return a hash of everything a lineage result says (records, distances, notes, counts)."""
    nodes = sorted((repr(n.record), n.distance, n.resolution and n.resolution.note) for n in result.nodes)
    edges = sorted((repr(e.record), e.src, e.dst, e.via and e.via.note) for e in result.edges)
    whole = (nodes, edges, result.total, sorted(result.counts_by_kind.items()), result.is_partial)
    return hashlib.blake2b(repr(whole).encode(), digest_size=12).hexdigest()


async def _serve(uri: str) -> None:
    """Answer one JSON command per stdin line with one JSON line: the time taken and the answer's hash."""
    from benchmarks.neo4j_bench import RAW_DOWNSTREAM, RAW_UPSTREAM
    from graph.keys import parse_key
    from graph.neo4j import Neo4jStore
    from graph.query import Direction, LineageQuery

    store = await Neo4jStore.open(uri, read_timeout=None)
    try:
        for line in sys.stdin:
            command = json.loads(line)
            op, urn = command["op"], command["urn"]
            started = time.perf_counter()
            if op == "trace":
                answer = _digest(await store.lineage(LineageQuery(parse_key(urn), Direction.UPSTREAM, max_hops=10)))
            elif op == "impact":
                query = LineageQuery(parse_key(urn), Direction.DOWNSTREAM, max_hops=30, limit=100)
                answer = _digest(await store.lineage(query))
            else:
                statement = RAW_UPSTREAM if op == "raw_trace" else RAW_DOWNSTREAM
                rows, _, _ = await store.driver.execute_query(statement, {"urn": urn}, database_=store.database)
                answer = str(sorted(tuple(r.values()) for r in rows))
            print(json.dumps({"s": time.perf_counter() - started, "answer": answer}), flush=True)
    finally:
        await store.close()


class _Worker:
    """A process running one checkout of the code, asked one query at a time."""

    def __init__(self, root: Path, uri: str) -> None:
        here = Path(__file__).resolve()
        env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{here.parent.parent}"}
        command = [sys.executable, str(here), "--worker", uri]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def ask(self, op: str, urn: str) -> tuple[float, str]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"op": op, "urn": urn}) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        return float(reply["s"]), str(reply["answer"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _load(nodes: int, state: Path) -> None:
    """Load an estate into a new local Neo4j, leave it running, and write where it is to ``state``."""
    from benchmarks.neo4j_bench import BATCH
    from graph.journal import JournalEntry
    from graph.neo4j import Neo4jStore
    from graph.neo4j.local_server import start_local_neo4j
    from graph.store import Ingested
    from ingest import native
    from ingest.estate import Estate, Plan

    estate = Estate(Plan.for_nodes(nodes), seed=42)
    docs = [native.dumps(d) for d in estate.events()]
    now = time.time()
    items = [Ingested(JournalEntry(native.SOURCE, t, now), native.to_delta(t)) for t in docs]
    server = start_local_neo4j(heap="2g", pagecache="1g", home=state.parent / f"{state.stem}-home")

    async def load() -> float:
        store = await Neo4jStore.open(server.uri, read_timeout=None)
        started = time.perf_counter()
        for i in range(0, len(items), BATCH):
            await store.apply(items[i : i + BATCH])
        await store.close()
        return time.perf_counter() - started

    seconds = asyncio.run(load())
    info = {"uri": server.uri, "pid": server.pid, "source": estate.landmarks["source_table"], "load_s": seconds}
    state.write_text(json.dumps(info))
    print(json.dumps(info))


def _answers(uri: str) -> list[str]:
    from neo4j import GraphDatabase

    from benchmarks.neo4j_bench import ANSWERS

    with GraphDatabase.driver(uri) as driver:
        records, _, _ = driver.execute_query(ANSWERS, database_="neo4j")
    return sorted(r["urn"] for r in records)


def _report(name: str, times: dict[str, list[float]], op: str, raw: str) -> dict[str, Any]:
    from benchmarks.quantiles import quantile

    out: dict[str, Any] = {"op": name}
    for code in ("old", "new"):
        samples = times[f"{code}_{op}"]
        out[f"{code}_p50_ms"], out[f"{code}_p95_ms"] = quantile(samples, 0.5) * 1e3, quantile(samples, 0.95) * 1e3
    out["raw_p50_ms"], out["raw_p95_ms"] = quantile(times[raw], 0.5) * 1e3, quantile(times[raw], 0.95) * 1e3
    for code in ("old", "new"):
        out[f"{code}_ratio_p50"] = out[f"{code}_p50_ms"] / out["raw_p50_ms"]
        out[f"{code}_ratio_p95"] = out[f"{code}_p95_ms"] / out["raw_p95_ms"]
    return out


def _pair(state: Path, old: Path, new: Path, traces: int, impacts: int, warmup: int) -> None:
    info = json.loads(state.read_text())
    uri, source = info["uri"], info["source"]
    starts = random.Random(1).sample(_answers(uri), k=traces)
    workers = {"old": _Worker(old, uri), "new": _Worker(new, uri)}
    times: dict[str, list[float]] = {}
    differ: list[str] = []
    load: list[float] = []

    def round_(op: str, raw: str, urn: str, flip: bool, keep: bool) -> None:
        answers = {}
        order = ["new", "old"] if flip else ["old", "new"]
        for code in order:
            seconds, answers[code] = workers[code].ask(op, urn)
            if keep:
                times.setdefault(f"{code}_{op}", []).append(seconds)
        seconds, _ = workers["new"].ask(raw, urn)
        if keep:
            times.setdefault(raw, []).append(seconds)
            load.append(os.getloadavg()[0])
        if answers["old"] != answers["new"]:
            differ.append(f"{op} {urn}")

    try:
        for urn in starts[:warmup]:  # plan every statement in both workers before timing
            round_("trace", "raw_trace", urn, flip=False, keep=False)
        round_("impact", "raw_impact", source, flip=False, keep=False)
        for i, urn in enumerate(starts):
            round_("trace", "raw_trace", urn, flip=i % 2 == 1, keep=True)
        for i in range(impacts):
            round_("impact", "raw_impact", source, flip=i % 2 == 1, keep=True)
    finally:
        for worker in workers.values():
            worker.close()
    print(json.dumps(_report("trace-back", times, "trace", "raw_trace")))
    print(json.dumps(_report("impact", times, "impact", "raw_impact")))
    print(json.dumps({"load_average": [min(load), statistics.median(load), max(load)], "answers_differ": differ}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", metavar="URI", help=argparse.SUPPRESS)
    parser.add_argument("--load", type=int, metavar="NODES", help="load an estate of this size into a new server")
    parser.add_argument("--state", type=Path, help="where the loaded server is described")
    parser.add_argument("--old", type=Path, help="folder holding the old code's graph package")
    parser.add_argument("--new", type=Path, default=Path(), help="folder holding the new code's graph package")
    parser.add_argument("--traces", type=int, default=100)
    parser.add_argument("--impacts", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(_serve(args.worker))
    elif args.load:
        _load(args.load, args.state)
    else:
        _pair(args.state, args.old.resolve(), args.new.resolve(), args.traces, args.impacts, args.warmup)


if __name__ == "__main__":
    main()
