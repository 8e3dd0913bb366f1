"""Upkeep off the request path: WAL checkpoints in a thread, the cycle collector kept out of the way."""

from __future__ import annotations

import gc
import time
from pathlib import Path

from graph import collector
from graph.journal import JournalEntry, chain
from graph.memory import MemoryStore
from graph.memory.sqlite import SqliteFile
from ingest.intake import intake
from tests.graphs import job_doc


def test_a_thread_checkpoints_the_wal_so_it_starts_over(tmp_path: Path) -> None:
    file = SqliteFile(tmp_path / "lineage.sqlite")
    database, wal = tmp_path / "lineage.sqlite", tmp_path / "lineage.sqlite-wal"
    head = file.head()

    def write(count: int) -> None:
        nonlocal head
        for _ in range(count):  # 1 MB each: the writer's own checkpoint waits for ~400 MB
            records = chain([JournalEntry("test", f'{{"n": {head[0]}, "pad": "{"x" * 1_000_000}"}}', 0.0)], *head)
            file.write(records, [], [])
            head = (records[-1].seq, records[-1].record_hash)

    try:
        write(60)
        rounds, deadline = file.checkpointer.rounds, time.monotonic() + 60
        while file.checkpointer.rounds < rounds + 2:  # a whole round begun after the writes: all copied
            assert time.monotonic() < deadline, "the WAL was not checkpointed within a minute"
            time.sleep(0.05)
        assert database.stat().st_size > 60_000_000
        size = wal.stat().st_size
        write(40)
        assert wal.stat().st_size == size  # the WAL started over: the new commits overwrote the old frames
    finally:
        file.close()
    assert not wal.exists()  # the last connection to close checkpointed it and removed it


async def test_a_reopened_graph_is_left_out_of_the_collectors_walks(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path)
    await intake(store, "native", [job_doc("etl", ["db.a"], ["db.b"])])
    await store.close()
    store = MemoryStore(tmp_path)
    try:
        loaded = {id(meta) for meta in store.graph._node.values()}
        assert len(loaded) == 3
        assert not loaded & {id(o) for o in gc.get_objects()}  # frozen: no collection walks them
        assert gc.isenabled()  # off only while loading
    finally:
        await store.close()


def test_overlapping_pauses_share_one_and_leave_the_collector_as_they_found_it() -> None:
    first, second = collector.paused(), collector.paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # walks end in any order
    assert not gc.isenabled()  # the other walk still runs
    second.__exit__(None, None, None)
    assert gc.isenabled()
    gc.disable()  # the application's choice
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
