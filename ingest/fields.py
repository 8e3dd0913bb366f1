"""Read fields of a parsed JSON input, refusing what is missing or mistyped with the field's pointer."""

from __future__ import annotations

from typing import Any

import orjson

from graph.errors import InvalidInput

Json = dict[str, Any]


def json_object(raw: str, what: str = "an input") -> Json:
    """Parse one input that must be a JSON object."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        msg = f"/: not JSON: {e}"
        raise InvalidInput(msg, field="/") from e
    if not isinstance(doc, dict):
        msg = f"/: {what} is a JSON object"
        raise InvalidInput(msg, field="/")
    return doc


def required_object(doc: Any, key: str, at: str) -> Json:
    """Return ``doc[key]``, which must be an object."""
    value = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(value, dict):
        msg = f"{at}: required, an object"
        raise InvalidInput(msg, field=at)
    return value


def array(doc: Any, key: str, at: str) -> list[Any]:
    """Return ``doc[key]``, an array when present, and empty when absent."""
    value = doc.get(key) if isinstance(doc, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        msg = f"{at}: must be an array"
        raise InvalidInput(msg, field=at)
    return value


def required_text(doc: Any, key: str, at: str) -> str:
    """Return ``doc[key]``, which must be a non-empty string."""
    value = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(value, str) or not value:
        msg = f"{at}: required, a non-empty string"
        raise InvalidInput(msg, field=at)
    return value
