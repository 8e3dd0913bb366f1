"""Keep CPython's cycle collector out of the way of large graphs of objects that make no cycles.

The embedded store holds millions of small objects that live as long as the process; a Neo4j
walk of a large cone makes hundreds of thousands that live as long as the query. Neither forms
garbage cycles, yet the collector walked them over and over: every ~70 elements of an apply at
the default thresholds, a reopened store of a million nodes at every full collection, a cone's
views several times per impact (docs/benchmarks.md). Memory is freed by reference counting all
the same; only the search for cycles is spared.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Fewer, larger young collections while a big batch is being merged: the default first threshold
# (700) ran the collector every ~70 elements. Process-wide: set once, only ever raised.
THRESHOLDS = (50_000, 20, 100)

# Frozen objects are given back at exit, so the interpreter's last collections tear them down too
# (extension modules that check for leaks at shutdown, like nanobind's in triton, find none).
atexit.register(gc.unfreeze)


def tune() -> None:
    """Raise the collector's thresholds (unless it is off, or already higher)."""
    current = gc.get_threshold()
    if current[0] and current[0] < THRESHOLDS[0]:
        gc.set_threshold(*THRESHOLDS)


class _Pause:
    """The collector paused by overlapping blocks (concurrent walks share one pause)."""

    def __init__(self) -> None:
        self.blocks = 0
        self.resume = False  # whether the collector was on when the first block began

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self.blocks == 0:
            self.resume = gc.isenabled()  # a collector the application turned off stays off
            gc.disable()
        self.blocks += 1
        try:
            yield
        finally:
            self.blocks -= 1
            if self.blocks == 0 and self.resume:
                gc.enable()


#: Pause the collector for a block that makes many objects and no garbage cycles: a large
#: Neo4j cone walked (a view, a hop and a visit per node reached, ~60k each at 100k nodes, kept
#: to the end of the query: the collector walked them all several times per impact, ~25 % of its
#: time). Memory is still freed by reference counting.
paused = _Pause()


@contextmanager
def loading() -> Iterator[None]:
    """Build a graph without the collector, then move it out of every later collection's walk.

    Loading allocates millions of objects of which none is garbage: the collector would walk
    them again and again while they are being made. Frozen afterwards (``gc.freeze``), they are
    never walked again. Used when a store opens, before it serves anything: no request is in
    flight whose objects, frozen too, could later become garbage cycles no collection frees.
    """
    with paused():
        yield
    if gc.isenabled():
        gc.freeze()
