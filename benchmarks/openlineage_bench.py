"""OpenLineage ingest benchmark: batch endpoint, CLI backfill, single POST latency, on either store.

Events are realistic RunEvents (2-5 inputs and outputs, schema and column-lineage facets).
The floor, in the same run, is ``store.apply`` of the same events' prebuilt deltas: what
parsing and HTTP add shows as a ratio to it. On Neo4j the same deltas are also written as plain
Cypher (``raw_cypher``: each event kept raw, each node and edge merged by key with its time),
the least any ingester into Neo4j does: ``store_over_raw_cypher`` is the store's overhead. Each
rate is given per second of wall time and per second of CPU time of the processes doing the work
(``*_per_cpu_s``): on a shared, loaded machine the second one is what compares across runs.

    python -m benchmarks.openlineage_bench --events 20000 --clients 1 2 4 8 --seconds 10 [--neo4j]

With --neo4j a local Neo4j is started (graph/neo4j/local_server.py), warmed up with other events,
and emptied before each part; its CPU counts in every part's CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psutil
from neo4j import AsyncManagedTransaction

from benchmarks.quantiles import quantile
from graph.journal import JournalEntry
from graph.memory import MemoryStore
from graph.neo4j import Neo4jStore
from graph.neo4j.local_server import start_local_neo4j
from graph.neo4j.store import ParamRows
from graph.records import canonical
from graph.store import Ingested, LineageStore
from ingest import openlineage
from ingest.intake import canonical_json

BATCH = 500
WARM_UP = 50  # single POSTs sent, not timed, before the timed ones
WARM_UP_NEO4J = 1000  # other events applied, not timed, before any part: a cold JVM first compiles


def make_events(count: int, seed: int = 5) -> list[dict[str, Any]]:
    """Return realistic RunEvents over a pool of tables, each with schema and column lineage."""
    rng = random.Random(seed)
    tables = [f"warehouse.schema_{i % 40}.table_{i}" for i in range(2000)]
    events = []
    for n in range(count):
        ins = rng.sample(tables, k=rng.randint(2, 5))
        outs = rng.sample(tables, k=rng.randint(2, 5))
        columns = [f"col_{j}" for j in range(rng.randint(4, 10))]
        schema = {"fields": [{"name": c, "type": "varchar"} for c in columns]}
        cl = {
            "fields": {
                c: {"inputFields": [{"namespace": "postgres://db:5432", "name": rng.choice(ins), "field": c}]}
                for c in columns
            }
        }
        events.append(
            {
                "eventType": "COMPLETE",
                "eventTime": f"2026-11-20T{10 + n % 10:02d}:{n % 60:02d}:00Z",
                "producer": "https://github.com/apache/airflow",
                "run": {"runId": str(uuid.UUID(int=rng.getrandbits(128), version=4))},
                "job": {"namespace": "airflow://etl", "name": f"dag_{n % 300}.task_{n % 7}"},
                "inputs": [{"namespace": "postgres://db:5432", "name": t, "facets": {"schema": schema}} for t in ins],
                "outputs": [
                    {
                        "namespace": "postgres://db:5432",
                        "name": t,
                        "facets": {"schema": schema, "columnLineage": cl},
                    }
                    for t in outs
                ],
            }
        )
    return events


NEO4J_URI: str | None = None  # set by --neo4j
NEO4J_PROCESS: psutil.Process | None = None


async def open_store() -> LineageStore:
    """Return an empty store of the benchmarked kind."""
    if NEO4J_URI is None:
        return MemoryStore(tempfile.mkdtemp())
    store = await Neo4jStore.open(NEO4J_URI)
    await _clear(store)
    return store


async def _clear(store: Neo4jStore) -> None:
    async with store.driver.session() as session:
        await (await session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")).consume()


def empty() -> None:
    """Empty the benchmarked Neo4j before a part (each part starts from nothing)."""

    async def run() -> None:
        await (await open_store()).close()

    asyncio.run(run())


class Clock:
    """Wall and CPU time of a stretch of work: this process, its finished children, and watched servers.

    With --neo4j, Neo4j's own process is always watched: its CPU is most of the work.
    """

    def __init__(self, server: psutil.Process | None = None) -> None:
        self.servers = [p for p in (server, NEO4J_PROCESS) if p is not None]

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, self._cpu() - self.cpu

    def _cpu(self) -> float:
        me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        total = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
        for server in self.servers:
            times = server.cpu_times()
            total += times.user + times.system
        return total

    def rates(self, count: int) -> tuple[float, float]:
        """Return count per wall second and per CPU second."""
        return count / self.wall, count / self.cpu


def prebuilt(events: list[dict[str, Any]]) -> list[Ingested]:
    """Return the events as the store receives them: journal entries with their deltas."""
    now = time.time()
    items = []
    for e in events:
        text = canonical_json(json.dumps(e))
        items.append(Ingested(JournalEntry("openlineage", text, now), openlineage.to_delta(text)))
    return items


def warm_up_neo4j() -> None:
    """Apply other events in batches, then one by one: Neo4j's JIT compiles both paths before any timing.

    Measured: a fresh server spends more CPU compiling than querying for its first ~1,000 single-event
    transactions (C2 compiler 11 s, Bolt workers 8 s for the first 200; 0.9 s and 2 s for the fifth 200).
    """
    items = prebuilt(make_events(WARM_UP_NEO4J, seed=11))

    async def go() -> None:
        store = await open_store()
        try:
            for i in range(0, len(items) // 2, BATCH):
                await store.apply(items[i : i + BATCH])
            for item in items[len(items) // 2 :]:
                await store.apply([item])
        finally:
            await store.close()

    asyncio.run(go())


def floor(events: list[dict[str, Any]]) -> tuple[float, float]:
    """Events per wall and CPU second of ``store.apply`` alone, deltas built beforehand."""
    items = prebuilt(events)

    async def go() -> Clock:
        store = await open_store()  # the Neo4j driver belongs to this loop: open, apply, close in it
        try:
            with Clock() as clock:
                for i in range(0, len(items), BATCH):
                    await store.apply(items[i : i + BATCH])
            return clock
        finally:
            await store.close()

    return asyncio.run(go()).rates(len(events))


# The least a Neo4j ingester does with the same deltas: keep each event raw, merge every node and
# edge by its key with its time. No evidence, no per-property merge rules, no hash chain.
RAW_JOURNAL = "UNWIND $rows AS row CREATE (j:JournalRecord) SET j = row"
RAW_NODES = """
UNWIND $rows AS row
MERGE (n:Node {urn: row.urn})
  ON CREATE SET n.kind = row.kind, n.first_seen = row.time, n.search = row.search
