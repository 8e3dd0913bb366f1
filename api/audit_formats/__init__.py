"""Audit report formats by name: each renders an AuditTrail as text, with its media type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from api.audit_formats import html, json_report, markdown, prov_json
from graph.audit import AuditTrail
from graph.errors import InvalidQuery


@dataclass(frozen=True, slots=True)
class Format:
    """A way to write a report."""

    render: Callable[[AuditTrail], str]
    media_type: str
    suffix: str


FORMATS: dict[str, Format] = {
    "json": Format(json_report.render, "application/json", ".json"),
    "prov": Format(prov_json.render, "application/json", ".prov.json"),
    "md": Format(markdown.render, "text/markdown; charset=utf-8", ".md"),
    "html": Format(html.render, "text/html; charset=utf-8", ".html"),
}


def get_format(name: str) -> Format:
    """Return a format by name, or refuse with the names there are."""
    found = FORMATS.get(name.lower())
    if found is None:
        msg = f"format: unknown format {name!r}; expected one of {', '.join(FORMATS)}"
        raise InvalidQuery(msg, field="format")
    return found
