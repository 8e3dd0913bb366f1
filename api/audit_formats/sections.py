"""The report as titled tables of text, the one layout Markdown and HTML both print."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph.audit import AuditTrail
from graph.timestamps import iso

JSON = Any


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table; an empty one prints as a line saying there is none."""

    title: str
    columns: list[str]
    rows: list[list[str]]


def _text(value: JSON) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "—"
    return str(value)


def _aliases(values: list[dict[str, JSON]]) -> str:
    return ", ".join(f"{a['name']} (since {a['valid_from']})" for a in values) or "none"


def facts(trail: AuditTrail) -> list[tuple[str, str]]:
    """Return the facts printed on top: what, when, as of when, how complete, how verified."""
    key = trail.subject
    head_seq, head_hash = trail.journal_head
    return [
        ("Subject", key.urn),
        ("Kind", key.kind.value),
        ("Event time", _text(iso(trail.event_time))),
        ("As of", iso(trail.as_of) or "now (the whole graph)"),
        ("Generated at", _text(iso(trail.generated_at))),
        (
            "Chain",
            "did not exist at that time: empty"
            if not trail.existed
            else f"{len(trail.nodes)} nodes, {len(trail.hops)} hops, "
            + ("complete" if trail.complete else f"cut at {trail.max_hops} hops"),
        ),
        ("Journal head", f"record {head_seq}, hash {head_hash}"),
        ("Verification", trail.verification.statement),
    ]


_ROLES: list[tuple[str, str, list[str], Callable[[dict[str, JSON]], list[JSON]]]] = [
    (
        "prompt_versions",
        "Prompt versions",
        ["Prompt version", "Aliases at the time", "Used at", "Template hash"],
        lambda r: [r["id"], _aliases(r["aliases"]), r["used_at"], r["template_hash"]],
    ),
    ("llms", "LLMs", ["LLM", "Provider", "Model"], lambda r: [r["id"], r["provider"], r["model"]]),
    (
        "documents",
        "Retrieved documents",
        ["Rank", "Score", "Document", "Derived from"],
        lambda r: [r["rank"], r["score"], r["id"], r["derived_from"]],
    ),
    (
        "index_builds",
        "Index builds",
        ["Build", "Index", "Built by run", "Built at", "Resolution"],
        lambda r: [r["id"], r["index"], r["built_by"], r["written_at"], r["resolution"]],
    ),
    (
        "embedding_models",
        "Embedding models",
        ["Embedding model", "Provider", "Model"],
        lambda r: [r["id"], r["provider"], r["model"]],
    ),
    (
        "model_versions",
        "Model versions",
        ["Model version", "Aliases at the time", "Trained by run"],
        lambda r: [r["id"], _aliases(r["aliases"]), r["trained_by"]],
    ),
    (
        "feature_views",
        "Feature views",
        ["Feature view", "Materialized by runs"],
        lambda r: [r["id"], r["materialized_by"]],
    ),
    (
        "training_runs",
        "Training runs",
        ["Run", "Name", "Started", "Ended", "Inputs"],
        lambda r: [r["id"], r["name"], r["started_at"], r["ended_at"], r["inputs"]],
    ),
    (
        "datasets",
        "Datasets (versions read, and the runs that wrote them)",
        ["Dataset version", "Dataset", "Written by run", "Written at", "Source"],
        lambda r: [r["id"], r["dataset"], r["written_by"], r["written_at"], r["source"]],
    ),
    (
        "runs",
        "Runs",
        ["Run", "Job", "State", "Started", "Ended"],
        lambda r: [r["id"], r["job"], r["state"], r["started_at"], r["ended_at"]],
    ),
]


def summary(trail: AuditTrail) -> list[Table]:
    """Return the summary by role."""
    return [
        Table(title, columns, [[_text(v) for v in row(r)] for r in trail.summary.get(role, [])])
        for role, title, columns, row in _ROLES
    ]


def chain(trail: AuditTrail) -> Table:
    """Return the hops, each with its event times and the journal records behind it."""
    seqs = {c.id: c.seq for c in trail.citations.values()}
    rows = [
        [
            h.src,
            h.type.value,
            h.dst,
            f"{iso(h.first_seen)} … {iso(h.last_seen)}" if h.last_seen != h.first_seen else _text(iso(h.first_seen)),
            ", ".join(f"#{seqs[e]}" if e in seqs else f"{e} (missing)" for e in h.evidence)
            + (f" (of {h.evidence_count})" if h.evidence_count > len(h.evidence) else ""),
            _text(h.resolution),
        ]
        for h in trail.hops
    ]
    return Table("Chain (upstream → downstream)", ["From", "Edge", "To", "Event time", "Records", "Note"], rows)


def records(trail: AuditTrail) -> Table:
    """Return the cited journal records."""
    rows = [
        [
            f"#{c.seq}",
            c.id,
            c.source,
            _text(iso(c.received_at)),
            _text(c.producer),
            c.record_hash,
            "yes" if c.content_ok else "NO: altered",
        ]
        for c in trail.citations.values()
    ]
    columns = ["Seq", "Id (content hash)", "Source", "Received", "Producer", "Record hash", "Content matches id"]
    return Table("Journal records cited", columns, rows)


def notes(trail: AuditTrail) -> list[str]:
    """Return the resolution notes and any warnings."""
    return list(trail.notes)
