"""The audit report as JSON: the form a report is saved in and re-checked from (``lineage verify --report``)."""

from __future__ import annotations

from typing import Any

import orjson

from graph.audit import FORMAT_VERSION, AuditHop, AuditNode, AuditTrail, Citation
from graph.timestamps import iso

JSON = Any


def to_dict(trail: AuditTrail) -> dict[str, JSON]:
    """Return the report as plain JSON values."""
    key = trail.subject
    v = trail.verification
    return {
        "report": "lineage-graph audit trail",
        "format_version": FORMAT_VERSION,
        "subject": {
            "id": key.urn,
            "kind": key.kind.value,
            "namespace": key.namespace,
            "name": key.name,
            "version": key.version,
            "event_time": iso(trail.event_time),
            "existed": trail.existed,
        },
        "as_of": iso(trail.as_of),
        "generated_at": iso(trail.generated_at),
        "complete": trail.complete,
        "max_hops": trail.max_hops,
        "verification": {
            "intact": v.intact,
            "statement": v.statement,
            "checked": v.checked,
            "upto_seq": v.upto_seq,
            "upto_hash": v.upto_hash,
            "broken_seq": v.broken_seq,
            "broken_record": v.broken_record,
            "problem": v.problem,
        },
        "journal_head": {"seq": trail.journal_head[0], "hash": trail.journal_head[1]},
        "summary": trail.summary,
        "notes": trail.notes,
        "chain": {"nodes": [_node(n) for n in trail.nodes], "hops": [_hop(h) for h in trail.hops]},
        "records": [_record(c) for c in trail.citations.values()],
    }


def render(trail: AuditTrail) -> str:
    """Return the report as indented JSON text."""
    return orjson.dumps(to_dict(trail), option=orjson.OPT_INDENT_2).decode()


def _node(n: AuditNode) -> dict[str, JSON]:
    return {
        "id": n.urn,
        "kind": n.kind.value,
        "namespace": n.key.namespace,
        "name": n.key.name,
        "version": n.key.version,
        "distance": n.distance,
        "entity": n.entity,
        "first_seen": iso(n.first_seen),
        "last_seen": iso(n.last_seen),
        "used_at": iso(n.used_at),
        "aliases": [
            {"entity": a.entity, "name": a.name, "valid_from": iso(a.valid_from), "valid_to": iso(a.valid_to)}
            for a in n.aliases
        ],
        "resolution": n.resolution,
        "properties": n.properties,
        "evidence": n.evidence,
    }


def _hop(h: AuditHop) -> dict[str, JSON]:
    return {
        "source": h.src,
        "type": h.type.value,
        "target": h.dst,
        "qualifier": h.qualifier,
        "properties": h.properties,
        "first_seen": iso(h.first_seen),
        "last_seen": iso(h.last_seen),
        "evidence_count": h.evidence_count,
        "evidence": h.evidence,
        "resolution": h.resolution,
    }


def _record(c: Citation) -> dict[str, JSON]:
    return {
        "id": c.id,
        "seq": c.seq,
        "source": c.source,
        "received_at": iso(c.received_at),
        "content_hash": c.id,
        "record_hash": c.record_hash,
        "prev_hash": c.prev_hash,
        "producer": c.producer,
        "content_ok": c.content_ok,
    }
