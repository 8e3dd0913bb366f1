"""Find the shared corpus beside the clone (or beside a worktree's parent), and its fixed-up inputs."""

from __future__ import annotations

import re
from pathlib import Path

import orjson


def corpus() -> Path:
    """Return the shared corpus folder: `<clone>/../shared/corpus`, looked for upwards."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "corpus"
        if candidate.is_dir():
            return candidate
    msg = f"no shared/corpus above {here}"
    raise FileNotFoundError(msg)


def food_delivery(start: str = "2026-11-20T10") -> list[str]:
    """Return Marquez's 26 seed events, their time templates filled in (minutes after ``start``:00)."""
    text = (corpus() / "marquez/docker/metadata.template.json").read_text()
    text = text.replace("{{RUN_START_TIME}}", f"{start}:00:00Z")
    text = re.sub(r"\{\{RUN_END_TIME_AFTER_(\d+)_MINUTES\}\}", lambda m: f"{start}:{int(m.group(1)):02d}:00Z", text)
    return [orjson.dumps(e).decode() for e in orjson.loads(text)]
