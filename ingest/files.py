"""Read inputs for a backfill from files, folders or standard input: JSON, JSON arrays, JSONL."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = {".json", ".jsonl", ".ndjson"}


@dataclass(frozen=True, slots=True)
class RawInput:
    """One input document as text, and where it came from (for error messages)."""

    origin: str
    text: str


def expand_paths(paths: list[str]) -> list[str]:
    """Return the files to read: folders become their JSON files, sorted; ``-`` stays."""
    found: list[str] = []
    for p in paths:
        path = Path(p)
        if p != "-" and path.is_dir():
            found.extend(str(f) for f in sorted(path.rglob("*")) if f.suffix in SUFFIXES and f.is_file())
        else:
            found.append(p)
    return found


def read_inputs(path: str) -> Iterator[RawInput]:
    """Yield the documents of one file: a JSON object, a JSON array of them, or JSON lines."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    stripped = text.lstrip()
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
        if not stripped.startswith("{"):
            # Not JSON and not JSON lines: pass it on whole so the intake rejects it with a reason.
            yield RawInput(path, text)
            return
    if isinstance(whole, list):
        for i, item in enumerate(whole):
            yield RawInput(f"{path}[{i}]", json.dumps(item))
        return
    if whole is not None:
        yield RawInput(path, text)
        return
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield RawInput(f"{path}:{n}", line)
