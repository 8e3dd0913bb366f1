"""Small graphs for tests, written as native documents so they go through the real intake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from graph.keys import Kind, NodeKey

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NS = "postgres://db.internal:5432"


def at(minutes: float) -> str:
    """Return the ISO time ``minutes`` after T0."""
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def epoch(minutes: float) -> float:
    """Return the epoch seconds ``minutes`` after T0."""
    return (T0 + timedelta(minutes=minutes)).timestamp()


def ds(name: str, ns: str = NS) -> str:
    """Return the URN of a dataset."""
    return NodeKey(Kind.DATASET, ns, name).urn


def job(name: str, ns: str = "airflow://etl") -> str:
    """Return the URN of a job."""
    return NodeKey(Kind.JOB, ns, name).urn


def edge(src: str, kind: str, dst: str, minutes: float = 0, **extra: Any) -> dict[str, Any]:
    """Return a native edge."""
    return {"src": src, "type": kind, "dst": dst, "time": at(minutes), **extra}


def doc(*edges: dict[str, Any], nodes: list[dict[str, Any]] | None = None, closes: list[Any] | None = None) -> str:
    """Return one native document."""
    body: dict[str, Any] = {"edges": list(edges)}
    if nodes:
        body["nodes"] = nodes
    if closes:
        body["closes"] = closes
    return json.dumps(body)


def job_doc(name: str, inputs: list[str], outputs: list[str], minutes: float = 0) -> str:
    """Return one document saying a job read these datasets and wrote those."""
    j = job(name)
    return doc(
        *[edge(ds(i), "INPUT_OF", j, minutes) for i in inputs], *[edge(j, "PRODUCED", ds(o), minutes) for o in outputs]
    )


#: One small, valid OpenLineage RunEvent (for endpoint tests that need any accepted event).
OPENLINEAGE_EVENT: dict[str, object] = {
    "eventType": "COMPLETE",
    "eventTime": "2026-11-20T10:00:00Z",
    "producer": "https://github.com/lineage-graph/tests",
    "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8"},
    "job": {"namespace": "dbt://x", "name": "model_a"},
    "inputs": [{"namespace": "pg://db", "name": "a"}],
    "outputs": [{"namespace": "pg://db", "name": "b"}],
}
