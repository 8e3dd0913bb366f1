"""GraphQL benchmark: trace-back and impact over HTTP beside the same store call in process.

For each size, in one run:
1. load the seeded estate into an embedded store (benchmarks/store_bench.py's loader; ``--keep`` reuses it);
2. start a real ``lineage serve`` process on the same files, on loopback;
3. time each query three ways, one after the other for each start so a busy machine slows all
   alike: ``store.lineage`` in process (the floor), the same query through the GraphQL schema in
   process (``schema.execute``, no HTTP), and over HTTP to the server (one client, p50/p95);
4. then 32 concurrent clients against the server for a fixed time (throughput, p99).

Trace-back: random answers, upstream, ≤ 10 hops, first page of 100. Impact: the support_tickets
source table, downstream, ≤ 30 hops, counts by kind plus the first page of 100.

    python -m benchmarks.graphql_bench --nodes 100000 [--clients 32 --seconds 15 --keep /tmp/bench-100k]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from api.graphql.context import LineageContext
from api.graphql.schema import schema
from api.settings import Settings
from benchmarks.quantiles import quantile
from benchmarks.store_bench import load
from graph.keys import parse_key
from graph.memory import MemoryStore
from graph.query import Direction, LineageQuery

PAGE = """
  ... on Lineage {
    total isPartial countsByKind { kind count }
    nodes { distance resolution node { id kind name version } }
    edges { source target type }
    pageInfo { hasNextPage endCursor }
  }
  ... on DeadlineExceeded { message }
