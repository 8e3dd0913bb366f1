"""The `lineage` command as a person uses it: demo, query, ingest, verify, replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.graphs import ds, job_doc

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-demo")
    result = runner.invoke(app, ["demo", "--data", str(folder), "--nodes", "2000"])
    assert result.exit_code == 0, result.output
    assert "new events" in result.output
    return folder


def test_demo_twice_adds_nothing(demo_folder: Path) -> None:
    result = runner.invoke(app, ["demo", "--data", str(demo_folder), "--nodes", "2000"])
    assert "demo estate: 0 new events" in result.output


def test_query_upstream_prints_a_tree(demo_folder: Path) -> None:
    model_version = "urn:lineage:model_version:mlflow%3A//mlflow.internal:churn-model:1"
    result = runner.invoke(app, ["query", "upstream", model_version, "--data", str(demo_folder), "--hops", "3"])
    assert result.exit_code == 0, result.output
    assert "churn-training" in result.output
    assert "FeatureView" in result.output


def test_query_downstream_as_json(demo_folder: Path) -> None:
    orders = "dataset:postgres://orders-db.internal:5432:shop.public.orders"
    result = runner.invoke(
        app, ["query", "downstream", orders, "--data", str(demo_folder), "--kind", "ModelVersion", "-o", "json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert {n["kind"] for n in body["nodes"]} == {"Dataset", "ModelVersion"}  # the start, then the filter


def test_query_path_explains_the_hops(demo_folder: Path) -> None:
    orders = "dataset:postgres://orders-db.internal:5432:shop.public.orders"
    version = "urn:lineage:model_version:mlflow%3A//mlflow.internal:churn-model:1"
    result = runner.invoke(app, ["query", "path", orders, version, "--data", str(demo_folder)])
    assert result.exit_code == 0, result.output
    assert "PRODUCED" in result.output and "FeatureView" in result.output


def test_a_bad_id_is_a_readable_error(demo_folder: Path) -> None:
    result = runner.invoke(app, ["query", "upstream", "nonsense", "--data", str(demo_folder)])
    assert result.exit_code == 2
    assert "neither a urn:lineage: id nor a Marquez node id" in result.output


def test_verify_and_replay(demo_folder: Path) -> None:
    verified = runner.invoke(app, ["verify", "--data", str(demo_folder)])
    assert verified.exit_code == 0 and "journal intact" in verified.output
    replayed = runner.invoke(app, ["replay", "--data", str(demo_folder)])
    assert replayed.exit_code == 0 and "replayed" in replayed.output


def test_ingest_files_folders_and_jsonl_with_a_summary(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "one.json").write_text(job_doc("a", ["s"], ["t"]))
    (inputs / "many.json").write_text(json.dumps([json.loads(job_doc("b", ["t"], ["u"])), {"edges": "nope"}]))
    (inputs / "lines.jsonl").write_text(job_doc("c", ["u"], ["v"]) + "\n" + job_doc("a", ["s"], ["t"]) + "\n")
    data = tmp_path / "data"
    result = runner.invoke(app, ["ingest", "native", str(inputs), "--data", str(data)])
    assert result.exit_code == 1  # one input was refused
    assert "3 accepted" in result.output and "1 already kept" in result.output and "1 rejected" in result.output
    assert "many.json[1]" in result.output
    traced = runner.invoke(app, ["query", "upstream", ds("v"), "--data", str(data), "-o", "json"])
    assert json.loads(traced.output)["total"] == 7


@pytest.mark.slow
def test_serve_answers_health_and_graphql_on_a_real_port(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--data", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        posted = httpx.post(f"http://127.0.0.1:{port}/api/v1/graph", content=job_doc("j", ["a"], ["b"]))
        assert posted.json()["accepted"] == 1
        query = {"query": '{{ node(id: "{}") {{ ... on Node {{ name }} }} }}'.format(ds("b"))}
        assert httpx.post(f"http://127.0.0.1:{port}/graphql", json=query).json() == {"data": {"node": {"name": "b"}}}
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}" in output
