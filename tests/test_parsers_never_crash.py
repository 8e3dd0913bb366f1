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
from tests.corpus import corpus

EVENT = orjson.loads((corpus() / "openlineage/spec/tests/example_full_event.json").read_bytes())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


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


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _paths(v, (*prefix, i))
    return found


PATHS = _paths(EVENT)[1:]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(PATHS), value=json_values)
def test_a_real_event_with_any_part_replaced_is_a_delta_or_a_pointed_refusal(path: tuple[Any, ...], value: Any) -> None:
    event = orjson.loads(orjson.dumps(EVENT))
    target = event
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    _parse(openlineage.to_delta, event)
