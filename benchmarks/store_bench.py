"""Embedded store benchmark: apply throughput, trace-back and impact latency, RSS, reopen time.

Each size runs in two processes, so memory is measured as a server would hold it:
1. load: generate the seeded estate, build its deltas, time ``apply`` alone, close;
2. serve: reopen the store (timed), then time trace-back from answers and impact from a
   source table, each beside a raw networkx BFS over the same DiGraph (the floor).

    python -m benchmarks.store_bench --nodes 10000 100000 1000000 [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import networkx as nx
import psutil

from benchmarks.quantiles import quantile
from graph.journal import JournalEntry
from graph.keys import Kind, parse_key
from graph.memory import MemoryStore
from graph.query import Direction, LineageQuery
from graph.store import Ingested
from ingest import native
from ingest.estate import Estate, Plan

BATCH = 1000
SAMPLES = 200


def load(nodes: int, folder: Path) -> dict[str, Any]:
    """Generate, build and apply an estate; return what was measured."""
    started = time.perf_counter()
    estate = Estate(Plan.for_nodes(nodes), seed=42)
    docs = [native.dumps(d) for d in estate.events()]
    now = time.time()
    items = [Ingested(JournalEntry(native.SOURCE, text, now), native.to_delta(text)) for text in docs]
    built = time.perf_counter() - started
    elements = sum(item.delta.size for item in items)
    store = MemoryStore(folder)

    async def apply_all() -> tuple[float, float]:
        t, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(items), BATCH):
            await store.apply(items[i : i + BATCH])
        return time.perf_counter() - t, time.process_time() - cpu

    applied, applied_cpu = asyncio.run(apply_all())
    stats = store.stats()
    asyncio.run(store.close())
    (folder / "landmarks.json").write_text(json.dumps(estate.landmarks))
    return {
        "events": len(items),
        "elements": elements,
        "generate_s": built,
        "apply_s": applied,
        "apply_per_s": elements / applied,
        "apply_per_cpu_s": elements / applied_cpu,  # comparable across runs on a shared machine
        **stats,
    }


def _percentiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), quantile(samples, 0.95)


def serve(folder: Path) -> dict[str, Any]:
    """Reopen the store and time queries beside raw BFS; runs in its own process."""
    gc.collect()
    base_rss = psutil.Process().memory_info().rss
    t = time.perf_counter()
    store = MemoryStore(folder)
    reopen = time.perf_counter() - t
    rss = psutil.Process().memory_info().rss
    landmarks = json.loads((folder / "landmarks.json").read_text())
    graph = store.graph
    rng = random.Random(1)
    answers = [u for u in graph if u.startswith("urn:lineage:output:support-rag:")]
    starts = rng.sample(answers, k=min(SAMPLES, len(answers)))
    reverse = graph.reverse(copy=False)

    async def timed_lineage(query: LineageQuery) -> tuple[float, int]:
        t = time.perf_counter()
        result = await store.lineage(query)
        return time.perf_counter() - t, result.total

    trace, raw_trace = [], []
    for urn in starts:
        took, _ = asyncio.run(timed_lineage(LineageQuery(parse_key(urn), Direction.UPSTREAM, max_hops=10)))
        trace.append(took)
        t = time.perf_counter()
        nx.single_source_shortest_path_length(reverse, urn, cutoff=10)
        raw_trace.append(time.perf_counter() - t)

    source = parse_key(landmarks["source_table"])
    impact, raw_impact, total = [], [], 0
    for _ in range(5):
        query = LineageQuery(source, Direction.DOWNSTREAM, max_hops=30, limit=100)
        took, total = asyncio.run(timed_lineage(query))
        impact.append(took)
        t = time.perf_counter()
        nx.single_source_shortest_path_length(graph, source.urn, cutoff=30)
        raw_impact.append(time.perf_counter() - t)
    asyncio.run(store.close())
    p50, p95 = _percentiles(trace)
    r50, r95 = _percentiles(raw_trace)
    return {
        "reopen_s": reopen,
        "rss_mb": rss / 2**20,
        "graph_mb": (rss - base_rss) / 2**20,
        "trace_p50_ms": p50 * 1e3,
        "trace_p95_ms": p95 * 1e3,
        "raw_trace_p50_ms": r50 * 1e3,
        "raw_trace_p95_ms": r95 * 1e3,
        "impact_total": total,
        "impact_p50_ms": statistics.median(impact) * 1e3,
        "raw_impact_p50_ms": statistics.median(raw_impact) * 1e3,
        "kinds": sorted(Kind(parse_key(u).kind).value for u in starts[:1]),
    }


def run_size(nodes: int, keep: Path | None = None) -> dict[str, Any]:
    """Load (unless ``keep`` already holds this size) and serve one size."""
    folder = keep or Path(tempfile.mkdtemp(prefix=f"bench-{nodes}-"))
    done = folder / "loaded.json"
    try:
        if done.exists():
            loaded = json.loads(done.read_text())
        else:
            loaded = load(nodes, folder)
            done.write_text(json.dumps(loaded))
        gc.collect()
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.store_bench", "--serve", str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
        served = json.loads(out.stdout.strip().splitlines()[-1])
        return {"nodes_target": nodes, **loaded, **served}
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| nodes | edges | apply elements/s | trace-back p50 / p95 ms | raw BFS p95 ms | ratio p95 "
        "| impact (nodes) ms | raw BFS ms | RSS MB | reopen s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['nodes']:,} | {r['edges']:,} | {r['apply_per_s']:,.0f} | "
            f"{r['trace_p50_ms']:.2f} / {r['trace_p95_ms']:.2f} | {r['raw_trace_p95_ms']:.2f} | "
            f"{r['trace_p95_ms'] / max(r['raw_trace_p95_ms'], 1e-6):.1f}× | "
            f"{r['impact_p50_ms']:.0f} ({r['impact_total']:,}) | {r['raw_impact_p50_ms']:.0f} | "
            f"{r['rss_mb']:.0f} | {r['reopen_s']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write", type=Path, help="Also write the table into this Markdown file.")
    parser.add_argument("--keep", type=Path, help="Keep the loaded store here (one size); reuse it if present.")
    args = parser.parse_args()
    if args.serve:
        print(json.dumps(serve(args.serve)))
        return
    rows = []
    for n in args.nodes:
        row = run_size(n, args.keep)
        rows.append(row)
        print(json.dumps(row), flush=True)
    text = table(rows)
    machine = (
        f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"
    )
    print(text)
    if args.write:
        args.write.write_text(f"<!-- store_bench: {machine} -->\n{text}\n")


if __name__ == "__main__":
    main()
