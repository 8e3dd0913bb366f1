"""Keep CPython's cycle collector out of the way of a large, long-lived graph (both stores).

The embedded store holds millions of small objects that live as long as the process and
nearly never form garbage cycles. The default collector ran every ~70 elements of an apply and
its older generations re-walked the whole graph; a reopened store of a million nodes was walked
again at every full collection (docs/benchmarks.md).
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Fewer, larger young collections while a big batch is being merged: the default first threshold
# (700) ran the collector every ~70 elements. Process-wide: set once, only ever raised.
THRESHOLDS = (50_000, 20, 100)
_state = {"unfreeze_at_exit": False}


def tune() -> None:
    """Raise the collector's thresholds (unless it is off, or already higher)."""
    current = gc.get_threshold()
    if current[0] and current[0] < THRESHOLDS[0]:
        gc.set_threshold(*THRESHOLDS)


@contextmanager
def loading() -> Iterator[None]:
    """Build a graph without the collector, then move it out of every later collection's walk.

    Loading allocates millions of objects of which none is garbage: the collector would walk
    them again and again while they are being made. Frozen afterwards (``gc.freeze``), they are
    never walked again. Used when a store opens, before it serves anything: no request is in
    flight whose objects, frozen too, could later become garbage cycles no collection frees.
    """
    enabled = gc.isenabled()
    if not _state["unfreeze_at_exit"]:
        # Given back at exit, so that the interpreter's last collections tear frozen objects down
        # too (extension modules that check for leaks at shutdown, like nanobind's, find none).
        atexit.register(gc.unfreeze)
        _state["unfreeze_at_exit"] = True
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.freeze()