SET n.last_seen = row.time, n.properties = row.properties
"""
RAW_EDGES = """
UNWIND $rows AS row
MATCH (a:Node {urn: row.src}) MATCH (b:Node {urn: row.dst})
MERGE (a)-[r:%s]->(b) ON CREATE SET r.first_seen = row.time
SET r.last_seen = row.time
"""


def raw_cypher(events: list[dict[str, Any]]) -> tuple[float, float]:
    """Events per wall and CPU second (this process and Neo4j) of the same deltas written with plain MERGE."""
    items = prebuilt(events)

    async def go() -> Clock:
        assert NEO4J_URI is not None
        store = await Neo4jStore.open(NEO4J_URI)  # the store's constraints and indexes
        await _clear(store)
        try:
            with Clock() as clock:
                for i in range(0, len(items), BATCH):
                    await store.write(partial(_raw_batch, items[i : i + BATCH], i))
            return clock
        finally:
            await _clear(store)  # its edges have no keys: the store would not open on them
            await store.close()

    return asyncio.run(go()).rates(len(events))


async def _raw_batch(items: list[Ingested], first: int, tx: AsyncManagedTransaction) -> None:
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[str, dict[tuple[str, str, str, str], dict[str, Any]]] = {}
    for item in items:
        for n in item.delta.nodes:
            nodes[n.key.urn] = {
                "urn": n.key.urn,
                "kind": n.key.kind.value,
                "search": n.key.urn.lower(),
                "time": n.time,
                "properties": canonical(dict(n.properties)),
            }
        for e in item.delta.edges:
            edges.setdefault(e.ref.type.value, {})[e.ref.ident] = {
                "src": e.ref.src.urn,
                "dst": e.ref.dst.urn,
                "time": e.time,
            }
    journal = [{"seq": seq, "id": item.entry.id, "raw": item.entry.raw} for seq, item in enumerate(items, first + 1)]
    await (await tx.run(RAW_JOURNAL, rows=ParamRows(journal))).consume()
    await (await tx.run(RAW_NODES, rows=ParamRows(nodes.values()))).consume()
    for type_, rows in edges.items():
        await (await tx.run(RAW_EDGES % type_, rows=ParamRows(rows.values()))).consume()


class Server:
    """``lineage serve`` in its own process on a loopback port, as deployed: clients do not share its GIL."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp())
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        if NEO4J_URI is not None:
            empty()
        self.env = {**os.environ, "LINEAGE_RATE_LIMIT_PER_SECOND": "0", "LINEAGE_LOG_LEVEL": "WARNING"}
        if NEO4J_URI is not None:
            self.env["LINEAGE_NEO4J_URI"] = NEO4J_URI
        self.command = [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port), "--data", str(self.folder)]

    def __enter__(self) -> Server:
        self.popen = subprocess.Popen(self.command, env=self.env, stdout=subprocess.DEVNULL)
        self.process = psutil.Process(self.popen.pid)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                msg = f"lineage serve did not start: {self.command}"
                raise RuntimeError(msg)
            time.sleep(0.1)
        return self

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).is_success
        except httpx.HTTPError:
            return False

    def __exit__(self, *_: object) -> None:
        self.popen.terminate()
        self.popen.wait(timeout=30)


