"""Lineage in Marquez's shape, so tools written for Marquez's `GET /api/v1/lineage` can read this service.

Marquez's walk (LineageDao.getLineage): start from the jobs that read or write the node, then,
``depth`` times, add every job that shares an input or output dataset with a job already taken
(either way round: a sibling reading the same table counts); answer those jobs and all their
datasets, each with its in- and out-edges. Only entity-level datasets and jobs take part, as in
Marquez. One difference: from a dataset Marquez starts at the one job that last wrote (or read) it;
here every job touching it is a start, so the graph is never smaller than Marquez's.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from graph.edges import EdgeType
from graph.errors import InvalidInput, NodeNotFound
from graph.keys import Kind, NodeKey, parse_key
from graph.records import EdgeRecord, NodeRecord
from graph.store import LineageStore
from graph.timestamps import iso

Json = dict[str, Any]
_IO = (EdgeType.INPUT_OF, EdgeType.PRODUCED)


def marquez_id(key: NodeKey) -> str:
    """Return Marquez's node id of a dataset or a job."""
    return f"{'dataset' if key.kind is Kind.DATASET else 'job'}:{key.namespace}:{key.name}"


async def lineage(store: LineageStore, key: NodeKey, depth: int) -> Json:
    """Return ``{"graph": [...]}`` for a dataset or a job, ``depth`` job-to-job steps around it."""
    if key.kind not in (Kind.DATASET, Kind.JOB):
        msg = f"nodeId: a {key.kind.value} has no Marquez lineage; give a dataset: or job: id"
        raise InvalidInput(msg, field="nodeId")
    found = await store.get([key.urn])
    if key.urn not in found:
        raise NodeNotFound(key.urn)
    jobs: set[str] = {key.urn} if key.kind is Kind.JOB else set(await _jobs_of(store, [key.urn]))
    io = await _io_of(store, jobs)
    frontier = set(jobs)
    for _ in range(depth):
        datasets = {e.src if e.type is EdgeType.INPUT_OF else e.dst for j in frontier for e in io[j]}
        frontier = set(await _jobs_of(store, datasets)) - jobs
        if not frontier:
            break
        jobs |= frontier
        io.update(await _io_of(store, frontier))
    edges = [e for j in jobs for e in io[j]]
    urns = jobs | {e.src for e in edges} | {e.dst for e in edges}
    if key.kind is Kind.DATASET:
        urns.add(key.urn)
    records = await store.get(urns)
    return {"graph": [_node(records[u], edges) for u in sorted(urns) if u in records]}


async def _jobs_of(store: LineageStore, datasets: Collection[str]) -> list[str]:
    """Return the jobs that read or wrote these datasets."""
    if not datasets:
        return []
    read = await store.edges_of(datasets, [EdgeType.INPUT_OF], incoming=False)
    wrote = await store.edges_of(datasets, [EdgeType.PRODUCED], incoming=True)
    return sorted({e.dst for e in read if _is(e.dst, Kind.JOB)} | {e.src for e in wrote if _is(e.src, Kind.JOB)})


async def _io_of(store: LineageStore, jobs: Collection[str]) -> dict[str, list[EdgeRecord]]:
    """Return each job's input and output edges with entity-level datasets."""
    io: dict[str, list[EdgeRecord]] = {j: [] for j in jobs}
    if not jobs:
        return io
    for e in await store.edges_of(jobs, [EdgeType.INPUT_OF], incoming=True):
        if _is(e.src, Kind.DATASET):
            io[e.dst].append(e)
    for e in await store.edges_of(jobs, [EdgeType.PRODUCED], incoming=False):
        if _is(e.dst, Kind.DATASET):
            io[e.src].append(e)
    return io


def _is(urn: str, kind: Kind) -> bool:
    return urn.startswith(f"urn:lineage:{kind.slug}:")


def _node(record: NodeRecord, edges: list[EdgeRecord]) -> Json:
    key = record.key
    node_id = marquez_id(key)
    ins = sorted({marquez_id(parse_key(e.src)) for e in edges if e.dst == record.urn})
    outs = sorted({marquez_id(parse_key(e.dst)) for e in edges if e.src == record.urn})
    is_dataset = key.kind is Kind.DATASET
    return {
        "id": node_id,
        "type": "DATASET" if is_dataset else "JOB",
        "data": _dataset(record) if is_dataset else _job(record, ins, outs),
        "inEdges": [{"origin": o, "destination": node_id} for o in ins],
        "outEdges": [{"origin": node_id, "destination": d} for d in outs],
    }


def _facet(record: NodeRecord, name: str) -> Json:
    value = record.properties.get(f"facets.{name}")
    return value if isinstance(value, dict) else {}


def _dataset(record: NodeRecord) -> Json:
    key = record.key
    fields = _facet(record, "schema").get("fields")
    lifecycle = _facet(record, "lifecycleStateChange").get("lifecycleStateChange")
    return {
        "id": {"namespace": key.namespace, "name": key.name},
        "type": "DB_TABLE",
        "name": key.name,
        "physicalName": key.name,
        "createdAt": iso(record.first_seen),
        "updatedAt": iso(record.last_seen),
        "namespace": key.namespace,
        "sourceName": _facet(record, "dataSource").get("name") or key.namespace,
        "fields": [
            {"name": f.get("name"), "type": f.get("type"), "tags": [], "description": f.get("description")}
            for f in (fields if isinstance(fields, list) else [])
            if isinstance(f, dict)
        ],
        "tags": [],
        "lastModifiedAt": iso(record.last_seen),
        "description": _facet(record, "documentation").get("description"),
        "lastLifecycleState": lifecycle,
    }


def _job(record: NodeRecord, ins: list[str], outs: list[str]) -> Json:
    key = record.key
    job_type = _facet(record, "jobType").get("processingType") or "BATCH"
    return {
        "id": {"namespace": key.namespace, "name": key.name},
        "type": job_type,
        "name": key.name,
        "simpleName": key.name.rsplit(".", 1)[-1],
        "parentJobName": None,
        "createdAt": iso(record.first_seen),
        "updatedAt": iso(record.last_seen),
        "namespace": key.namespace,
        "inputs": [_dataset_id(i) for i in ins],
        "outputs": [_dataset_id(o) for o in outs],
        "location": _facet(record, "sourceCodeLocation").get("url"),
        "description": _facet(record, "documentation").get("description"),
        "latestRun": None,
    }


def _dataset_id(node_id: str) -> Json:
    key = parse_key(node_id)
    return {"namespace": key.namespace, "name": key.name}
