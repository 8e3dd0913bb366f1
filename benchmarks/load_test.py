"""Bounded load test: concurrent OpenLineage ingest and GraphQL lineage queries against a real `lineage serve`.

It starts the service on loopback (embedded store, a fresh data folder), measures a serial
baseline (one client, one request at a time) and then the concurrent run, and stops by itself.
It reports throughput, p50/p99 latency, errors (must be 0) and the server's RSS over time (must
stay flat: events cycle over a bounded set of jobs, datasets and runs, so the graph stops
growing after warm-up while every event is still new to the journal).

    python -m benchmarks.load_test [--seconds 60] [--ingest-clients 4] [--query-clients 4]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

from benchmarks.quantiles import quantile
from graph.keys import Kind, NodeKey

ROOT = Path(__file__).resolve().parent.parent
PRODUCER = "https://github.com/lineage-graph/benchmarks/load_test"
JOBS = 50
RUNS_PER_JOB = 4
BATCH = 20
QUERY = """query ($id: ID!) { lineage(id: $id, direction: BOTH, maxHops: 4, first: 50) {
  __typename ... on Lineage { total nodes { distance node { id kind name } } edges { source target type } } } }"""
T0 = datetime(2026, 11, 20, tzinfo=UTC)


def table(i: int) -> tuple[str, str]:
    """Return the namespace and name of table ``i``; jobs chain them into pipelines."""
    return ("postgres://warehouse:5432", f"analytics.public.t{i:03d}")


def event(counter: int, rng: random.Random) -> dict[str, Any]:
    """Return a new COMPLETE event: one of a bounded set of jobs and runs, a fresh event time."""
    j = rng.randrange(JOBS)
    run = uuid.UUID(int=j * RUNS_PER_JOB + rng.randrange(RUNS_PER_JOB) + 1)
    inputs = [table(j), table((j * 7 + 3) % (JOBS + 10))]
    return {
        "eventType": "COMPLETE",
        "eventTime": (T0 + timedelta(milliseconds=counter)).isoformat().replace("+00:00", "Z"),
        "producer": PRODUCER,
        "run": {"runId": str(run)},
        "job": {"namespace": "airflow://etl", "name": f"pipeline.job{j:03d}"},
        "inputs": [{"namespace": ns, "name": name} for ns, name in inputs],
        "outputs": [{"namespace": table(j + 1)[0], "name": table(j + 1)[1]}],
    }


@dataclass
class Tally:
    """Latencies and errors of one kind of request."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    items: int = 0

    def summary(self, seconds: float, unit: str) -> dict[str, Any]:
        """Return throughput and latency percentiles."""
        ordered = sorted(self.latencies) or [0.0]
        return {
            "requests": len(self.latencies),
            f"{unit}_per_s": self.items / seconds,
            "p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * quantile(ordered, 0.99),
            "errors": len(self.errors),
        }


async def ingest_client(
    client: httpx.AsyncClient, ends: float, tally: Tally, counter: itertools.count[int], seed: int
) -> None:
    """Post OpenLineage batches until the end."""
    rng = random.Random(seed)
    while time.monotonic() < ends:
        batch = [event(next(counter), rng) for _ in range(BATCH)]
        started = time.perf_counter()
        try:
            answer = await client.post("/api/v1/lineage/batch", json=batch)
            ok = answer.status_code == 200 and answer.json()["summary"]["failed"] == 0
            if not ok:
                tally.errors.append(f"{answer.status_code} {answer.text[:200]}")
        except httpx.HTTPError as e:
            tally.errors.append(repr(e))
            continue
        tally.latencies.append(time.perf_counter() - started)
        tally.items += BATCH


async def query_client(client: httpx.AsyncClient, ends: float, tally: Tally, seed: int) -> None:
    """Ask GraphQL lineage of random tables until the end."""
    rng = random.Random(seed)
    while time.monotonic() < ends:
        target = NodeKey(Kind.DATASET, *table(rng.randrange(1, JOBS))).urn
        started = time.perf_counter()
        try:
            answer = await client.post("/graphql", json={"query": QUERY, "variables": {"id": target}})
            body = answer.json()
            if answer.status_code != 200 or "errors" in body or body["data"]["lineage"]["__typename"] != "Lineage":
                tally.errors.append(f"{answer.status_code} {answer.text[:200]}")
        except httpx.HTTPError as e:
            tally.errors.append(repr(e))
            continue
        tally.latencies.append(time.perf_counter() - started)
        tally.items += 1


async def sample_rss(process: psutil.Process, ends: float, samples: list[tuple[float, float]], every: float) -> None:
    """Record the server's resident memory (MiB) every ``every`` seconds."""
    started = time.monotonic()
    while time.monotonic() < ends:
        samples.append((time.monotonic() - started, process.memory_info().rss / 2**20))
        await asyncio.sleep(every)


