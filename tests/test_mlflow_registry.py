"""MLflow registries into the graph: a real mlflow server, the real client, webhooks to the running app."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import mlflow
import orjson
import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.routes.mlflow_webhooks import signature
from api.settings import Settings
from graph.keys import Kind, NodeKey
from graph.memory import MemoryStore
from graph.query import Direction, LineageQuery, TimeWindow
from graph.records import EdgeRecord
from graph.store import LineageStore
from ingest import feast as feast_source
from ingest.feast import registry_events
from ingest.intake import intake, project
from ingest.mlflow import namespace_of
from ingest.mlflow_reconcile import reconcile
from ingest.mlflow_rest import MlflowReader
from tests.mlflow_server import NO_TELEMETRY, SECRET, free_port, mlflow_server, served, settings_for, webhook
from tests.snapshots import snapshot

pytestmark = pytest.mark.slow


def _corpus() -> Path:
    """Find shared/corpus beside the clone (or the worktree's project folder)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "corpus").is_dir():
            return parent / "shared" / "corpus"
    msg = "shared/corpus not found beside the repository"
    raise FileNotFoundError(msg)


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real MLflow server for the whole session (it takes a while to start)."""
    os.environ.update(NO_TELEMETRY)  # the client in this process too
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as uri:
        yield uri


@pytest.fixture
def own_tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh MLflow server: deliveries an earlier test left queued would delay this test's past its wait."""
    os.environ.update(NO_TELEMETRY)
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as uri:
        yield uri


def _client(uri: str) -> MlflowClient:
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(uri)


def _train(uri: str, model: str, data_uri: str, tags: dict[str, str] | None = None) -> str:
    """Train (log a dataset input on a run), log a model and register it; return the version."""
    _client(uri)
    mlflow.set_experiment("churn-training")
    # MLflow keeps one dataset per (experiment, name, digest), with the source it was first logged
    # with: each test's training data must differ, or its run would point at another test's file.
    frame = pd.DataFrame({"tenure": [1.0, 2.0, 3.0], "churned": [0.0, 1.0, 0.0], "source": data_uri})
    dataset = mlflow.data.from_pandas(frame, source=data_uri, name=data_uri.rsplit("/", 1)[-1])
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
        logged = mlflow.create_external_model(name=model, source_run_id=run.info.run_id)
    version = mlflow.register_model(f"models:/{logged.model_id}", model, tags=tags)
    return str(version.version)


def _ol_producer(data_uri_ns: str, data_name: str, minutes_before: float = 60) -> str:
    """An OpenLineage run that read a Postgres table and wrote the training file, before training."""
    t = datetime.fromtimestamp(time.time() - minutes_before * 60, UTC).isoformat()
    return orjson.dumps(
        {
            "eventType": "COMPLETE",
            "eventTime": t,
            "producer": "https://github.com/lineage-graph/tests",
            "run": {"runId": str(uuid.uuid4())},
            "job": {"namespace": "airflow://etl", "name": "build_churn_training"},
            "inputs": [{"namespace": "postgres://db:5432", "name": "shop.public.customers"}],
            "outputs": [{"namespace": data_uri_ns, "name": data_name}],
        }
    ).decode()


async def _until(check: Callable[[], Awaitable[bool]], seconds: float = 240) -> None:
    """Wait for a check to hold (the assertions after it say what is wrong if it never does)."""
    deadline = time.monotonic() + seconds
    while not await check() and time.monotonic() < deadline:  # noqa: ASYNC110  # polling the store is the point
        await asyncio.sleep(0.2)


async def _edges(store: LineageStore, edge_type: str, qualifier: str) -> dict[str, EdgeRecord]:
    _, edges = await store.export()
    return {e.dst: e for e in edges if e.type.value == edge_type and e.qualifier == qualifier}


async def _upstream(store: LineageStore, key: NodeKey, as_of: float | None = None) -> set[str]:
    query = LineageQuery(key, Direction.UPSTREAM, max_hops=20, window=TimeWindow(as_of=as_of))
    return set((await store.lineage(query)).urns())


async def test_webhooks_build_the_graph_from_training_data_to_aliased_versions_and_prompts(
    store: LineageStore, own_tracking_uri: str, tmp_path: Path
) -> None:
    tracking_uri = own_tracking_uri
    u = uuid.uuid4().hex[:8]
    model, prompt = f"churn_{u}", f"support_{u}"
    ns = namespace_of(tracking_uri)
    await intake(store, "openlineage", [_ol_producer("s3://lake", f"features/churn_{u}.parquet")])
    client = _client(tracking_uri)
    moments: dict[str, float] = {}

    def scenario() -> None:
        data = f"s3://lake/features/churn_{u}.parquet"
        _train(tracking_uri, model, data, tags={"feast.feature_service": "churn_repo/churn_features"})
        client.set_registered_model_alias(model, "champion", "1")
        client.set_model_version_tag(model, "1", "validated", "true")
        client.set_model_version_tag(model, "1", "temporary", "yes")
        client.delete_model_version_tag(model, "1", "temporary")
        time.sleep(1.5)
        moments["v1_champion"] = time.time()
        time.sleep(1.5)
        _train(tracking_uri, model, data)
        client.set_registered_model_alias(model, "champion", "2")
        time.sleep(1.5)
        moments["v2_champion"] = time.time()
        mlflow.genai.register_prompt(
            name=prompt, template="Answer with {{context}}: {{question}}", commit_message="first"
        )
        mlflow.genai.set_prompt_alias(prompt, "production", 1)
        time.sleep(1.5)
        moments["p1_production"] = time.time()
        time.sleep(1.5)
        mlflow.genai.register_prompt(
            name=prompt, template="Be brief. {{context}} / {{question}}", commit_message="second"
        )
        mlflow.genai.set_prompt_alias(prompt, "production", 2)
        time.sleep(1.5)
        moments["p2_production"] = time.time()

    settings = settings_for(tmp_path, tracking_uri, feast_project="churn_repo")
    async with served(settings, store) as url, webhook(tracking_uri, f"{url}/webhooks/mlflow"):
        await asyncio.to_thread(scenario)
        v1, v2 = (NodeKey(Kind.MODEL_VERSION, ns, model, v) for v in ("1", "2"))
        p1, p2 = (NodeKey(Kind.PROMPT_VERSION, ns, prompt, v) for v in ("1", "2"))

        async def settled() -> bool:
            # MLflow delivers concurrently and retries: wait for every delivery's effect, not a few.
            champion = await _edges(store, "ALIAS", "champion")
            production = await _edges(store, "ALIAS", "production")
            nodes = await store.get([v1.urn])
            tags = nodes[v1.urn].properties.get("tags", {}) if v1.urn in nodes else {}
            return (
                all(v.urn in champion and champion[v.urn].markers for v in (v1, v2))
                and all(p.urn in production and production[p.urn].markers for p in (p1, p2))
                and champion[v1.urn].valid_at(moments["v1_champion"])
                and production[p1.urn].valid_at(moments["p1_production"])
                and tags.get("validated") == "true"
                and "temporary" not in tags
                and NodeKey(Kind.DATASET, "postgres://db:5432", "shop.public.customers").urn
                in await _upstream(store, v1)
            )

        await _until(settled)

    # Trace-back from a model version reaches the table the training data was built from.
    reach = await _upstream(store, v1)
    assert {
        NodeKey(Kind.DATASET, "postgres://db:5432", "shop.public.customers").urn,
        NodeKey(Kind.FEATURE_SERVICE, "churn_repo", "churn_features").urn,
    } <= reach, sorted(reach)
    # The training file is resolved to the version the OpenLineage run wrote, live when training ran.
    training = NodeKey(Kind.DATASET_VERSION, "s3://lake", f"features/churn_{u}.parquet", "x").urn.rsplit(":", 1)[0]
    assert any(urn.startswith(training + ":") for urn in reach)
    assert any(urn.startswith("urn:lineage:run:") and ns.replace(":", "%3A") in urn for urn in reach)
    # As-of: the alias where it pointed at each time, for models and prompts.
    champion = await _edges(store, "ALIAS", "champion")
    assert (champion[v1.urn].valid_at(moments["v1_champion"]), champion[v2.urn].valid_at(moments["v1_champion"])) == (
        True,
        False,
    )
    assert (champion[v1.urn].valid_at(moments["v2_champion"]), champion[v2.urn].valid_at(moments["v2_champion"])) == (
        False,
        True,
    )
    production = await _edges(store, "ALIAS", "production")
    assert [production[p.urn].valid_at(moments["p1_production"]) for p in (p1, p2)] == [True, False]
    assert [production[p.urn].valid_at(moments["p2_production"]) for p in (p1, p2)] == [False, True]
    nodes = await store.get([p1.urn, p2.urn])
    assert nodes[p1.urn].properties["variables"] == ["context", "question"]
    assert nodes[p2.urn].properties["commit_message"] == "second"
    assert str(nodes[p2.urn].properties["template_hash"]).startswith("sha256:")
    assert nodes[p1.urn].properties["template_hash"] != nodes[p2.urn].properties["template_hash"]
    assert await store.dead_letters() == []


def _delivery(body: dict[str, Any], delivery_id: str, stamp: int, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = orjson.dumps(body)
    headers = {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": str(stamp),
        "X-MLflow-Signature": signature(secret, delivery_id, str(stamp), raw),
    }
    return raw, headers


def _recorded() -> list[dict[str, Any]]:
    lines = (_corpus() / "mlflow" / "webhooks_received.jsonl").read_text().splitlines()
    return [orjson.loads(line) for line in lines if line.strip()]


async def test_refused_deliveries_apply_nothing_and_are_dead_lettered(
    store: LineageStore, tracking_uri: str, tmp_path: Path
) -> None:
    app = create_app(settings_for(tmp_path, tracking_uri), store)
    body = _recorded()[0]["body"]  # registered_model.created, as a real MLflow 3.17 server sent it
    now = int(time.time())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        raw, headers = _delivery(body, "bad-signature", now, secret="not-the-secret")
        bad = await http.post("/webhooks/mlflow", content=raw, headers=headers)
        raw, headers = _delivery(body, "stale", now - 3600)
        stale = await http.post("/webhooks/mlflow", content=raw, headers=headers)
        missing = await http.post("/webhooks/mlflow", content=raw, headers={"Content-Type": "application/json"})
    assert (bad.status_code, stale.status_code, missing.status_code) == (401, 401, 401)
    assert "X-MLflow-Signature" in bad.json()["error"] and "X-MLflow-Timestamp" in stale.json()["error"]
    assert await store.head() == (0, "0" * 64)
    letters = await store.dead_letters()
    assert {orjson.loads(d.raw)["delivery_id"] for d in letters} == {"bad-signature", "stale", ""}
    assert all(SECRET not in d.raw and SECRET not in d.reason for d in letters)


async def test_a_replayed_delivery_is_journaled_once_even_when_re_signed(
    store: LineageStore, tracking_uri: str, tmp_path: Path
) -> None:
    app = create_app(settings_for(tmp_path, tracking_uri), store)
    body = _recorded()[2]["body"]  # model_version_alias.created
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        raw, headers = _delivery(body, "delivery-1", int(time.time()))
        first = await http.post("/webhooks/mlflow", content=raw, headers=headers)
        head = await store.head()
        again = await http.post("/webhooks/mlflow", content=raw, headers=headers)
        raw, headers = _delivery(body, "delivery-1", int(time.time()) + 1)
        re_signed = await http.post("/webhooks/mlflow", content=raw, headers=headers)
    assert first.status_code == 200 and first.json()["status"] == "accepted"
    assert [again.json()["status"], re_signed.json()["status"]] == ["duplicate", "duplicate"]
    assert await store.head() == head
    # The alias event itself is in the graph: its time comes from the delivery.
    ns = namespace_of(tracking_uri)
    champion = await _edges(store, "ALIAS", "champion")
    edge = champion[NodeKey(Kind.MODEL_VERSION, ns, "churn_model", "1").urn]
    assert edge.valid_at(datetime.fromisoformat(body["timestamp"]).timestamp() + 1)


async def test_mlflow_down_answers_503_and_applies_nothing(store: LineageStore, tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path, f"http://127.0.0.1:{free_port()}"), store)
    raw, headers = _delivery(_recorded()[1]["body"], "while-down", int(time.time()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        response = await http.post("/webhooks/mlflow", content=raw, headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert await store.head() == (0, "0" * 64)
    assert await store.dead_letters() == []  # not refused: MLflow retries it


async def test_a_service_without_webhook_settings_refuses_with_404_and_keeps_the_delivery(
    store: LineageStore, tmp_path: Path
) -> None:
    app = create_app(Settings(data_dir=tmp_path), store)
    raw, headers = _delivery(_recorded()[1]["body"], "unasked", int(time.time()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        response = await http.post("/webhooks/mlflow", content=raw, headers=headers)
    assert response.status_code == 404 and "LINEAGE_MLFLOW_WEBHOOK_SECRET" in response.json()["error"]
    assert await store.head() == (0, "0" * 64)
    [kept] = await store.dead_letters()
    assert "not enabled" in kept.reason and "unasked" in kept.raw and "s3cret" not in kept.raw


async def test_reconcile_catches_a_deleted_version_and_journals_nothing_when_unchanged(
    store: LineageStore, tracking_uri: str
) -> None:
    u = uuid.uuid4().hex[:8]
    model = f"recon_{u}"
    for _ in range(2):
        await asyncio.to_thread(_train, tracking_uri, model, f"s3://lake/recon_{u}.parquet")
    await asyncio.to_thread(_client(tracking_uri).set_registered_model_alias, model, "production", "2")
    ns = namespace_of(tracking_uri)
    v1, v2 = (NodeKey(Kind.MODEL_VERSION, ns, model, v) for v in ("1", "2"))
    async with MlflowReader(tracking_uri) as reader:
        first = await reconcile(store, reader)
        unchanged = await reconcile(store, reader)
    assert first.journaled >= 1 and unchanged.journaled == 0 and unchanged.gone == []
    production = await _edges(store, "ALIAS", "production")
    assert production[v2.urn].valid_at(time.time())
    await asyncio.to_thread(_client(tracking_uri).delete_model_version, model, "1")
    head = await store.head()
    async with MlflowReader(tracking_uri) as reader:
        after_delete = await reconcile(store, reader)
        settled = await reconcile(store, reader)
    assert after_delete.gone == [v1.urn]
    nodes = await store.get([v1.urn, v2.urn])
    assert (nodes[v1.urn].valid_at(time.time()), nodes[v2.urn].valid_at(time.time())) == (False, True)
    assert nodes[v1.urn].valid_at(nodes[v1.urn].first_seen)  # closed, not erased: as-of before the delete sees it
    assert settled.journaled == 0 and settled.gone == []
    assert (await store.head())[0] > head[0]
    # The journal holds what was read: a replay re-derives the same graph without MLflow.
    before = await snapshot(store)
    await store.replay(project)
    assert await snapshot(store) == before


def test_the_cli_reconciles_and_summarises(tracking_uri: str, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["ingest", "mlflow", "--tracking-uri", tracking_uri, "--data", str(tmp_path / "data")]
    first = runner.invoke(cli, args)
    second = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0 and " 0 changed" in second.output, second.output


async def test_the_poller_reconciles_in_the_background(tracking_uri: str, tmp_path: Path) -> None:
    store = MemoryStore(tmp_path / "store")
    model = f"polled_{uuid.uuid4().hex[:8]}"
    settings = settings_for(tmp_path, tracking_uri, mlflow_poll_seconds=0.5)
    key = NodeKey(Kind.MODEL_VERSION, namespace_of(tracking_uri), model, "1")
    try:
        async with served(settings, store):
            await asyncio.to_thread(_train, tracking_uri, model, "s3://lake/polled.parquet")

            async def seen() -> bool:
                return key.urn in await store.get([key.urn])

            await _until(seen)
            assert await seen()
    finally:
        await store.close()


def _feast_repo(folder: Path) -> Path:
    """A real Feast repo (local provider, file offline store, sqlite online store), applied."""
    from datetime import timedelta

    from feast import Entity, FeatureService, FeatureStore, FeatureView, Field, FileSource
    from feast.types import Float32, Int64
    from feast.value_type import ValueType

    repo = folder / "feature_repo"
    (repo / "data").mkdir(parents=True)
    (repo / "feature_store.yaml").write_text(
        "project: churn_repo\nprovider: local\nregistry: data/registry.db\n"
        "online_store:\n  type: sqlite\n  path: data/online.db\noffline_store:\n  type: file\n"
        "entity_key_serialization_version: 3\n"
    )
    stats = repo / "data" / "customer_stats.parquet"
    frame = pd.DataFrame(
        {"customer_id": [1, 2], "tenure": [3, 4], "spend": [1.5, 2.5], "event_timestamp": pd.Timestamp.now(tz="UTC")}
    )
    frame.to_parquet(stats)
    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)
    source = FileSource(name="customer_stats_source", path=str(stats), timestamp_field="event_timestamp")
    view = FeatureView(
        name="customer_stats",
        entities=[customer],
        ttl=timedelta(days=1),
        schema=[Field(name="tenure", dtype=Int64), Field(name="spend", dtype=Float32)],
        source=source,
    )
    FeatureStore(repo_path=str(repo)).apply(
        [customer, source, view, FeatureService(name="churn_features", features=[view])]
    )
    return repo


async def test_a_feast_registry_joins_feature_services_to_model_versions(
    store: LineageStore, tracking_uri: str, tmp_path: Path
) -> None:
    repo = _feast_repo(tmp_path)
    events = registry_events(repo)
    first = await intake(store, feast_source.SOURCE, events)
    again = await intake(store, feast_source.SOURCE, registry_events(repo))
    assert first.rejected == [] and again.count("duplicate") == len(events)
    args = ["ingest", "feast", "--repo", str(repo), "--data", str(tmp_path / "cli")]
    by_cli = await asyncio.to_thread(CliRunner().invoke, cli, args)
    assert by_cli.exit_code == 0 and f"{len(events)} changed" in by_cli.output, by_cli.output
    model = f"feast_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(
        _train, tracking_uri, model, "s3://lake/feast.parquet", {"feast.feature_service": "churn_repo/churn_features"}
    )
    async with MlflowReader(tracking_uri) as reader:
        await reconcile(store, reader)
    version = NodeKey(Kind.MODEL_VERSION, namespace_of(tracking_uri), model, "1")
    reach = await _upstream(store, version)
    assert {
        NodeKey(Kind.FEATURE_SERVICE, "churn_repo", "churn_features").urn,
        NodeKey(Kind.FEATURE_VIEW, "churn_repo", "customer_stats").urn,
        NodeKey(Kind.DATASET, "churn_repo", "customer_stats_source").urn,
    } <= reach
    features = {NodeKey(Kind.FEATURE, "churn_repo", f"customer_stats:{f}").urn for f in ("tenure", "spend")}
    assert set(await store.get(features)) == features
    # The source file is named as OpenLineage names it, linked to Feast's name for the source.
    _, edges = await store.export()
    physical = NodeKey(Kind.DATASET, "file", str(repo / "data" / "customer_stats.parquet")).urn
    assert any(e.type.value == "SYMLINK" and e.dst == physical for e in edges)


async def test_linked_prompts_join_prompt_versions_to_runs_and_models(store: LineageStore, tracking_uri: str) -> None:
    u = uuid.uuid4().hex[:8]
    model, prompt = f"agent_{u}", f"system_{u}"

    def scenario() -> None:
        client = _client(tracking_uri)
        mlflow.genai.register_prompt(name=prompt, template="You answer about {{topic}}.", commit_message="init")
        mlflow.set_experiment("agents")
        with mlflow.start_run() as run:
            client.link_prompt_version_to_run(run.info.run_id, f"prompts:/{prompt}/1")
            logged = mlflow.create_external_model(name=model, source_run_id=run.info.run_id)
        client.link_prompt_version_to_model(prompt, "1", logged.model_id)
        mlflow.register_model(f"models:/{logged.model_id}", model)

    await asyncio.to_thread(scenario)
    async with MlflowReader(tracking_uri) as reader:
        await reconcile(store, reader)
    ns = namespace_of(tracking_uri)
    version = NodeKey(Kind.MODEL_VERSION, ns, model, "1")
    used = NodeKey(Kind.PROMPT_VERSION, ns, prompt, "1").urn
    _, edges = await store.export()
    links = {(e.type.value, e.dst.split(":")[2]) for e in edges if e.src == used and e.type.value != "VERSION_OF"}
    assert links == {("INPUT_OF", "run"), ("DERIVES", "model_version")}
    assert used in await _upstream(store, version)


def _alias_record(ns: str, model: str, alias: str, version: str, minutes: float, action: str = "created") -> str:
    """What the webhook journals for an alias event (the re-read lists versions 1 and 2)."""
    t = datetime.fromtimestamp(1_790_000_000 + minutes * 60, UTC)
    versions = [{"version": v, "creation_timestamp": 1_789_000_000_000, "tags": {}} for v in ("1", "2")]
    models = [{"name": model, "creation_timestamp": 1_789_000_000_000, "aliases": {}, "versions": versions}]
    data = {"name": model, "alias": alias, "version": version}
    delivery = {"id": f"{alias}-{version}-{minutes}", "entity": "model_version_alias", "action": action}
    return orjson.dumps(
        {"namespace": ns, "models": models, "delivery": {**delivery, "timestamp": t.isoformat(), "data": data}}
    ).decode()


async def test_alias_moves_arriving_out_of_order_give_the_same_validity(store: LineageStore) -> None:
    ns = "mlflow://registry:5000"
    records = [
        _alias_record(ns, "churn", "champion", "2", 20),  # the move arrives first
        _alias_record(ns, "churn", "champion", "1", 30, "deleted"),  # a stale delete of the old target
        _alias_record(ns, "churn", "champion", "1", 0),
        _alias_record(ns, "churn", "champion", "2", 40, "deleted"),
    ]
    report = await intake(store, "mlflow", records)
    assert report.rejected == []
    champion = await _edges(store, "ALIAS", "champion")
    v1, v2 = (NodeKey(Kind.MODEL_VERSION, ns, "churn", v).urn for v in ("1", "2"))
    minute = 60.0
    at = [1_790_000_000 + m * minute for m in (10, 25, 45)]
    assert [champion[v1].valid_at(t) for t in at] == [True, False, False]
    assert [champion[v2].valid_at(t) for t in at] == [False, True, False]
