"""Audit trails: exactly what produced an answer, a prediction batch, a model or a dataset version.

Pure over the store port. The chain is the run/version-level upstream traversal (one semantics,
graph/traversal.py) with no page limit, at the audit hop budget; every hop and node cites the
journal records that asserted it, with their place in the hash chain, and the report says
whether that chain is intact up to the last record it cites. A saved report can be re-checked
later against the journal (``recheck``): the records still there, unchanged, the chain intact.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from graph.edges import EdgeType
from graph.errors import InvalidQuery
from graph.journal import JournalRecord, content_id
from graph.keys import RUN_LEVEL, Kind, NodeKey
from graph.query import MAX_HOPS, MAX_LIMIT, Direction, LineageQuery, TimeWindow
from graph.records import EdgeRecord, Evidence
from graph.results import LineageEdge, Resolution
from graph.store import LineageStore
from graph.timestamps import iso

JSON = Any
FORMAT_VERSION = 1
#: Version kinds whose entities carry aliases (``production``, ``champion``).
_ALIASED = frozenset({Kind.PROMPT_VERSION, Kind.MODEL_VERSION, Kind.DATASET_VERSION})


@dataclass(frozen=True, slots=True)
class Citation:
    """A journal record cited as evidence, with its place in the hash chain."""

    id: str  # the content hash of the raw input
    seq: int
    source: str
    received_at: float
    record_hash: str
    prev_hash: str
    producer: str | None  # what the input says produced it (OpenLineage producer, a trace's service/SDK)
    content_ok: bool  # the raw text still hashes to the id


@dataclass(frozen=True, slots=True)
class AliasAt:
    """An alias that pointed at a version at a moment, with the interval it held."""

    entity: str
    name: str
    valid_from: float | None
    valid_to: float | None


@dataclass(slots=True)
class AuditNode:
    """A node of the chain."""

    key: NodeKey
    distance: int
    first_seen: float
    last_seen: float
    properties: dict[str, JSON]
    evidence: list[str]
    resolution: str | None = None
    entity: str | None = None  # the entity a version belongs to
    used_at: float | None = None  # when the chain used it (the earliest hop out of it)
    aliases: list[AliasAt] = field(default_factory=list)

    @property
    def urn(self) -> str:
        """Return the node's id."""
        return self.key.urn

    @property
    def kind(self) -> Kind:
        """Return the node's kind."""
        return self.key.kind


@dataclass(frozen=True, slots=True)
class AuditHop:
    """An edge of the chain, data flowing from ``src`` to ``dst``."""

    src: str
    type: EdgeType
    dst: str
    qualifier: str
    properties: dict[str, JSON]
    first_seen: float
    last_seen: float
    evidence_count: int
    evidence: list[str]
    resolution: str | None = None


@dataclass(frozen=True, slots=True)
class Verification:
    """Whether the journal's hash chain holds up to the last cited record."""

    intact: bool
    checked: int
    upto_seq: int
    upto_hash: str | None
    broken_seq: int | None = None
    broken_record: str | None = None
    problem: str | None = None

    @property
    def statement(self) -> str:
        """Return the sentence the report states."""
        if self.upto_seq == 0:
            return "This report cites no journal records; there is nothing to verify."
        if self.intact:
            return (
                f"The journal's hash chain is intact from record 1 to record {self.upto_seq} "
                f"(hash {self.upto_hash}), which covers every record this report cites."
            )
        return f"The journal's hash chain is BROKEN at record {self.broken_seq} ({self.broken_record}): {self.problem}"


@dataclass(slots=True)
class AuditTrail:
    """The audit report, before it is rendered in a format."""

    subject: NodeKey
    as_of: float | None
    generated_at: float
    existed: bool  # False: the subject did not exist at as_of, the chain is empty
    complete: bool  # False: the hop budget cut the chain
    max_hops: int
    event_time: float | None
    nodes: list[AuditNode]
    hops: list[AuditHop]
    citations: dict[str, Citation]
    summary: dict[str, list[dict[str, JSON]]]
    notes: list[str]
    verification: Verification
    journal_head: tuple[int, str]

    def node(self, urn: str) -> AuditNode | None:
        """Return a node of the chain by id."""
        return next((n for n in self.nodes if n.urn == urn), None)