async def phase(
    url: str, seconds: float, ingesters: int, queriers: int, process: psutil.Process, counter: itertools.count[int]
) -> tuple[Tally, Tally, list[tuple[float, float]]]:
    """Run clients for ``seconds``; return the ingest and query tallies and RSS samples."""
    ingest, query, rss = Tally(), Tally(), []
    ends = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=ingesters + queriers + 2)
    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as client:
        await asyncio.gather(
            *(ingest_client(client, ends, ingest, counter, seed) for seed in range(ingesters)),
            *(query_client(client, ends, query, seed) for seed in range(queriers)),
            sample_rss(process, ends, rss, 2.0),
        )
    return ingest, query, rss


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_service(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start `lineage serve` on loopback and wait for /readyz."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LINEAGE_RATE_LIMIT_PER_SECOND": "0", "LINEAGE_LOG_LEVEL": "WARNING"}
    log = (data.parent / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(data)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    msg = "the service did not become ready"
    raise RuntimeError(msg)


async def main(seconds: float, ingesters: int, queriers: int) -> dict[str, Any]:
    """Warm up, measure the serial baseline, then the concurrent run; return the numbers."""
    with tempfile.TemporaryDirectory(prefix="lineage-load-") as tmp:
        server, url = start_service(Path(tmp) / "data")
        proc = psutil.Process(server.pid)
        counter = itertools.count()
        try:
            await phase(url, 5, 2, 0, proc, counter)  # warm-up: every job, table and run exists after it
            base_ingest, _, _ = await phase(url, 5, 1, 0, proc, counter)
            _, base_query, _ = await phase(url, 5, 0, 1, proc, counter)
            ingest, query, rss = await phase(url, seconds, ingesters, queriers, proc, counter)
            async with httpx.AsyncClient(base_url=url) as client:
                metrics = (await client.get("/metrics")).text
        finally:
            server.terminate()
            server.wait(timeout=30)
    third = max(len(rss) // 3, 1)
    first_mib = statistics.mean(m for _, m in rss[:third])
    last_mib = statistics.mean(m for _, m in rss[-third:])
    return {
        "seconds": seconds,
        "ingesters": ingesters,
        "queriers": queriers,
        "cores": psutil.cpu_count(),
        "load_before": os.getloadavg()[0],
        "baseline_ingest": base_ingest.summary(5, "events"),
        "baseline_query": base_query.summary(5, "queries"),
        "ingest": ingest.summary(seconds, "events"),
        "query": query.summary(seconds, "queries"),
        "errors": ingest.errors[:5] + query.errors[:5],
        "rss": rss,
        "rss_growth": (last_mib - first_mib) / first_mib,
        "first_third_mib": first_mib,
        "last_third_mib": last_mib,
        "accepted": sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("lineage_ingest_inputs_total") and 'outcome="accepted"' in line
        ),
    }


def report(r: dict[str, Any]) -> str:
    """Return the results as Markdown."""
    bi, bq, i, q = r["baseline_ingest"], r["baseline_query"], r["ingest"], r["query"]
    rss = " ".join(f"{m:.0f}" for _, m in r["rss"])
    lines = [
        f"{r['seconds']:.0f} s, {r['ingesters']} ingest clients (OpenLineage batches of {BATCH}) and "
        f"{r['queriers']} GraphQL lineage clients at once, on {r['cores']} cores (load average "
        f"{r['load_before']:.1f} when it started: the machine was shared).",
        "",
        "| | serial baseline (1 client) | concurrent | ratio |",
        "|---|---|---|---|",
        f"| ingest, events/s | {bi['events_per_s']:.0f} | {i['events_per_s']:.0f} | "
        f"{i['events_per_s'] / max(bi['events_per_s'], 1e-9):.2f} |",
        f"| ingest batch p50 / p99, ms | {bi['p50_ms']:.0f} / {bi['p99_ms']:.0f} | "
        f"{i['p50_ms']:.0f} / {i['p99_ms']:.0f} | |",
        f"| lineage queries/s | {bq['queries_per_s']:.0f} | {q['queries_per_s']:.0f} | "
        f"{q['queries_per_s'] / max(bq['queries_per_s'], 1e-9):.2f} |",
        f"| query p50 / p99, ms | {bq['p50_ms']:.0f} / {bq['p99_ms']:.0f} | {q['p50_ms']:.0f} / {q['p99_ms']:.0f} | |",
        f"| errors | {bi['errors'] + bq['errors']} | {i['errors'] + q['errors']} | |",
        "",
        f"Events accepted by the service over the whole run (its /metrics): {r['accepted']:.0f}.",
        f"Server RSS every 2 s, MiB: {rss}",
        f"RSS mean of the first third {r['first_third_mib']:.0f} MiB, of the last third "
        f"{r['last_third_mib']:.0f} MiB: {100 * r['rss_growth']:+.1f}%.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ingest-clients", type=int, default=4)
    parser.add_argument("--query-clients", type=int, default=4)
    args = parser.parse_args()
    results = asyncio.run(main(args.seconds, args.ingest_clients, args.query_clients))
    print(report(results))
    if results["errors"]:
        print("errors:", *results["errors"], sep="\n  ")
        sys.exit(1)
