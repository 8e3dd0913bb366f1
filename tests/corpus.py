"""Where the shared corpus is: ``shared/corpus`` beside the clone (CI), or beside a folder above it (worktrees)."""

from __future__ import annotations

from pathlib import Path


def corpus_dir() -> Path:
    """Return the corpus folder, the nearest ``<ancestor>/shared/corpus`` of this checkout."""
    for folder in Path(__file__).resolve().parents[1:]:
        candidate = folder / "shared" / "corpus"
        if candidate.is_dir():
            return candidate
    msg = "shared/corpus not found beside this checkout or any folder above it"
    raise FileNotFoundError(msg)


CORPUS = corpus_dir()