async def audit_trail(
    store: LineageStore,
    key: NodeKey,
    *,
    as_of: float | None = None,
    max_hops: int = MAX_HOPS,
    deadline: float | None = None,
    now: float | None = None,
) -> AuditTrail:
    """Build the audit trail of a run/version-level node (NodeNotFound when it is not in the graph)."""
    if key.kind not in RUN_LEVEL:
        kinds = ", ".join(sorted(k.value for k in RUN_LEVEL))
        msg = f"id: an audit starts at a run or version ({kinds}), not at a {key.kind.value}; pick one of its versions"
        raise InvalidQuery(msg, field="id")
    generated_at = time.time() if now is None else now
    query = LineageQuery(
        key, Direction.UPSTREAM, max_hops=max_hops, window=TimeWindow(as_of=as_of), limit=MAX_LIMIT, deadline=deadline
    )
    result = await store.lineage(query)
    start = next(n for n in result.nodes if n.record.urn == result.start)
    existed = as_of is None or start.record.valid_at(as_of)
    head = await store.head()
    if not existed:
        return AuditTrail(
            key, as_of, generated_at, False, True, max_hops, None, [], [], {}, {}, [], _nothing_cited(), head
        )
    hops = _hops(result.edges, as_of)
    nodes = [
        AuditNode(
            n.record.key,
            n.distance,
            n.record.first_seen,
            n.record.last_seen,
            dict(n.record.properties),
            _evidence_ids(n.record.evidence, as_of),
            _node_note(n.resolution, n.record.urn) if n.resolution else None,
            n.resolution.entity if n.resolution and n.resolution.found else None,
        )
        for n in sorted(result.nodes, key=lambda n: (n.distance, n.record.urn))
    ]
    await _structure(store, nodes, hops, as_of if as_of is not None else generated_at)
    citations, missing = await _citations(store, nodes, hops)
    verification = await _verify(store, citations, missing)
    trail = AuditTrail(
        key,
        as_of,
        generated_at,
        True,
        not result.is_partial,
        max_hops,
        start.record.first_seen,
        nodes,
        hops,
        citations,
        {},
        [h.resolution for h in hops if h.resolution] + [f"record {m} is cited but missing" for m in missing],
        verification,
        head,
    )
    trail.summary = summarize(trail)
    if not trail.complete:
        trail.notes.insert(0, f"the chain is longer than {max_hops} hops; this report stops there")
    return trail


def _nothing_cited() -> Verification:
    return Verification(True, 0, 0, None)


def _evidence_ids(evidence: Evidence | None, as_of: float | None) -> list[str]:
    """Return the cited records of a node or edge: its first and last, as far as as_of saw them."""
    if evidence is None:
        return []
    ids = []
    for rid, t in ((evidence.first_id, evidence.first_time), (evidence.last_id, evidence.last_time)):
        if (as_of is None or t <= as_of) and rid not in ids:
            ids.append(rid)
    return ids


def _hops(edges: list[LineageEdge], as_of: float | None) -> list[AuditHop]:
    """Return the flow hops of the chain; where a resolved entity edge repeats a run-level one, keep the latter."""
    chosen: dict[tuple[str, str, str], LineageEdge] = {}
    for edge in edges:
        if not edge.record.type.is_flow:
            continue
        ident = (edge.src, edge.record.type.value, edge.dst)
        known = chosen.get(ident)
        if known is None or (known.via is not None and edge.via is None):
            chosen[ident] = edge
    hops = []
    for (src, _, dst), edge in sorted(chosen.items()):
        record = edge.record
        hops.append(
            AuditHop(
                src,
                record.type,
                dst,
                record.qualifier,
                dict(record.properties),
                record.first_seen,
                record.last_seen,
                record.evidence.count,
                _evidence_ids(record.evidence, as_of),
                _resolution_note(edge.via, src, dst) if edge.via else None,
            )
        )
    return hops


