"""The embedded store's journal: tamper detection, replay, and survival of kill -9."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graph.memory import MemoryStore
from ingest.intake import intake, intake_together, project
from tests.graphs import job_doc
from tests.snapshots import snapshot

DOCS = [job_doc(f"j{i}", [f"t{i}"], [f"t{i + 1}"], i) for i in range(6)]


@pytest.fixture
async def kept(tmp_path: Path) -> Path:
    """A data folder whose journal holds six inputs."""
    store = MemoryStore(tmp_path)
    await intake(store, "native", DOCS)
    await store.close()
    return tmp_path


def _sql(folder: Path, statement: str, *args: object) -> None:
    db = sqlite3.connect(folder / "lineage.sqlite")
    db.execute(statement, args)
    db.commit()
    db.close()


async def test_an_intact_journal_verifies(kept: Path) -> None:
    store = MemoryStore(kept)
    report = await store.verify()
    await store.close()
    assert report.intact and report.checked == 6 and report.head_seq == 6


async def test_an_altered_record_is_named(kept: Path) -> None:
    _sql(kept, "UPDATE journal SET raw = replace(raw, 't3', 'tX') WHERE seq = 3")
    store = MemoryStore(kept)
    report = await store.verify()
    await store.close()
    assert not report.intact
    assert report.broken_seq == 3
    assert "content does not match" in (report.problem or "")


async def test_a_removed_record_is_named(kept: Path) -> None:
    _sql(kept, "DELETE FROM journal WHERE seq = 4")
    store = MemoryStore(kept)
    report = await store.verify()
    await store.close()
    assert not report.intact and report.broken_seq == 4 and "missing" in (report.problem or "")


async def test_a_rewritten_arrival_time_is_named(kept: Path) -> None:
    _sql(kept, "UPDATE journal SET received_at = received_at + 1 WHERE seq = 2")
    store = MemoryStore(kept)
    report = await store.verify()
    await store.close()
    assert not report.intact and report.broken_seq == 2


async def test_replay_rebuilds_the_same_graph(kept: Path) -> None:
    store = MemoryStore(kept)
    before = await snapshot(store)
    _sql(kept, "DELETE FROM edges")  # the projection is lost; the journal is the truth
    applied = await store.replay(project)
    assert applied == 6
    assert await snapshot(store) == before
    await store.close()
    reopened = MemoryStore(kept)
    assert await snapshot(reopened) == before
    await reopened.close()


async def test_a_write_refused_by_sqlite_leaves_no_trace_in_the_graph(tmp_path: Path) -> None:
    """The store keeps recently written records parsed; a failed write must not leave its merge in them."""
    first, again = DOCS[0], job_doc("j0", ["t0"], ["t1"], 30)  # the same job, edges and tables seen later
    store = MemoryStore(tmp_path / "a", busy_timeout=0.2)
    await intake(store, "native", [first])
    other = sqlite3.connect(tmp_path / "a" / "lineage.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await intake_together(store, [("native", again)], 0.0)
    other.execute("ROLLBACK")
    other.close()
    await intake_together(store, [("native", again)], 0.0)
    clean = MemoryStore(tmp_path / "b")
    await intake(clean, "native", [first])
    await intake_together(clean, [("native", again)], 0.0)
    assert await snapshot(store) == await snapshot(clean)  # evidence counted once, not twice
    await store.close()
    await clean.close()


WRITER = textwrap.dedent(
    """
    import asyncio, json, sys
    from graph.memory import MemoryStore
    from ingest.intake import intake

    async def main():
        store = MemoryStore(sys.argv[1])
        for i in range(100000):
            edges = [{"src": f"urn:lineage:dataset:s3%3A//b:in{i}", "type": "INPUT_OF",
                      "dst": "urn:lineage:job:airflow%3A//x:load", "time": "2026-11-20T10:00:00Z"},
                     {"src": "urn:lineage:job:airflow%3A//x:load", "type": "PRODUCED",
                      "dst": f"urn:lineage:dataset:s3%3A//b:out{i}", "time": "2026-11-20T10:00:00Z"}]
            report = await intake(store, "native", [json.dumps({"edges": edges})])
            print(report.outcomes[0].id, flush=True)  # acknowledged: the apply returned

    asyncio.run(main())
    """
)


@pytest.mark.slow
async def test_acknowledged_inputs_survive_kill_9_of_the_writer(tmp_path: Path) -> None:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    acknowledged = [writer.stdout.readline().strip() for _ in range(300)]
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    store = MemoryStore(tmp_path)
    kept = await store.events(acknowledged)
    assert set(kept) == set(acknowledged)
    assert (await store.verify()).intact
    graph = await snapshot(store)
    await store.replay(project)
    assert await snapshot(store) == graph  # the graph and the journal agree
    await store.close()
