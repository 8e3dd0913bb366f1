"""Prometheus metrics of one app: ingest outcomes, request latency by route template, store errors.

Each app has its own registry (tests build many apps in one process); /metrics renders it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

# Reads answer in milliseconds; a deep impact query or a big batch may take seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The service's metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.ingest = Counter(
            "lineage_ingest_inputs",
            "Inputs offered to ingest, by source and outcome (accepted, duplicate, rejected, unavailable).",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lineage_http_request_duration_seconds",
            "Time to answer a request, by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "lineage_store_errors",
            "Store calls that failed, by operation and error type.",
            ["operation", "error"],
            registry=self.registry,
        )
        self.unavailable = Counter(
            "lineage_store_unavailable_responses",
            "Requests answered 503 because the store could not be reached, by route template.",
            ["route"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        """Return the Prometheus text exposition."""
        return generate_latest(self.registry)
