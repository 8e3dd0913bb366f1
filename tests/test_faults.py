"""Faults on real processes: Neo4j stopped during ingest, `lineage serve` killed with SIGKILL mid-stream.

In both, a client streams batches and keeps the ids the service acknowledged; afterwards every
acknowledged input must be in the journal, the journal's chain intact, and (embedded store)
a replay of the journal must give exactly the graph the killed process left.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from graph.memory import MemoryStore
from graph.neo4j import Neo4jStore
from graph.neo4j.local_server import start_local_neo4j
from graph.store import LineageStore
from ingest.intake import project
from tests.graphs import job_doc
from tests.service_process import serve
from tests.snapshots import snapshot

pytestmark = pytest.mark.slow
QUIET = {"LINEAGE_RATE_LIMIT_PER_SECOND": "0", "LINEAGE_LOG_LEVEL": "WARNING"}


@dataclass
class Stream:
    """Writers posting batches of fresh native documents; what was acknowledged and what was answered."""

    url: str
    batch: int = 10
    acked: set[str] = field(default_factory=set)
    statuses: list[int] = field(default_factory=list)
    retry_after: list[str | None] = field(default_factory=list)
    cut: int = 0  # requests that got no answer (the process died under them): not acknowledged
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, writer: int) -> None:
        """Post batches until stopped; retry a 503 after the time it names, as a client should."""
        sent = 0
        with httpx.Client(timeout=30.0) as client:
            while not self.stop.is_set():
                docs = [
                    json.loads(job_doc(f"w{writer}-{sent}-{k}", [f"in{writer}-{sent}-{k}"], ["shared"]))
                    for k in range(self.batch)
                ]
                try:
                    answer = client.post(f"{self.url}/api/v1/graph", json=docs)
                except httpx.HTTPError:
                    with self.lock:
                        self.cut += 1
                    time.sleep(0.2)
                    continue
                with self.lock:
                    self.statuses.append(answer.status_code)
                    if answer.status_code == 200:
                        self.acked.update(answer.json()["ids"])
                        sent += 1
                    else:
                        self.retry_after.append(answer.headers.get("Retry-After"))
                if answer.status_code == 503:
                    time.sleep(0.2)  # a real client waits Retry-After; the test shortens it to keep going

    def run(self, writers: int) -> list[threading.Thread]:
        """Start the writers."""
        threads = [threading.Thread(target=self.write, args=(w,), daemon=True) for w in range(writers)]
        for t in threads:
            t.start()
        return threads

    def count(self, status: int) -> int:
        """Return how many answers had this status."""
        with self.lock:
            return self.statuses.count(status)


async def _journal_ids(store: LineageStore) -> set[str]:
    kept: set[str] = set()
    after = 0
    while page := await store.journal(after, 5000):
        kept |= {r.id for r in page}
        after = page[-1].seq
    return kept


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    ends = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > ends:
            msg = f"timed out waiting for {what}"
            raise AssertionError(msg)
        time.sleep(0.1)


def test_kill_9_during_a_stream_of_batches_keeps_every_acknowledged_input(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = serve(["--data", str(data)], tmp_path / "serve.log", env=QUIET)
    stream = Stream(served.url)
    threads = stream.run(writers=3)
    _wait(lambda: len(stream.acked) >= 600, 120, "600 acknowledged inputs")
    served.kill()  # SIGKILL while the writers are mid-batch
    stream.stop.set()
    for t in threads:
        t.join(timeout=30)
    assert set(stream.statuses) == {200}

    again = serve(["--data", str(data)], tmp_path / "serve.log", env=QUIET)  # the service comes back on the same data
    try:
        assert httpx.get(f"{again.url}/readyz").status_code == 200
    finally:
        again.stop()

    async def check() -> None:
        store = MemoryStore(data)
        try:
            kept = await _journal_ids(store)
            assert stream.acked <= kept  # every acknowledged input was kept
            print(f"kill -9: {len(stream.acked)} acknowledged, {stream.cut} requests cut, {len(kept)} journaled")
            assert (await store.verify()).intact
            live = await snapshot(store)
        finally:
            await store.close()
        shutil.copytree(data, tmp_path / "replayed")
        replayed = MemoryStore(tmp_path / "replayed")
        try:
            assert await replayed.replay(project) == len(kept)
            assert await snapshot(replayed) == live  # the journal and the graph agree
        finally:
            await replayed.close()

    asyncio.run(check())


@pytest.mark.neo4j
def test_neo4j_stopped_during_ingest_answers_503_and_loses_nothing_acknowledged(tmp_path: Path) -> None:
    neo4j = start_local_neo4j(home=tmp_path / "neo4j")
    port = int(neo4j.uri.rsplit(":", 1)[1])
    served = serve(["--neo4j", neo4j.uri, "--data", str(tmp_path / "data")], tmp_path / "serve.log", env=QUIET)
    stream = Stream(served.url, batch=5)
    threads = stream.run(writers=2)
    try:
        _wait(lambda: len(stream.acked) >= 50, 120, "50 acknowledged inputs before the outage")
        neo4j.stop()
        _wait(lambda: stream.count(503) >= 3, 120, "503 answers during the outage")
        acked_in_outage = len(stream.acked)
        neo4j = start_local_neo4j(home=tmp_path / "neo4j", port=port)
        _wait(lambda: len(stream.acked) >= acked_in_outage + 50, 180, "50 more acknowledged after the restart")
    finally:
        stream.stop.set()
        for t in threads:
            t.join(timeout=60)
        served.stop()
    assert set(stream.statuses) == {200, 503}  # never a 500, never a silent loss
    assert stream.retry_after and all(r is not None and int(r) > 0 for r in stream.retry_after)

    async def check() -> None:
        store = await Neo4jStore.open(neo4j.uri)
        try:
            kept = await _journal_ids(store)
            assert stream.acked <= kept
            print(
                f"neo4j outage: {len(stream.acked)} acknowledged, {stream.count(503)} answered 503, "
                f"{stream.cut} cut, {len(kept)} journaled"
            )
            assert (await store.verify()).intact
        finally:
            await store.close()

    try:
        asyncio.run(check())
    finally:
        neo4j.stop()
