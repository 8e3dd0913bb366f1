"""Fuzzing the HTTP layer: schemathesis over the OpenAPI and the GraphQL schema, hypothesis bodies on ingest.

Whatever arrives, the answer is a 2xx or a 4xx, never a 500. Examples are bounded so this runs
in well under a minute.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.settings import Settings
from graph.memory import MemoryStore
from tests.corpus import corpus

EVENT = orjson.loads((corpus() / "openlineage/spec/tests/example_full_event.json").read_bytes())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
_DATA = Path(tempfile.mkdtemp(prefix="lineage-fuzz-"))
APP = create_app(
    Settings(data_dir=_DATA, rate_limit_per_second=0, max_body_bytes=256 * 1024), MemoryStore(_DATA / "data")
)
openapi = schemathesis.openapi.from_asgi("/openapi.json", APP)
graphql = schemathesis.graphql.from_asgi("/graphql", APP)


@openapi.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_of_the_openapi_answers_500(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:500])


@graphql.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_graphql_query_answers_500_or_an_unexpected_error(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, response.text[:500]
    errors = (response.json() or {}).get("errors") or []
    # Validation and limit errors are expected; an unexpected exception in a resolver is not.
    assert not [e for e in errors if "internal" in e.get("message", "").lower()], errors


ENDPOINTS = ["/api/v1/lineage", "/api/v1/lineage/batch", "/api/v1/graph", "/graphql"]


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # big integers and NaN too, as a careless producer sends them


raw_bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(_dumps),
    st.lists(json_values, max_size=4).map(_dumps),
    st.builds(lambda v: _dumps({**EVENT, "run": v}), json_values),
    st.builds(lambda v: _dumps([{**EVENT, "inputs": v}]), json_values),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(ENDPOINTS), body=raw_bodies, zipped=st.booleans(), mislabel=st.booleans())
async def test_any_body_on_any_ingest_endpoint_is_a_2xx_or_a_4xx(
    path: str, body: bytes, zipped: bool, mislabel: bool
) -> None:
    headers = {"content-type": "application/json"}
    if zipped or mislabel:  # a mislabelled body claims gzip and is not
        headers["content-encoding"] = "gzip"
    content = gzip.compress(body) if zipped else body
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://test") as client:
        answer = await client.post(path, content=content, headers=headers)
    assert 200 <= answer.status_code < 500, (path, body[:200], answer.text[:300])


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_a_gzip_bomb_is_refused_once_decompressed(path: str) -> None:
    bomb = gzip.compress(b"[" + b" " * (10 * 1024 * 1024) + b"]")  # 10 MiB of spaces in ~10 KiB
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://test") as client:
        answer = await client.post(
            path, content=bomb, headers={"content-encoding": "gzip", "content-type": "application/json"}
        )
    assert answer.status_code in {400, 413}, answer.text[:200]


@pytest.mark.parametrize("body", [b"null", b"1", b'"query"', b"true"])
async def test_a_graphql_body_that_is_not_an_object_is_a_400(body: bytes) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://test") as client:
        answer = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400
