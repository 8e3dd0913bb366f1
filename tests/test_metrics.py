"""Observability: /metrics counts what happened, every answer has a request id, logs are JSON and hold no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import AsyncGraphDatabase
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.logs import JsonFormatter, TextFormatter, configure_logging, redact
from api.settings import Settings
from api.tokens import Scope, TokenStore
from graph.memory import MemoryStore
from graph.neo4j import Neo4jStore
from tests.graphs import OPENLINEAGE_EVENT, ds, job_doc

EVENT = OPENLINEAGE_EVENT
QUERY = {"query": "query ($id: ID!) { node(id: $id) { __typename } }", "variables": {"id": ds("x")}}


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Return every sample of a Prometheus text page by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    store = MemoryStore(tmp_path / "data")
    app = create_app(Settings(data_dir=tmp_path, rate_limit_per_second=0), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c
    await store.close()


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Everything logged during the test, as the service writes it (JSON lines)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


async def test_ingest_outcomes_are_counted_by_source(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/lineage", json=EVENT)).status_code == 200
    assert (await client.post("/api/v1/lineage", json=EVENT)).status_code == 200  # a duplicate
    assert (await client.post("/api/v1/lineage", json={"eventType": "START"})).status_code == 400
    assert (await client.post("/api/v1/graph", content=job_doc("load", ["a"], ["b"]))).status_code == 200
    assert (await client.post("/api/v1/graph", content=b"{nope")).status_code == 400
    got = samples((await client.get("/metrics")).text)
    counted = {
        (dict(labels)["source"], dict(labels)["outcome"]): value
        for (name, labels), value in got.items()
        if name == "lineage_ingest_inputs_total"
    }
    assert counted == {
        ("openlineage", "accepted"): 1,
        ("openlineage", "duplicate"): 1,
        ("openlineage", "rejected"): 1,
        ("native", "accepted"): 1,
        ("native", "rejected"): 1,
    }


async def test_latency_is_a_histogram_by_route_template(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await client.post("/graphql", json=QUERY)
    await client.get("/no/such/path/with/a/name/in/it")
    got = samples((await client.get("/metrics")).text)
    count = {
        (dict(labels)["method"], dict(labels)["route"], dict(labels)["status"]): value
        for (name, labels), value in got.items()
        if name == "lineage_http_request_duration_seconds_count"
    }
    assert count[("POST", "/graphql", "200")] == 3
    assert count[("GET", "<unmatched>", "404")] == 1  # a path never becomes a label
    buckets = [labels for (name, labels) in got if name == "lineage_http_request_duration_seconds_bucket"]
    assert {dict(labels)["le"] for labels in buckets} >= {"0.005", "0.1", "1.0", "+Inf"}


async def test_an_unreachable_store_is_a_503_and_is_counted(tmp_path: Path) -> None:
    # A real driver pointed at a port where nothing listens: the store fails as it would in production.
    driver = AsyncGraphDatabase.driver("bolt://127.0.0.1:9", connection_timeout=1.0, max_transaction_retry_time=1.0)
    store = Neo4jStore(driver, "neo4j", read_timeout=2.0)
    app = create_app(Settings(data_dir=tmp_path, rate_limit_per_second=0), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        answer = await client.post("/api/v1/graph", content=job_doc("load", ["a"], ["b"]))
        assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
        got = samples((await client.get("/metrics")).text)
    await driver.close()
    assert got[("lineage_store_unavailable_responses_total", frozenset({("route", "/api/v1/graph")}))] == 1
    assert got[("lineage_ingest_inputs_total", frozenset({("source", "native"), ("outcome", "unavailable")}))] == 1
    assert got[("lineage_store_errors_total", frozenset({("operation", "apply"), ("error", "StoreUnavailable")}))] == 1


async def test_every_answer_carries_a_request_id(tmp_path: Path) -> None:
    TokenStore(tmp_path / "tokens.sqlite").create({Scope.INGEST})
    store = MemoryStore(tmp_path / "data")
    settings = Settings(data_dir=tmp_path, max_body_bytes=100, rate_limit_per_second=0.001, rate_limit_burst=1)
    app = create_app(settings, store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        answers = [
            await client.get("/healthz"),  # 200
            await client.post("/graphql", json=QUERY),  # 401
            await client.get("/healthz", headers={"X-Request-Id": "caller-chose-this"}),
            await client.get("/healthz", headers={"X-Request-Id": "not ok\nnewline" * 20}),
        ]
    await store.close()
    ids = [a.headers["X-Request-Id"] for a in answers]
    assert [a.status_code for a in answers] == [200, 401, 200, 200]
    assert ids[2] == "caller-chose-this"
    assert len(set(ids)) == 4 and all(len(i) == 32 for i in (ids[0], ids[1], ids[3]))  # generated otherwise


async def test_logs_are_json_with_request_ids_and_never_hold_secrets(tmp_path: Path, json_logs: io.StringIO) -> None:
    secret, _ = TokenStore(tmp_path / "tokens.sqlite").create({Scope.INGEST, Scope.READ})
    store = MemoryStore(tmp_path / "data")
    app = create_app(Settings(data_dir=tmp_path, rate_limit_per_second=0), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        good = {"Authorization": f"Bearer {secret}", "X-Request-Id": "req-1"}
        await client.post("/api/v1/lineage", json=EVENT, headers=good)
        await client.post("/graphql", json=QUERY, headers={"Authorization": f"Bearer {secret}x"})  # 401
        await client.post(f"/api/v1/lineage?token={secret}", json=EVENT, headers=good)
        # Code that quotes a secret by mistake is scrubbed too.
        logging.getLogger("lineage.test").warning("retrying with Authorization: Bearer %s", secret)
        logging.getLogger("lineage.test").warning("connecting to bolt://neo4j:hunter2-pw@db:7687 password=hunter2-pw")
    await store.close()
    text = json_logs.getvalue()
    assert secret not in text and secret[4:] not in text and "hunter2-pw" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    access = [entry for entry in lines if entry["logger"] == "lineage.access"]
    assert {(e["method"], e["route"], e["status"]) for e in access} == {
        ("POST", "/api/v1/lineage", 200),
        ("POST", "<unmatched>", 401),  # refused before routing: no route was chosen
    }
    assert all(e["request_id"] for e in access)
    assert {e["request_id"] for e in access if e["status"] == 200} == {"req-1"}
    assert {e["caller"] for e in access if e["status"] == 200} == {
        f"token-id:{TokenStore(tmp_path / 'tokens.sqlite').lookup(secret).id}"
    }  # type: ignore[union-attr]
    assert all("?token" not in e["message"] for e in access)  # paths are logged without the query


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("token=lgt_AbC123_xyz", "lgt_AbC123_xyz"),
        ("uri bolt://user:pa55word@host:7687", "pa55word"),
        ('{"password": "p@ss"}', "p@ss"),
        ("api_key=k-123", "k-123"),
    ],
)
def test_redaction_scrubs_what_looks_like_a_secret(text: str, leaked: str) -> None:
    assert leaked not in redact(text)


def test_a_log_line_holds_the_message_once_without_terminal_colours(json_logs: io.StringIO) -> None:
    # uvicorn logs its start with a color_message extra: the message again, with ANSI escape codes.
    colored = {"color_message": "Started server process [\x1b[36m%d\x1b[0m]"}
    logging.getLogger("lineage.test").info("Started server process [%d]", 7, extra=colored)
    [entry] = [e for e in map(json.loads, json_logs.getvalue().splitlines()) if e["logger"] == "lineage.test"]
    assert entry["message"] == "Started server process [7]"
    assert "color_message" not in entry and "\x1b" not in json_logs.getvalue()


def test_text_logs_for_a_person_are_one_line_each_and_scrubbed_too() -> None:
    record = logging.LogRecord("lineage.access", logging.INFO, __file__, 1, "GET %s %d", ("/healthz", 200), None)
    record.route, record.status = "/healthz", 200  # said in the message already: not repeated
    record.duration_ms, record.note = 3.5, "retried with Authorization: Bearer lgt_abc123"
    line = TextFormatter().format(record)
    assert "INFO" in line and "GET /healthz 200" in line and "duration_ms=3.5" in line
    assert "route=" not in line and "status=" not in line
    assert "lgt_abc123" not in line and "\n" not in line


@pytest.mark.parametrize(
    ("style", "formatter"), [("json", JsonFormatter), ("text", TextFormatter), ("auto", JsonFormatter)]
)
def test_log_style_is_chosen_by_setting_and_auto_is_json_off_a_terminal(style: str, formatter: type) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO", style)  # pytest's stderr is not a terminal
        assert [type(h.formatter) for h in root.handlers] == [formatter]
    finally:
        root.handlers[:], root.level = handlers, level


def test_an_unknown_log_format_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="json"):
        Settings(log_format="xml")  # type: ignore[arg-type]
