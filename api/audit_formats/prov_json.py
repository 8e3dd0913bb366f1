"""The audit report as W3C PROV-JSON (https://www.w3.org/submissions/prov-json/), for other provenance tools.

Runs are activities, every other node of the chain an entity, the jobs behind the runs software
agents; hops become ``used``, ``wasGeneratedBy`` and ``wasDerivedFrom``. Ids are our URNs as
qualified names in the ``lineage:`` namespace (``urn:lineage:`` + the local part gives the URN
back); each relation carries the journal records that asserted it in ``lineage:evidence``.
"""

from __future__ import annotations

from typing import Any

import orjson

from graph.audit import AuditNode, AuditTrail
from graph.edges import EdgeType
from graph.keys import URN_PREFIX, Kind, NodeKey
from graph.timestamps import iso

JSON = Any
PREFIX = "lineage"
_ACTIVITIES = frozenset({Kind.RUN, Kind.JOB})


def qname(urn: str) -> str:
    """Return the qualified name of one of our ids."""
    return f"{PREFIX}:{urn.removeprefix(URN_PREFIX)}"


def _qualified(value: str) -> dict[str, str]:
    return {"$": value, "type": "prov:QUALIFIED_NAME"}


def to_dict(trail: AuditTrail) -> dict[str, JSON]:
    """Return the PROV-JSON document of a report."""
    entities: dict[str, JSON] = {}
    activities: dict[str, JSON] = {}
    agents: dict[str, JSON] = {}
    nodes = {n.urn: n for n in trail.nodes}
    for node in trail.nodes:
        if node.kind in _ACTIVITIES:
            activities[qname(node.urn)] = _activity(node)
        else:
            entities[qname(node.urn)] = _entity(node)
    associations: dict[str, JSON] = {}
    for node in trail.nodes:
        if node.kind is Kind.RUN:
            job = NodeKey(Kind.JOB, node.key.namespace, node.key.name).urn
            if job not in nodes:
                agents[qname(job)] = {"prov:type": _qualified("prov:SoftwareAgent"), "prov:label": node.key.name}
            association = {"prov:activity": qname(node.urn), "prov:agent": qname(job)}
            associations[f"_:assoc{len(associations) + 1}"] = association
    used: dict[str, JSON] = {}
    generated: dict[str, JSON] = {}
    derived: dict[str, JSON] = {}
    inputs: dict[str, list[str]] = {}
    outputs: dict[str, list[str]] = {}
    for hop in trail.hops:
        attributes: dict[str, JSON] = {"lineage:evidence": " ".join(hop.evidence)}
        for name in ("rank", "score"):
            if name in hop.properties:
                attributes[f"lineage:{name}"] = hop.properties[name]
        if hop.resolution:
            attributes["lineage:resolution"] = hop.resolution
        src, dst = nodes.get(hop.src), nodes.get(hop.dst)
        if src is None or dst is None:
            continue
        if hop.type is EdgeType.INPUT_OF and dst.kind in _ACTIVITIES and src.kind not in _ACTIVITIES:
            used[f"_:used{len(used) + 1}"] = {
                "prov:activity": qname(hop.dst),
                "prov:entity": qname(hop.src),
                "prov:time": iso(hop.first_seen),
                **attributes,
            }
            inputs.setdefault(hop.dst, []).append(hop.src)
        elif hop.type is EdgeType.PRODUCED and src.kind in _ACTIVITIES and dst.kind not in _ACTIVITIES:
            generated[f"_:gen{len(generated) + 1}"] = {
                "prov:entity": qname(hop.dst),
                "prov:activity": qname(hop.src),
                "prov:time": iso(hop.first_seen),
                **attributes,
            }
            outputs.setdefault(hop.src, []).append(hop.dst)
        elif hop.type is EdgeType.DERIVES:
            derived[f"_:der{len(derived) + 1}"] = {
                "prov:generatedEntity": qname(hop.dst),
                "prov:usedEntity": qname(hop.src),
                **attributes,
            }
    # What a run generated was derived from what it used (PROV's derivation through an activity).
    for run, made in sorted(outputs.items()):
        for out in sorted(made):
            for source in sorted(inputs.get(run, [])):
                derived[f"_:der{len(derived) + 1}"] = {
                    "prov:generatedEntity": qname(out),
                    "prov:usedEntity": qname(source),
                    "prov:activity": qname(run),
                }
    document: dict[str, JSON] = {"prefix": {PREFIX: URN_PREFIX}}
    sections = {
        "entity": entities,
        "activity": activities,
        "agent": agents,
        "used": used,
        "wasGeneratedBy": generated,
        "wasDerivedFrom": derived,
        "wasAssociatedWith": associations,
    }
    document.update({name: values for name, values in sections.items() if values})
    return document


def render(trail: AuditTrail) -> str:
    """Return the PROV-JSON text of a report."""
    return orjson.dumps(to_dict(trail), option=orjson.OPT_INDENT_2).decode()


def _common(node: AuditNode) -> dict[str, JSON]:
    attributes: dict[str, JSON] = {
        "prov:type": _qualified(f"{PREFIX}:{node.kind.value}"),
        "prov:label": node.key.name + (f" @ {node.key.version}" if node.key.version else ""),
        "lineage:namespace": node.key.namespace,
        "lineage:firstSeen": iso(node.first_seen),
    }
    if node.evidence:
        attributes["lineage:evidence"] = " ".join(node.evidence)
    if node.resolution:
        attributes["lineage:resolution"] = node.resolution
    return attributes


def _entity(node: AuditNode) -> dict[str, JSON]:
    attributes = _common(node)
    if node.key.version:
        attributes["lineage:version"] = node.key.version
    if node.entity:
        attributes["lineage:entity"] = node.entity
    if node.aliases:
        attributes["lineage:aliases"] = " ".join(sorted(a.name for a in node.aliases))
    return attributes


def _activity(node: AuditNode) -> dict[str, JSON]:
    attributes = _common(node)
    started = node.properties.get("started_at")
    ended = node.properties.get("ended_at")
    attributes["prov:startTime"] = started if isinstance(started, str) else iso(node.first_seen)
    if isinstance(ended, str):
        attributes["prov:endTime"] = ended
    state = node.properties.get("state")
    if isinstance(state, str):
        attributes["lineage:state"] = state
    return attributes
