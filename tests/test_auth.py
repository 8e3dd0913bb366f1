"""Who gets in: the token by scope by endpoint matrix, loopback versus beyond, revocation, the real client."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import requests
import uvicorn
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport
from typer.testing import CliRunner

from api.app import create_app
from api.auth import required_scope
from api.cli import app as cli
from api.routes.explorer import STATIC_DIR
from api.settings import Settings
from api.tokens import Scope, TokenStore, hash_token
from graph.keys import Kind, NodeKey
from graph.memory import MemoryStore
from tests.graphs import OPENLINEAGE_EVENT, ds, job_doc

EVENT = OPENLINEAGE_EVENT
NODE_QUERY = {"query": "query ($id: ID!) { node(id: $id) { __typename } }", "variables": {"id": ds("x")}}
# (method, path, body, scope it needs)
ENDPOINTS: list[tuple[str, str, object, Scope | None]] = [
    ("GET", "/healthz", None, None),
    ("GET", "/readyz", None, None),
    ("POST", "/api/v1/lineage", EVENT, Scope.INGEST),
    ("POST", "/api/v1/lineage/batch", [EVENT], Scope.INGEST),
    ("POST", "/api/v1/graph", None, Scope.INGEST),
    ("POST", "/graphql", NODE_QUERY, Scope.READ),
    ("GET", "/metrics", None, Scope.READ),
    ("GET", "/openapi.json", None, Scope.READ),
    ("GET", "/docs", None, Scope.READ),
    ("GET", "/", None, None),  # the explorer's page: it holds no data, /graphql does
    ("GET", "/api/v1/lineage?nodeId=dataset:pg://db:b", None, Scope.READ),  # Marquez
    ("GET", "/api/v1/audit/urn:lineage:dataset:pg%253A//db:b", None, Scope.READ),
]
CALLERS = ["none", "unknown", "revoked", "ingest", "read", "admin", "read+ingest"]


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str | None]]]:
    """The app listening beyond loopback, with one token per scope and a revoked one."""
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    secrets: dict[str, str | None] = {"none": None, "unknown": "lgt_" + "x" * 43}
    for caller, scopes in [
        ("ingest", {Scope.INGEST}),
        ("read", {Scope.READ}),
        ("admin", {Scope.ADMIN}),
        ("read+ingest", {Scope.READ, Scope.INGEST}),
        ("revoked", {Scope.ADMIN}),
    ]:
        secrets[caller], token = tokens.create(scopes, name=caller)
        if caller == "revoked":
            assert tokens.revoke(token.id)
    tokens.close()
    store = MemoryStore(tmp_path / "data")
    app = create_app(Settings(host="0.0.0.0", data_dir=tmp_path, rate_limit_per_second=0), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client, secrets
    await store.close()


def _expected(caller: str, needed: Scope | None) -> str:
    if needed is None:
        return "let in"
    if caller in {"none", "unknown", "revoked"}:
        return "401"
    granted = set(caller.split("+"))
    return "let in" if "admin" in granted or needed.value in granted else "403"


def _outcome(status: int) -> str:
    assert status < 500
    return str(status) if status in {401, 403} else "let in"  # a 404 or 422 of the endpoint itself


@pytest.mark.parametrize("caller", CALLERS)
async def test_every_endpoint_answers_by_token_and_scope(
    secured: tuple[httpx.AsyncClient, dict[str, str | None]], caller: str
) -> None:
    client, secrets = secured
    headers = {"Authorization": f"Bearer {secrets[caller]}"} if secrets[caller] else {}
    seen = set()
    for method, path, body, needed in ENDPOINTS:
        content = job_doc("load", ["raw"], ["clean"]) if path == "/api/v1/graph" else None
        answer = await client.request(method, path, json=body, content=content, headers=headers)
        seen.add((path, _outcome(answer.status_code)))
        if answer.status_code == 401:
            assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="lineage-graph"')
            if secrets[caller]:
                assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
        if answer.status_code == 403:
            assert f'scope="{needed}"' in answer.headers["WWW-Authenticate"]
    assert seen == {(path, _expected(caller, needed)) for _, path, _, needed in ENDPOINTS}


async def test_bearer_scheme_is_case_insensitive_and_other_schemes_are_refused(
    secured: tuple[httpx.AsyncClient, dict[str, str | None]],
) -> None:
    client, secrets = secured
    ok = await client.post("/graphql", json=NODE_QUERY, headers={"Authorization": f"bearer {secrets['read']}"})
    basic = await client.post("/graphql", json=NODE_QUERY, headers={"Authorization": f"Basic {secrets['read']}"})
    assert (ok.status_code, basic.status_code) == (200, 401)


async def test_on_loopback_without_tokens_the_demo_runs_open(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path / "data")
    app = create_app(Settings(host="127.0.0.1", data_dir=tmp_path), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.post("/graphql", json=NODE_QUERY)).status_code == 200
        assert (await client.post("/api/v1/lineage", json=EVENT)).status_code == 200
        assert not (tmp_path / "tokens.sqlite").exists()  # an open demo never creates the file
        # The first token turns auth on at once, even on loopback.
        secret, _ = TokenStore(tmp_path / "tokens.sqlite").create({Scope.READ})
        assert (await client.post("/graphql", json=NODE_QUERY)).status_code == 401
        headers = {"Authorization": f"Bearer {secret}"}
        assert (await client.post("/graphql", json=NODE_QUERY, headers=headers)).status_code == 200
    await store.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "lineage.internal"])
async def test_beyond_loopback_a_token_is_needed_even_with_none_created(tmp_path: Path, host: str) -> None:
    store = MemoryStore(tmp_path / "data")
    app = create_app(Settings(host=host, data_dir=tmp_path), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.post("/graphql", json=NODE_QUERY)).status_code == 401
        assert (await client.post("/api/v1/lineage", json=EVENT)).status_code == 401
        assert (await client.get("/healthz")).status_code == 200
    assert await store.journal() == []  # the refused event was not kept
    await store.close()


async def test_a_revoked_token_is_refused_from_the_next_request_on(tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    secret, token = tokens.create({Scope.READ})
    store = MemoryStore(tmp_path / "data")
    app = create_app(Settings(data_dir=tmp_path), store)
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.post("/graphql", json=NODE_QUERY, headers=headers)).status_code == 200
        assert TokenStore(tmp_path / "tokens.sqlite").revoke(token.id)  # another process (the CLI) revokes
        assert (await client.post("/graphql", json=NODE_QUERY, headers=headers)).status_code == 401
        # Revoking the last token does not open the service again.
        assert (await client.post("/graphql", json=NODE_QUERY)).status_code == 401
    tokens.close()
    await store.close()


def test_tokens_are_kept_only_as_hashes(tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    secret, token = tokens.create({Scope.INGEST}, ["s3://lake"], "airflow")
    tokens.close()
    raw = (tmp_path / "tokens.sqlite").read_bytes()
    assert secret.encode() not in raw and hash_token(secret).encode() in raw
    assert (tmp_path / "tokens.sqlite").stat().st_mode & 0o077 == 0  # readable by the owner only
    again = TokenStore(tmp_path / "tokens.sqlite")
    assert again.lookup(secret) == token
    assert again.lookup(secret + "x") is None


def test_the_cli_creates_lists_and_revokes_tokens(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(
        cli, ["token", "create", "--scope", "read", "--namespace", "s3://lake", "--name", "bi", "--data", str(tmp_path)]
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    token = TokenStore(tmp_path / "tokens.sqlite").lookup(secret)
    assert token is not None and token.scopes == {Scope.READ} and token.namespaces == ("s3://lake",)
    listed = runner.invoke(cli, ["token", "list", "--data", str(tmp_path)])
    assert token.id in listed.output and secret not in listed.output
    assert runner.invoke(cli, ["token", "revoke", token.id, "--data", str(tmp_path)]).exit_code == 0
    assert runner.invoke(cli, ["token", "revoke", token.id, "--data", str(tmp_path)]).exit_code == 1
    assert TokenStore(tmp_path / "tokens.sqlite").lookup(secret) is None
    bad = runner.invoke(cli, ["token", "create", "--scope", "root", "--data", str(tmp_path)])
    assert bad.exit_code != 0


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", "/v1/traces", Scope.INGEST),  # routers other branches add are covered by default
        ("GET", "/api/v1/lineage", Scope.READ),
        ("GET", "/api/v1/audit/anything", Scope.READ),
        ("POST", "/webhooks/mlflow", None),
        ("OPTIONS", "/graphql", None),
        ("GET", "/graphql", Scope.READ),
        ("DELETE", "/api/v1/anything", Scope.ADMIN),
        ("GET", "/", None),
        ("HEAD", "/index.html", None),
        ("GET", "/assets/index-abc123.js", None),
        ("POST", "/", Scope.INGEST),
        ("PUT", "/assets/index-abc123.js", Scope.INGEST),
        ("GET", "/assetsx", Scope.READ),
        ("GET", "/favicon.ico", Scope.READ),
        ("GET", "/docs", Scope.READ),
    ],
)
def test_routes_added_later_need_a_scope_by_default(method: str, path: str, scope: Scope | None) -> None:
    assert required_scope(method, path) == scope


async def test_the_explorer_page_and_its_assets_load_without_a_token_while_graphql_needs_one(
    secured: tuple[httpx.AsyncClient, dict[str, str | None]],
) -> None:
    client, secrets = secured
    built = {f"/assets/{p.name}" for p in (STATIC_DIR / "assets").glob("*")}
    assert (STATIC_DIR / "index.html").is_file() and built, "the explorer is not built: run `make setup`"
    page = await client.get("/")
    assert page.status_code == 200 and "<title>Lineage explorer</title>" in page.text
    referenced = set(re.findall(r'"(/assets/[^"]+)"', page.text))
    assert referenced and referenced <= built
    for path in ["/index.html", *referenced]:
        assert (await client.get(path)).status_code == 200, path
        assert (await client.head(path)).status_code == 200, path
    assert (await client.get("/assets/not-there.js")).status_code == 404  # open, but serves only the bundle
    assert (await client.post("/graphql", json=NODE_QUERY)).status_code == 401
    read = {"Authorization": f"Bearer {secrets['read']}"}
    assert (await client.post("/graphql", json=NODE_QUERY, headers=read)).status_code == 200
    # Only reading the page is open: writing there, or reading anything beside it, still needs a token.
    assert (await client.post("/", content=b"{}")).status_code == 401
    assert (await client.get("/docs")).status_code == 401


@pytest.fixture
def served_beyond_loopback(tmp_path: Path) -> Iterator[tuple[str, MemoryStore, str]]:
    """The app configured as if on 0.0.0.0 (so auth is on), served on a loopback port for the test."""
    secret, _ = TokenStore(tmp_path / "tokens.sqlite").create({Scope.INGEST}, name="airflow")
    store = MemoryStore(tmp_path / "data")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(Settings(host="0.0.0.0", data_dir=tmp_path), store)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store, secret
    server.should_exit = True
    thread.join(timeout=10)


def test_the_real_openlineage_client_with_an_api_key_gets_in_and_a_wrong_key_does_not(
    served_beyond_loopback: tuple[str, MemoryStore, str],
) -> None:
    url, store, secret = served_beyond_loopback
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=str(uuid.uuid4())),
        job=Job(namespace="airflow://etl", name="secured.load"),
        producer="https://github.com/lineage-graph/tests",
        inputs=[InputDataset(namespace="s3://lake", name="raw")],
        outputs=[OutputDataset(namespace="s3://lake", name="clean")],
    )
    good = HttpTransport(HttpConfig(url=url, auth=ApiKeyTokenProvider({"apiKey": secret})))
    assert good.emit(event).status_code == 200
    wrong = HttpTransport(HttpConfig(url=url, auth=ApiKeyTokenProvider({"apiKey": "lgt_not-a-token"})))
    with pytest.raises(requests.HTTPError) as caught:
        wrong.emit(event)
    assert caught.value.response.status_code == 401
    kept = asyncio.run(store.get([NodeKey(Kind.DATASET, "s3://lake", "clean").urn]))
    assert set(kept) == {NodeKey(Kind.DATASET, "s3://lake", "clean").urn}
    assert len(asyncio.run(store.journal())) == 1  # the refused copy was not journaled