def _node_note(via: Resolution, urn: str) -> str:
    if not via.found:
        return via.note
    return f"{via.entity} resolved as {urn}, the version live at {iso(via.at)}"


def _resolution_note(via: Resolution, version: str, consumer: str) -> str:
    return f"{via.entity} (named by {consumer}) resolved as {version}, the version live at {iso(via.at)}"


async def _structure(store: LineageStore, nodes: list[AuditNode], hops: list[AuditHop], subject_time: float) -> None:
    """Fill in when each node was used, the entity of each version and the aliases on it then."""
    used: dict[str, float] = {}
    for hop in hops:
        used[hop.src] = min(used.get(hop.src, hop.first_seen), hop.first_seen)
    for node in nodes:
        node.used_at = used.get(node.urn, subject_time if node.distance == 0 else None)
    versions = {n.urn: n for n in nodes if n.kind in _ALIASED}
    if not versions:
        return
    edges = await store.edges_of(versions, {EdgeType.VERSION_OF}, incoming=False)
    edges += await store.edges_of(versions, {EdgeType.ALIAS}, incoming=True)
    for edge in edges:
        if edge.type is EdgeType.VERSION_OF and edge.src in versions:
            versions[edge.src].entity = versions[edge.src].entity or edge.dst
        elif edge.type is EdgeType.ALIAS and edge.dst in versions:
            node = versions[edge.dst]
            if node.used_at is not None and edge.valid_at(node.used_at):
                start, end = _interval(edge, node.used_at)
                node.aliases.append(AliasAt(edge.src, edge.qualifier, start, end))
    for node in versions.values():
        node.aliases.sort(key=lambda a: (a.name, a.entity))


def _interval(edge: EdgeRecord, t: float) -> tuple[float | None, float | None]:
    """Return the validity interval of an edge that holds at ``t``: the last open before, the next close after."""
    # As in graph/records.py: sightings at first and last seen count as opens.
    opens = [edge.first_seen, *([edge.last_seen] if edge.last_seen <= t else [])]
    opens += [m for m, c in edge.markers if c == 0 and m <= t]
    closes = [m for m, c in edge.markers if c == 1 and m > t]
    return max(o for o in opens if o <= t), min(closes) if closes else None


async def _citations(
    store: LineageStore, nodes: list[AuditNode], hops: list[AuditHop]
) -> tuple[dict[str, Citation], list[str]]:
    """Fetch every cited record; return them by id, and the ids the journal does not have."""
    ids = sorted({rid for n in nodes for rid in n.evidence} | {rid for h in hops for rid in h.evidence})
    found = await store.events(ids)
    citations = {rid: cite(found[rid]) for rid in sorted(found, key=lambda r: found[r].seq)}
    return citations, [rid for rid in ids if rid not in found]


def cite(record: JournalRecord) -> Citation:
    """Return the citation of a journal record."""
    return Citation(
        record.id,
        record.seq,
        record.source,
        record.received_at,
        record.record_hash,
        record.prev_hash,
        producer_of(record.raw),
        content_id(record.source, record.raw) == record.id,
    )


