"""Where memory goes as the journal grows: RSS per 4000 events, SQLite page cache as configured and capped small.

The load test's events keep the graph the same size, so growth with a steady graph is either the
page cache (capped at 64 MiB by graph/memory/sqlite.py) or a leak; capping the cache tells which.

    python -m benchmarks.journal_memory [--events 32000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import random
import tempfile
from pathlib import Path

import orjson
import psutil

from benchmarks.load_test import BATCH, event
from graph.memory import MemoryStore
from ingest.intake import intake


async def run(events: int, cache_kib: int | None) -> list[float]:
    """Ingest ``events`` load-test events into a fresh store; return RSS (MiB) after each 4000."""
    process, rng, counter = psutil.Process(), random.Random(1), itertools.count()
    samples: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryStore(Path(tmp) / "data")
        if cache_kib is not None:
            store.file.db.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        try:
            for i in range(events // BATCH):
                batch = [orjson.dumps(event(next(counter), rng)).decode() for _ in range(BATCH)]
                await intake(store, "openlineage", batch)
                if (i + 1) * BATCH % 4000 == 0:
                    gc.collect()
                    samples.append(process.memory_info().rss / 2**20)
        finally:
            await store.close()
    return samples


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=32000)
    args = parser.parse_args()
    for label, cache in [("page cache as configured (64 MiB)", None), ("page cache capped at 2 MiB", 2000)]:
        rss = asyncio.run(run(args.events, cache))
        print(f"{label}: RSS MiB every 4000 events: {' '.join(f'{m:.0f}' for m in rss)} ({rss[-1] - rss[0]:+.0f})")
