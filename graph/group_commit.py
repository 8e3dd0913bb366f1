"""Group commit: applies that arrive while a write transaction runs go together in the next one.

A Neo4j write transaction costs tens of milliseconds whatever it holds (five statements and a
commit), and every apply takes the journal head's lock, so concurrent applies run one after
another anyway. Producers such as Airflow post one event at a time from many workers: joined,
eight waiting events cost one transaction instead of eight. Each caller still gets its own
outcome, in its own order, and the journal keeps arrival order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from graph.errors import StoreUnavailable
from graph.store import Ingested

Apply = Callable[[Sequence[Ingested]], Awaitable[list[bool]]]
_Waiting = tuple[Sequence[Ingested], "asyncio.Future[list[bool]]"]


class GroupCommit:
    """Run ``apply`` for waiting callers together, at most ``limit`` inputs (or one caller) at a time."""

    def __init__(self, apply: Apply, limit: int = 2000) -> None:
        self._apply = apply
        self.limit = limit
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        self.transactions = 0  # how many applies ran: fewer than callers when they were joined

    async def apply(self, batch: Sequence[Ingested]) -> list[bool]:
        """Apply a batch with whatever else is waiting; return its own outcome."""
        future: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._waiting.append((batch, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        while self._waiting:
            group = self._next_group()
            try:
                await self._run(group)
            except BaseException as e:  # cancelled with the loop: nobody may wait forever
                for _, future in (*group, *self._waiting):
                    _fail(future, e)
                self._waiting.clear()
                raise

    def _next_group(self) -> list[_Waiting]:
        size, taken = 0, 0
        for batch, _ in self._waiting:
            if taken and size + len(batch) > self.limit:
                break
            size, taken = size + len(batch), taken + 1
        group, self._waiting = self._waiting[:taken], self._waiting[taken:]
        return group

    async def _run(self, group: list[_Waiting]) -> None:
        self.transactions += 1
        try:
            outcome = await self._apply([item for batch, _ in group for item in batch])
        except StoreUnavailable as e:  # the store is down: every caller would fail alike
            for _, future in group:
                _fail(future, e)
            return
        except Exception as e:
            if len(group) == 1:
                _fail(group[0][1], e)
                return
            # One caller's input may be what failed: each alone, so the others' inputs still land.
            for batch, future in group:
                await self._run([(batch, future)])
            return
        start = 0
        for batch, future in group:
            if not future.done():  # its caller may have gone (a closed connection)
                future.set_result(outcome[start : start + len(batch)])
            start += len(batch)


def _fail(future: asyncio.Future[list[bool]], error: BaseException) -> None:
    if future.done():
        return
    if isinstance(error, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(error)
