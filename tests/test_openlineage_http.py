"""OpenLineage over HTTP with the real openlineage-python client, and the batch endpoint."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import schema_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpCompression, HttpConfig, HttpTransport

from api.app import create_app
from api.settings import Settings
from graph.keys import Kind, NodeKey
from graph.memory import MemoryStore
from graph.query import Direction, LineageQuery

PRODUCER = "https://github.com/lineage-graph/tests"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, MemoryStore]]:
    """The app on a real loopback port (the client speaks HTTP, not ASGI)."""
    store = MemoryStore(tmp_path / "data")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(Settings(data_dir=tmp_path), store), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize("compression", [None, HttpCompression.GZIP])
def test_the_real_client_sends_start_and_complete_and_lineage_sees_them(
    served: tuple[str, MemoryStore], compression: HttpCompression | None
) -> None:
    url, store = served
    config = HttpConfig(url=url, auth=ApiKeyTokenProvider({"apiKey": "a-test-key"}), compression=compression)
    client = OpenLineageClient(transport=HttpTransport(config))
    run = Run(runId=str(uuid.uuid4()))
    job = Job(namespace="airflow://etl", name="orders_daily.load")
    schema = schema_dataset.SchemaDatasetFacet(fields=[schema_dataset.SchemaDatasetFacetFields(name="id", type="int")])
    inputs = [InputDataset(namespace="postgres://db:5432", name="shop.public.orders", facets={"schema": schema})]
    outputs = [OutputDataset(namespace="s3://lake", name="orders/daily")]
    for state in (RunState.START, RunState.COMPLETE):
        client.emit(
            RunEvent(
                eventType=state,
                eventTime=datetime.now(UTC).isoformat(),
                run=run,
                job=job,
                producer=PRODUCER,
                inputs=inputs,
                outputs=outputs,
            )
        )

    target = NodeKey(Kind.DATASET, "s3://lake", "orders/daily")
    result = asyncio.run(store.lineage(LineageQuery(target, Direction.UPSTREAM)))
    assert NodeKey(Kind.DATASET, "postgres://db:5432", "shop.public.orders").urn in result.urns()
    assert NodeKey(Kind.JOB, "airflow://etl", "orders_daily.load").urn in result.urns()


def test_batch_answers_with_partial_success(served: tuple[str, MemoryStore]) -> None:
    url, _ = served
    good = {
        "eventType": "COMPLETE", "eventTime": "2026-11-20T10:00:00Z", "producer": PRODUCER,
        "run": {"runId": str(uuid.uuid4())}, "job": {"namespace": "dbt://x", "name": "model_a"},
        "inputs": [{"namespace": "pg://db", "name": "a"}], "outputs": [{"namespace": "pg://db", "name": "b"}],
    }  # fmt: skip
    bad = {"eventType": "COMPLETE", "producer": PRODUCER, "job": {"namespace": "dbt://x"}}
    body = gzip.compress(json.dumps([good, bad]).encode())
    answer = httpx.post(f"{url}/api/v1/lineage/batch", content=body, headers={"Content-Encoding": "gzip"})
    assert answer.status_code == 200
    reply = answer.json()
    assert reply["status"] == "partial_success"
    assert reply["summary"] == {"received": 2, "successful": 1, "failed": 1, "retriable": 0, "non_retriable": 1}
    assert reply["failed_events"][0]["index"] == 1 and not reply["failed_events"][0]["retriable"]
    assert reply["failed_events"][0]["reason"].startswith("/")


def test_a_single_bad_event_is_a_400_naming_the_field(served: tuple[str, MemoryStore]) -> None:
    url, _ = served
    answer = httpx.post(f"{url}/api/v1/lineage", json={"eventType": "START", "producer": PRODUCER})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("/")