def producer_of(raw: str) -> str | None:
    """Return what an input says produced it: OpenLineage's ``producer``, an OTLP resource's service and SDK."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    producer = doc.get("producer")
    if isinstance(producer, str):
        return producer
    # https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding: resource attributes per batch.
    found = []
    for batch in doc.get("resourceSpans") or []:
        attributes = (batch.get("resource") or {}).get("attributes") or [] if isinstance(batch, dict) else []
        values = {
            a.get("key"): next(iter((a.get("value") or {}).values()), None) for a in attributes if isinstance(a, dict)
        }
        sdk = " ".join(str(values[k]) for k in ("telemetry.sdk.name", "telemetry.sdk.version") if values.get(k))
        service = values.get("service.name")
        text = ", ".join(p for p in (f"service {service}" if service else "", f"SDK {sdk}" if sdk else "") if p)
        if text and text not in found:
            found.append(text)
    return "; ".join(found) or None


async def _verify(store: LineageStore, citations: Mapping[str, Citation], missing: list[str]) -> Verification:
    """Check the hash chain up to the last cited record, and name the record where it breaks."""
    if not citations:
        if missing:
            return Verification(False, 0, 0, None, None, missing[0], f"record {missing[0]} is missing from the journal")
        return _nothing_cited()
    upto = max(c.seq for c in citations.values())
    chain = await store.verify(upto=upto)
    if chain.intact and chain.head_seq < upto:
        chain_problem = f"the journal ends at record {chain.head_seq}, before record {upto}"
        return Verification(False, chain.checked, upto, None, chain.head_seq + 1, None, chain_problem)
    if not chain.intact:
        seq = chain.broken_seq or 0
        return Verification(False, chain.checked, upto, None, seq, await _record_id(store, seq), chain.problem)
    if missing:
        problem = f"record {missing[0]} is cited by the graph but missing from the journal"
        return Verification(False, chain.checked, upto, chain.head_hash, None, missing[0], problem)
    return Verification(True, chain.checked, upto, chain.head_hash)


async def _record_id(store: LineageStore, seq: int) -> str | None:
    records = await store.journal(seq - 1, 1)
    return records[0].id if records and records[0].seq == seq else None


# -- the summary on top ------------------------------------------------------------------------


def summarize(trail: AuditTrail) -> dict[str, list[dict[str, JSON]]]:
    """Return the chain by role: prompts, models, documents, indexes, datasets and the runs behind them."""
    into: dict[str, list[AuditHop]] = {}
    out_of: dict[str, list[AuditHop]] = {}
    for hop in trail.hops:
        into.setdefault(hop.dst, []).append(hop)
        out_of.setdefault(hop.src, []).append(hop)
    by_kind: dict[Kind, list[AuditNode]] = {}
    for node in trail.nodes:
        by_kind.setdefault(node.kind, []).append(node)

    def writers(urn: str) -> list[str]:
        return sorted(h.src for h in into.get(urn, ()) if h.type is EdgeType.PRODUCED)

    def writer(urn: str) -> str | None:
        return next(iter(writers(urn)), None)

    def aliases(node: AuditNode) -> list[dict[str, JSON]]:
        return [{"name": a.name, "valid_from": iso(a.valid_from), "valid_to": iso(a.valid_to)} for a in node.aliases]

    def of(kind: Kind) -> list[AuditNode]:
        return [n for n in by_kind.get(kind, []) if n.distance > 0]

    index_builds, datasets = [], []
    for node in by_kind.get(Kind.DATASET_VERSION, []):
        is_index = (node.entity or "").startswith(f"urn:lineage:{Kind.VECTOR_INDEX.slug}:")
        row: dict[str, JSON] = {
            "id": node.urn,
            ("index" if is_index else "dataset"): node.entity,
            "version": node.key.version,
            ("built_by" if is_index else "written_by"): writer(node.urn),
            "written_at": iso(min((h.first_seen for h in into.get(node.urn, ())), default=None)),
            "resolution": node.resolution,
        }
        if is_index:
            index_builds.append(row)
        else:
            row["source"] = not into.get(node.urn)
            row["aliases"] = aliases(node)
            datasets.append(row)
    documents = []
    for node in of(Kind.DOCUMENT):
        for hop in out_of.get(node.urn, ()):
            if hop.type is EdgeType.INPUT_OF:
                documents.append(
                    {
                        "id": node.urn,
                        "rank": hop.properties.get("rank"),
                        "score": hop.properties.get("score"),
                        "retrieved_by": hop.dst,
                        "derived_from": sorted(h.src for h in into.get(node.urn, ())),
                    }
                )
    documents.sort(key=lambda d: (d["retrieved_by"], d["rank"] if d["rank"] is not None else 1 << 30, d["id"]))
    runs: list[dict[str, JSON]] = [
        {
            "id": n.urn,
            "job": n.key.name,
            "job_namespace": n.key.namespace,
            "state": n.properties.get("state"),
            "started_at": n.properties.get("started_at") or iso(n.first_seen),
            "ended_at": n.properties.get("ended_at"),
            "inputs": sorted(h.src for h in into.get(n.urn, ())),
            "outputs": sorted(h.dst for h in out_of.get(n.urn, ())),
        }
        for n in by_kind.get(Kind.RUN, [])
    ]
    model_versions = {n.urn for n in by_kind.get(Kind.MODEL_VERSION, [])}
    training = [
        dict(r, name=_prop(trail, r["id"], "mlflow.run_name")) for r in runs if set(r["outputs"]) & model_versions
    ]
    return {
        "prompt_versions": [
            {
                "id": n.urn,
                "prompt": n.entity,
                "version": n.key.version,
                "aliases": aliases(n),
                "used_at": iso(n.used_at),
                "template_hash": n.properties.get("template_hash"),
            }
            for n in by_kind.get(Kind.PROMPT_VERSION, [])
        ],
        "llms": [{"id": n.urn, "provider": n.key.namespace, "model": n.key.name} for n in of(Kind.LLM)],
        "documents": documents,
        "index_builds": index_builds,
        "embedding_models": [
            {"id": n.urn, "provider": n.key.namespace, "model": n.key.name} for n in of(Kind.EMBEDDING_MODEL)
        ],
        "model_versions": [
            {
                "id": n.urn,
                "model": n.entity,
                "version": n.key.version,
                "aliases": aliases(n),
                "trained_by": writer(n.urn),
            }
            for n in by_kind.get(Kind.MODEL_VERSION, [])
        ],
        "feature_views": [
            {"id": n.urn, "name": n.key.name, "materialized_by": writers(n.urn)} for n in of(Kind.FEATURE_VIEW)
        ],
        "training_runs": training,
        "datasets": datasets,
        "runs": runs,
    }


def _prop(trail: AuditTrail, urn: str, name: str) -> JSON:
    node = trail.node(urn)
    return None if node is None else node.properties.get(name)


# -- re-checking a saved report ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recheck:
    """The result of checking a saved report against the journal now."""

    ok: bool
    records: int  # how many cited records were checked
    upto_seq: int
    problems: list[str]


async def recheck(store: LineageStore, report: Mapping[str, JSON]) -> Recheck:
    """Check a saved JSON report: its records still in the journal, unchanged, and the chain intact."""
    try:
        cited = [(str(r["id"]), int(r["seq"]), str(r["record_hash"])) for r in report["records"]]
        upto = int(report["verification"]["upto_seq"])
        upto_hash = report["verification"].get("upto_hash")
    except (KeyError, TypeError, ValueError) as e:
        msg = f"report: not an audit report in JSON (missing or malformed {e})"
        raise InvalidQuery(msg, field="report") from e
    problems = []
    found = await store.events([rid for rid, _, _ in cited])
    for rid, seq, record_hash in cited:
        record = found.get(rid)
        if record is None:
            problems.append(f"record {seq} ({rid}) is no longer in the journal")
        elif content_id(record.source, record.raw) != rid:
            problems.append(f"record {seq} ({rid}): its content no longer matches its id")
        elif record.seq != seq:
            problems.append(f"record {seq} ({rid}) moved to position {record.seq}")
        elif record.record_hash != record_hash:
            problems.append(f"record {seq} ({rid}): its chain hash changed from {record_hash} to {record.record_hash}")
    if upto:
        chain = await store.verify(upto=upto)
        if not chain.intact:
            seq = chain.broken_seq or 0
            named = await _record_id(store, seq)
            problems.append(f"the hash chain is broken at record {seq} ({named}): {chain.problem}")
        elif chain.head_seq < upto:
            problems.append(f"the journal ends at record {chain.head_seq}, before record {upto}")
        elif upto_hash is not None and chain.head_hash != upto_hash:
            problems.append(f"the chain hash at record {upto} is {chain.head_hash}, the report says {upto_hash}")
    return Recheck(not problems, len(cited), upto, problems)
