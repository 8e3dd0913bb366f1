"""Hypothesis inputs shared by the never-crash tests: arbitrary JSON, and every place in a document."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

#: The scalars a careful producer sends (what strict JSON can hold).
STRICT_SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=20)
)


def json_values(scalars: st.SearchStrategy[Any] = STRICT_SCALARS) -> st.SearchStrategy[Any]:
    """Return small JSON documents built from these scalars."""
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
        max_leaves=20,
    )


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the path of every value inside a document (keys and indexes), the document's own first."""
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += paths(v, (*prefix, i))
    return found