"""
TRACE_BACK = "query ($id: ID!) { traceBack(id: $id, maxHops: 10, first: 100) {" + PAGE + "} }"
IMPACT = "query ($id: ID!) { impact(id: $id, maxHops: 30, first: 100) {" + PAGE + "} }"
DEADLINE = 120.0  # seconds: the benchmark measures, the deadline must not cut it


def summary(samples: list[float]) -> dict[str, float]:
    """Return p50/p95/p99 in milliseconds."""
    return {
        "p50_ms": statistics.median(samples) * 1e3,
        "p95_ms": quantile(samples, 0.95) * 1e3,
        "p99_ms": quantile(samples, 0.99) * 1e3,
    }


async def timed(call: Callable[[], Awaitable[Any]], repeat: int = 1) -> list[float]:
    """Return the wall time of each of ``repeat`` calls."""
    took = []
    for _ in range(repeat):
        t = time.perf_counter()
        await call()
        took.append(time.perf_counter() - t)
    return took


def starts(folder: Path, samples: int) -> tuple[list[str], str]:
    """Return the trace-back starts (random answers) and the impact start (a source table)."""
    landmarks = json.loads((folder / "landmarks.json").read_text())
    store = MemoryStore(folder)
    answers = sorted(u for u in store.graph if u.startswith("urn:lineage:output:support-rag:"))
    asyncio.run(store.close())
    return random.Random(1).sample(answers, k=min(samples, len(answers))), landmarks["source_table"]


def measure(folder: Path, url: str, answers: list[str], source: str, impacts: int) -> dict[str, list[float]]:
    """Time each query three ways, interleaved so a busy machine slows all three alike.

    The store call and the GraphQL execution without HTTP run here, on the same store files;
    the HTTP request goes to the `lineage serve` process.
    """

    async def go() -> dict[str, list[float]]:
        store = MemoryStore(folder)
        settings = Settings(data_dir=folder, query_deadline_seconds=DEADLINE)
        found: dict[str, list[float]] = {}

        async def three(name: str, query: str, urn: str, direction: Direction, hops: int) -> None:
            lineage = LineageQuery(parse_key(urn), direction, max_hops=hops, limit=100, deadline=DEADLINE)
            found.setdefault(name, []).extend(await timed(lambda: store.lineage(lineage)))

            async def execute() -> None:
                context = LineageContext(store, settings)
                result = await schema.execute(query, variable_values={"id": urn}, context_value=context)
                assert not result.errors, result.errors

            found.setdefault(f"{name}_gql", []).extend(await timed(execute))
            found.setdefault(f"{name}_http", []).extend(await timed(lambda: post(client, url, query, urn)))

        try:
            async with httpx.AsyncClient(timeout=DEADLINE) as client:
                for urn in answers[:5]:  # warm caches and code paths on both sides
                    await three("warm", TRACE_BACK, urn, Direction.UPSTREAM, 10)
                for urn in answers:
                    await three("trace", TRACE_BACK, urn, Direction.UPSTREAM, 10)
                for _ in range(impacts):
                    await three("impact", IMPACT, source, Direction.DOWNSTREAM, 30)
        finally:
            await store.close()
        return {k: v for k, v in found.items() if not k.startswith("warm")}

    return asyncio.run(go())


class Service:
    """A real `lineage serve` process on a loopback port (started and stopped by us)."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, LINEAGE_QUERY_DEADLINE_SECONDS=str(DEADLINE))
        command = [sys.executable, "-m", "api.cli", "serve", "--data", str(folder), "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def __enter__(self) -> str:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stderr.read().decode() if self.process.stderr else "serve died")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        msg = "lineage serve did not become ready"
        raise RuntimeError(msg)

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


async def post(client: httpx.AsyncClient, url: str, query: str, urn: str) -> None:
    """Send one GraphQL query and check it answered a page."""
    answer = await client.post(f"{url}/graphql", json={"query": query, "variables": {"id": urn}})
    body = answer.json()
    assert answer.status_code == 200 and "errors" not in body, body
    assert "total" in next(iter(body["data"].values())), body


def concurrent(url: str, answers: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """Run ``clients`` concurrent trace-back clients for ``seconds``; return throughput and latency."""

    async def go() -> list[float]:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(timeout=DEADLINE, limits=limits) as client:
            stop = time.monotonic() + seconds

            async def worker(offset: int) -> list[float]:
                mine, i = [], offset
                while time.monotonic() < stop:
                    t = time.perf_counter()
                    await post(client, url, TRACE_BACK, answers[i % len(answers)])
                    mine.append(time.perf_counter() - t)
                    i += clients
                return mine

            results = await asyncio.gather(*(worker(n) for n in range(clients)))
        return [x for r in results for x in r]

    t = time.perf_counter()
    latencies = asyncio.run(go())
    elapsed = time.perf_counter() - t
    return {"clients": clients, "requests": len(latencies), "per_s": len(latencies) / elapsed, **summary(latencies)}


def run_size(nodes: int, args: argparse.Namespace) -> dict[str, Any]:
    """Load (or reuse) one size and measure it."""
    folder = args.keep or Path(tempfile.mkdtemp(prefix=f"gqlbench-{nodes}-"))
    done = folder / "loaded.json"
    try:
        if done.exists():
            loaded = json.loads(done.read_text())
        else:
            loaded = load(nodes, folder)
            done.write_text(json.dumps(loaded))
        answers, source = starts(folder, args.samples)
        with Service(folder) as url:
            timings = measure(folder, url, answers, source, args.impacts)
            load_test = concurrent(url, answers, args.clients, args.seconds)
        row: dict[str, Any] = {"nodes": loaded["nodes"], "edges": loaded["edges"]}
        for name, samples in timings.items():
            row[name] = summary(samples)
        row["concurrent"] = load_test
        return row
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def table(rows: list[dict[str, Any]]) -> str:
    """Return the Markdown table of the results."""
    lines = [
        "| nodes | query | store call p50 / p95 ms | GraphQL in process p50 / p95 ms | GraphQL over HTTP p50 / p95 ms "
        "| HTTP ÷ store (p50 / p95) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        for name, label in (("trace", "trace-back"), ("impact", "impact")):
            base, gql, http = r[name], r[f"{name}_gql"], r[f"{name}_http"]
            lines.append(
                f"| {r['nodes']:,} | {label} | {base['p50_ms']:.2f} / {base['p95_ms']:.2f} | "
                f"{gql['p50_ms']:.2f} / {gql['p95_ms']:.2f} | {http['p50_ms']:.2f} / {http['p95_ms']:.2f} | "
                f"{http['p50_ms'] / base['p50_ms']:.2f}× / {http['p95_ms'] / base['p95_ms']:.2f}× |"
            )
    lines += [
        "",
        "| nodes | concurrent clients | requests | trace-backs/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r["concurrent"]
        lines.append(
            f"| {r['nodes']:,} | {c['clients']} | {c['requests']:,} | {c['per_s']:.0f} | "
            f"{c['p50_ms']:.1f} | {c['p99_ms']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--samples", type=int, default=200, help="Trace-back starts (random answers).")
    parser.add_argument("--impacts", type=int, default=5, help="Repetitions of the impact query.")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0, help="Length of the concurrent run.")
    parser.add_argument("--keep", type=Path, help="Keep the loaded store here (one size); reuse it if present.")
    args = parser.parse_args()
    rows = []
    for n in args.nodes:
        row = run_size(n, args)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
