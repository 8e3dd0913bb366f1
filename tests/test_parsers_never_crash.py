"""Any input to a parser ends as graph changes or as an InvalidInput naming the problem: never a crash."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.errors import InvalidInput
from ingest import native, openlineage
from ingest.intake import canonical_json
from tests import json_fuzz
from tests.corpus import CORPUS

EVENT = orjson.loads((CORPUS / "openlineage/spec/tests/example_full_event.json").read_bytes())
json_values = json_fuzz.json_values()


def _parse(transform: Any, value: Any) -> None:
    try:
        transform(canonical_json(json.dumps(value)))
    except InvalidInput as e:
        assert str(e).startswith("/"), e  # every refusal names a JSON pointer


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_any_json_is_a_delta_or_a_pointed_refusal(value: Any) -> None:
    _parse(openlineage.to_delta, value)
    _parse(native.to_delta, value)


PATHS = json_fuzz.paths(EVENT)[1:]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(PATHS), value=json_values)
def test_a_real_event_with_any_part_replaced_is_a_delta_or_a_pointed_refusal(path: tuple[Any, ...], value: Any) -> None:
    event = orjson.loads(orjson.dumps(EVENT))
    target = event
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    _parse(openlineage.to_delta, event)