def batch_endpoint(events: list[dict[str, Any]]) -> tuple[float, float]:
    """Events per wall and CPU second (server and client processes) through the batch endpoint."""
    with Server() as server, httpx.Client(timeout=120) as client, Clock(server.process) as clock:
        for i in range(0, len(events), BATCH):
            answer = client.post(f"{server.url}/api/v1/lineage/batch", json=events[i : i + BATCH])
            assert answer.json()["status"] == "success", answer.text
    return clock.rates(len(events))


def cli_backfill(events: list[dict[str, Any]]) -> tuple[float, float]:
    """Events per wall and CPU second of ``lineage ingest openlineage`` (a new process, start-up included)."""
    folder = Path(tempfile.mkdtemp())
    path = folder / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events))
    command = [sys.executable, "-m", "api.cli", "ingest", "openlineage", str(path), "--data", str(folder / "d")]
    env = dict(os.environ)
    if NEO4J_URI is not None:
        empty()
        env["LINEAGE_NEO4J_URI"] = NEO4J_URI
    with Clock() as clock:
        subprocess.run(command, check=True, capture_output=True, env=env)
    return clock.rates(len(events))


def _post_for(
    url: str, events: list[dict[str, Any]], offset: int, step: int, seconds: float, count: int = 0
) -> list[float]:
    """Post events one at a time for ``seconds`` (or ``count`` of them); return each latency (one client process)."""
    mine: list[float] = []
    i = offset
    with httpx.Client(timeout=30) as client:
        stop = time.monotonic() + seconds
        while time.monotonic() < stop or len(mine) < count:
            t = time.perf_counter()
            client.post(f"{url}/api/v1/lineage", json=events[i % len(events)]).raise_for_status()
            mine.append(time.perf_counter() - t)
            i += step
    return mine


def single_posts(events: list[dict[str, Any]], clients: int, seconds: float) -> dict[str, float]:
    """Latency of single-event POSTs from concurrent clients, each its own process, and the server's CPU per post."""
    latencies: list[float] = []
    with Server() as server, ProcessPoolExecutor(clients) as pool:
        _post_for(server.url, events[-WARM_UP:], 0, 1, 0.0, count=WARM_UP)  # first requests pay imports and caches
        before = sum(server.process.cpu_times()[:2])
        runs = [pool.submit(_post_for, server.url, events, n, clients, seconds) for n in range(clients)]
        for run in runs:
            latencies.extend(run.result())
        server_cpu = sum(server.process.cpu_times()[:2]) - before
    ordered = sorted(latencies)
    return {
        "clients": clients,
        "posts": len(ordered),
        "posts_per_s": len(ordered) / seconds,
        "p50_ms": statistics.median(ordered) * 1e3,
        "p99_ms": quantile(ordered, 0.99) * 1e3,
        "server_cpu_ms_per_post": server_cpu / len(ordered) * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8], help="Clients, one run each.")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--neo4j", action="store_true", help="Benchmark the Neo4j store (a local server).")
    args = parser.parse_args()
    if args.neo4j:
        global NEO4J_URI, NEO4J_PROCESS
        server = start_local_neo4j(heap="2g", pagecache="1g")
        NEO4J_URI, NEO4J_PROCESS = server.uri, psutil.Process(server.pid)
        try:
            warm_up_neo4j()
            report(args)
        finally:
            server.stop()
    else:
        report(args)


def report(args: argparse.Namespace) -> None:
    """Run every part and print the results as JSON."""
    events = make_events(args.events)
    result: dict[str, Any] = {"store": "neo4j" if NEO4J_URI else "embedded", "events": len(events)}
    for part, measure in (("floor_apply", floor), ("batch_endpoint", batch_endpoint), ("cli_backfill", cli_backfill)):
        result[f"{part}_per_s"], result[f"{part}_per_cpu_s"] = measure(events)
    if NEO4J_URI is not None:
        result["raw_cypher_per_s"], result["raw_cypher_per_cpu_s"] = raw_cypher(events)
        result["store_over_raw_cypher"] = result["raw_cypher_per_s"] / result["floor_apply_per_s"]
        result["store_over_raw_cypher_cpu"] = result["raw_cypher_per_cpu_s"] / result["floor_apply_per_cpu_s"]
    result["single_posts"] = [single_posts(events, clients, args.seconds) for clients in args.clients]
    result["load_average"] = os.getloadavg()
    for part in ("batch_endpoint", "cli_backfill"):
        result[f"{part.split('_')[0]}_vs_floor"] = result[f"{part}_per_s"] / result["floor_apply_per_s"]
        result[f"{part.split('_')[0]}_vs_floor_cpu"] = result[f"{part}_per_cpu_s"] / result["floor_apply_per_cpu_s"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
