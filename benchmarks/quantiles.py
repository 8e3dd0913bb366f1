"""The quantile every benchmark reports its latencies with, defined once."""

from __future__ import annotations

from collections.abc import Sequence


def quantile(samples: Sequence[float], q: float) -> float:
    """Return the q-quantile of the samples: the nearest rank, so always a time that was measured."""
    ordered = sorted(samples)
    return ordered[round(q * (len(ordered) - 1))]
