"""Reconcile the graph with an MLflow server: a full read of every model and prompt, journaling only changes.

Each registered model (and each prompt) becomes one snapshot record; an object MLflow still has
as it was reads back to the same text, so its record is a duplicate and nothing is journaled.
Aliases are compared with what the graph holds: moves no webhook reported are journaled as one
more record, seen at the reconcile's time (MLflow keeps no alias history to say when). Models
and versions the graph has but MLflow no longer lists (deleted, or renamed away) are closed at
that time. It is a full reconcile, not a cursor: MLflow's search
cannot list what changed since a time, and only a full listing shows what was deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from graph.keys import Kind, NodeKey
from graph.records import canonical
from graph.store import LineageStore
from ingest.intake import intake
from ingest.mlflow import SOURCE
from ingest.mlflow_rest import MlflowReader

SEARCH_PAGE = 1000
Progress = Callable[[int, int], None]  # (done, total)


@dataclass(slots=True)
class ReconcileReport:
    """What one reconcile read and wrote."""

    models: int = 0
    prompts: int = 0
    journaled: int = 0
    unchanged: int = 0
    gone: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


async def reconcile(
    store: LineageStore, reader: MlflowReader, progress: Progress | None = None, now: float | None = None
) -> ReconcileReport:
    """Read every model and prompt of the server into the graph; close what MLflow lost."""
    t = time.time() if now is None else now
    report = ReconcileReport()
    listed = [(n, False) for n in await reader.names(prompts=False)]
    listed += [(n, True) for n in await reader.names(prompts=True)]
    report.models = sum(1 for _, p in listed if not p)
    report.prompts = len(listed) - report.models
    raws: list[str] = []
    moves: list[dict[str, object]] = []
    present: set[NodeKey] = set()
    for done, (name, is_prompt) in enumerate(listed, 1):
        doc = await reader.model(name, is_prompt=is_prompt)
        if doc is not None:
            raws.append(canonical(reader.snapshot([doc])))
            entity = NodeKey(Kind.PROMPT if doc["is_prompt"] else Kind.MODEL, reader.namespace, doc["name"])
            version_kind = Kind.PROMPT_VERSION if doc["is_prompt"] else Kind.MODEL_VERSION
            versions = [str(v["version"]) for v in doc["versions"]]
            present.add(entity)
            present.update(NodeKey(version_kind, entity.namespace, entity.name, v) for v in versions)
            move = await _alias_move(store, entity, doc["aliases"], versions)
            if move is not None:
                moves.append(move)
        if progress is not None:
            progress(done, len(listed))
    if moves:
        raws.append(canonical(reader.snapshot([], alias_moves=moves, observed_at=int(t * 1000))))
    gone = await _gone(store, reader.namespace, present, t)
    if gone:
        report.gone = [k.urn for k in gone]
        entries = [
            {"kind": k.kind.value, "name": k.name, **({"version": k.version} if k.version else {})} for k in gone
        ]
        raws.append(canonical(reader.snapshot([], gone=entries, gone_at=int(t * 1000))))
    if raws:
        outcome = await intake(store, SOURCE, raws, received_at=t)
        report.journaled = outcome.count("accepted")
        report.unchanged = outcome.count("duplicate")
        report.rejected = [o.reason or "" for o in outcome.rejected]
    return report


async def _alias_move(
    store: LineageStore, entity: NodeKey, current: dict[str, str], versions: list[str]
) -> dict[str, object] | None:
    """Return the aliases of a model when they differ from what the graph holds (a missed webhook), else None."""
    known = (await store.get([entity.urn])).get(entity.urn)
    held = (known.properties.get("aliases") if known is not None else None) or {}
    if current == held:
        return None
    removed = sorted(set(held) - set(current))
    return {
        "kind": entity.kind.value,
        "name": entity.name,
        "aliases": current,
        "removed": removed,
        "versions": versions,
    }


async def _gone(store: LineageStore, namespace: str, present: set[NodeKey], t: float) -> list[NodeKey]:
    """Return the registry nodes of this server the graph holds open but MLflow no longer lists."""
    kinds = [Kind.MODEL, Kind.MODEL_VERSION, Kind.PROMPT, Kind.PROMPT_VERSION]
    gone: list[NodeKey] = []
    offset = 0
    while True:
        page = await store.search(namespace, kinds, limit=SEARCH_PAGE, offset=offset)
        for record in page.nodes:
            key = record.key
            if key.namespace == namespace and key not in present and record.valid_at(t):
                gone.append(key)
        offset += len(page.nodes)
        if not page.nodes or offset >= page.total:
            return sorted(gone)
