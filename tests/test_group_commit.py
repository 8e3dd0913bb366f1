"""Group commit: callers that wait on one apply share the next, and each keeps its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from graph.delta import GraphDelta
from graph.errors import StoreUnavailable
from graph.group_commit import GroupCommit
from graph.journal import JournalEntry
from graph.store import Ingested


def _input(text: str) -> Ingested:
    return Ingested(JournalEntry("native", text, 0.0), GraphDelta())


class Journal:
    """An apply that keeps inputs in arrival order, refuses those named bad, and can be down."""

    def __init__(self, bad: str = "", down: bool = False) -> None:
        self.kept: list[str] = []
        self.calls: list[list[str]] = []
        self.bad, self.down = bad, down

    async def apply(self, batch: Sequence[Ingested]) -> list[bool]:
        texts = [item.entry.raw for item in batch]
        self.calls.append(texts)
        await asyncio.sleep(0.01)  # a transaction takes a while: callers arrive meanwhile
        if self.down:
            msg = "Neo4j unavailable"
            raise StoreUnavailable(msg)
        if self.bad in texts:
            msg = f"cannot write {self.bad}"
            raise ValueError(msg)
        fresh = []
        for text in texts:  # as the stores do: a second copy in one batch is a duplicate
            fresh.append(text not in self.kept)
            if fresh[-1]:
                self.kept.append(text)
        return fresh


async def test_callers_waiting_together_share_one_apply_and_keep_their_own_outcomes() -> None:
    journal = Journal()
    group = GroupCommit(journal.apply)
    batches = [["a"], ["b", "c"], ["a"], ["d"]]
    outcomes = await asyncio.gather(*(group.apply([_input(t) for t in b]) for b in batches))
    assert outcomes == [[True], [True, True], [False], [True]]
    assert journal.calls == [["a", "b", "c", "a", "d"]] and group.transactions == 1
    assert journal.kept == ["a", "b", "c", "d"]


async def test_callers_arriving_during_an_apply_go_together_in_the_next() -> None:
    journal = Journal()
    group = GroupCommit(journal.apply)
    first = asyncio.create_task(group.apply([_input("a")]))
    await asyncio.sleep(0)  # the first apply is running
    later = await asyncio.gather(*(group.apply([_input(t)]) for t in "bcd"))
    assert await first == [True] and later == [[True]] * 3
    assert journal.calls == [["a"], ["b", "c", "d"]]


async def test_a_group_holds_at_most_the_limit_but_always_one_caller() -> None:
    journal = Journal()
    group = GroupCommit(journal.apply, limit=3)
    await asyncio.gather(
        *(group.apply([_input(t) for t in b]) for b in (["a", "b"], ["c"], ["d", "e", "f", "g"], ["h"]))
    )
    assert journal.calls == [["a", "b", "c"], ["d", "e", "f", "g"], ["h"]]


async def test_an_input_that_cannot_be_written_fails_only_its_caller() -> None:
    journal = Journal(bad="x")
    group = GroupCommit(journal.apply)
    results = await asyncio.gather(
        *(group.apply([_input(t) for t in b]) for b in (["a"], ["x", "b"], ["c"])), return_exceptions=True
    )
    assert results[0] == [True] and results[2] == [True]
    assert isinstance(results[1], ValueError) and "cannot write x" in str(results[1])
    assert journal.kept == ["a", "c"]  # the failed caller's other input is not half-kept


async def test_a_store_that_is_down_fails_every_waiting_caller_at_once() -> None:
    journal = Journal(down=True)
    group = GroupCommit(journal.apply)
    results = await asyncio.gather(*(group.apply([_input(t)]) for t in "abc"), return_exceptions=True)
    assert all(isinstance(r, StoreUnavailable) for r in results)
    assert len(journal.calls) == 1  # not retried caller by caller against a server that is down


async def test_a_caller_that_goes_away_does_not_stop_the_others() -> None:
    journal = Journal()
    group = GroupCommit(journal.apply)
    first = asyncio.create_task(group.apply([_input("a")]))
    await asyncio.sleep(0)
    gone = asyncio.create_task(group.apply([_input("b")]))
    stays = asyncio.create_task(group.apply([_input("c")]))
    await asyncio.sleep(0)
    gone.cancel()
    assert await first == [True] and await stays == [True]
    with pytest.raises(asyncio.CancelledError):
        await gone
