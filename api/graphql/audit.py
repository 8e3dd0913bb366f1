"""auditTrail(id, asOf) in GraphQL: the audit report of a run/version-level node, as typed fields.

``report`` carries the same JSON document as ``lineage audit --format json`` (the one
``lineage verify --report`` re-checks); the other fields are its parts, typed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.audit_formats import json_report
from api.graphql.context import LineageContext
from api.graphql.errors import InvalidArgument, NotFound, invalid
from api.restrict import RestrictedStore
from graph import audit
from graph.errors import InvalidInput, NodeNotFound
from graph.keys import parse_key
from graph.timestamps import from_epoch, to_epoch


def _time(seconds: float | None) -> datetime | None:
    return None if seconds is None else from_epoch(seconds)


@strawberry.type(description="A journal record cited as evidence, with its place in the hash chain.")
class AuditRecord:
    id: strawberry.ID = strawberry.field(description="The content hash of the raw input.")
    seq: int
    source: str
    received_at: datetime
    record_hash: str
    prev_hash: str
    producer: str | None = strawberry.field(description="What the input says produced it, if it says.")
    content_ok: bool = strawberry.field(description="Whether the raw input still hashes to its id.")


@strawberry.type(description="An alias that pointed at a version when the chain used it.")
class AuditAlias:
    entity: strawberry.ID
    name: str
    valid_from: datetime | None
    valid_to: datetime | None


@strawberry.type(description="A node of the audited chain.")
class AuditChainNode:
    id: strawberry.ID
    kind: str
    namespace: str
    name: str
    version: str | None
    distance: int
    entity: strawberry.ID | None
    used_at: datetime | None
    aliases: list[AuditAlias]
    resolution: str | None
    properties: JSON
    evidence_ids: list[str]


@strawberry.type(description="A hop of the audited chain, data flowing from source to target.")
class AuditHop:
    source: strawberry.ID
    target: strawberry.ID
    type: str
    qualifier: str
    properties: JSON
    first_seen: datetime
    last_seen: datetime
    evidence_count: int
    evidence_ids: list[str]
    records: list[AuditRecord] = strawberry.field(description="The cited journal records behind this hop.")
    resolution: str | None


@strawberry.type(description="Whether the journal's hash chain holds up to the last cited record.")
class AuditVerification:
    intact: bool
    statement: str
    checked: int
    upto_seq: int
    upto_hash: str | None
    broken_seq: int | None
    broken_record: str | None
    problem: str | None


@strawberry.type(description="The audit trail of an answer, a prediction batch, a model or dataset version.")
class AuditTrail:
    subject: strawberry.ID
    kind: str
    event_time: datetime | None
    as_of: datetime | None
    generated_at: datetime
    existed: bool = strawberry.field(description="False when the subject did not exist at asOf (empty chain).")
    complete: bool = strawberry.field(description="False when the audit hop budget cut the chain.")
    summary: JSON = strawberry.field(description="The chain by role: prompt versions, documents, index builds, ...")
    notes: list[str]
    nodes: list[AuditChainNode]
    hops: list[AuditHop]
    records: list[AuditRecord]
    verification: AuditVerification
    report: JSON = strawberry.field(description="The whole report as `lineage audit --format json` writes it.")

    @classmethod
    def from_trail(cls, trail: audit.AuditTrail) -> AuditTrail:
        """Return the GraphQL view of an audit trail."""
        v = trail.verification
        records = {
            c.id: AuditRecord(
                id=strawberry.ID(c.id),
                seq=c.seq,
                source=c.source,
                received_at=from_epoch(c.received_at),
                record_hash=c.record_hash,
                prev_hash=c.prev_hash,
                producer=c.producer,
                content_ok=c.content_ok,
            )
            for c in trail.citations.values()
        }
        return cls(
            subject=strawberry.ID(trail.subject.urn),
            kind=trail.subject.kind.value,
            event_time=_time(trail.event_time),
            as_of=_time(trail.as_of),
            generated_at=from_epoch(trail.generated_at),
            existed=trail.existed,
            complete=trail.complete,
            summary=cast(JSON, trail.summary),
            notes=list(trail.notes),
            nodes=[
                AuditChainNode(
                    id=strawberry.ID(n.urn),
                    kind=n.kind.value,
                    namespace=n.key.namespace,
                    name=n.key.name,
                    version=n.key.version,
                    distance=n.distance,
                    entity=strawberry.ID(n.entity) if n.entity else None,
                    used_at=_time(n.used_at),
                    aliases=[
                        AuditAlias(
                            entity=strawberry.ID(a.entity),
                            name=a.name,
                            valid_from=_time(a.valid_from),
                            valid_to=_time(a.valid_to),
                        )
                        for a in n.aliases
                    ],
                    resolution=n.resolution,
                    properties=cast(JSON, n.properties),
                    evidence_ids=list(n.evidence),
                )
                for n in trail.nodes
            ],
            hops=[
                AuditHop(
                    source=strawberry.ID(h.src),
                    target=strawberry.ID(h.dst),
                    type=h.type.value,
                    qualifier=h.qualifier,
                    properties=cast(JSON, h.properties),
                    first_seen=from_epoch(h.first_seen),
                    last_seen=from_epoch(h.last_seen),
                    evidence_count=h.evidence_count,
                    evidence_ids=list(h.evidence),
                    records=[records[e] for e in h.evidence if e in records],
                    resolution=h.resolution,
                )
                for h in trail.hops
            ],
            records=list(records.values()),
            verification=AuditVerification(
                intact=v.intact,
                statement=v.statement,
                checked=v.checked,
                upto_seq=v.upto_seq,
                upto_hash=v.upto_hash,
                broken_seq=v.broken_seq,
                broken_record=v.broken_record,
                problem=v.problem,
            ),
            report=cast(JSON, json_report.to_dict(trail)),
        )


AuditResult = Annotated[AuditTrail | NotFound | InvalidArgument, strawberry.union("AuditResult")]


async def resolve_audit_trail(
    info: Info[LineageContext, None], id: strawberry.ID, as_of: datetime | None = None
) -> AuditResult:
    """Return the audit trail of a run/version-level node."""
    settings = info.context.settings
    if isinstance(info.context.store, RestrictedStore):
        # An audit cites every record of the chain and verifies their hashes: a partial view cannot.
        msg = "id: an audit needs the whole chain; this token is limited to namespaces (ask with an unrestricted one)"
        return invalid("id", msg)
    try:
        trail = await audit.audit_trail(
            info.context.store,
            parse_key(str(id)),
            as_of=None if as_of is None else to_epoch(as_of, field="asOf"),
            max_hops=settings.audit_max_hops,
            deadline=settings.query_deadline_seconds,
        )
    except NodeNotFound as e:
        return NotFound(id=id, message=str(e))
    except InvalidInput as e:
        return invalid(e.field, str(e))
    return AuditTrail.from_trail(trail)


#: The Query field (one line in api/graphql/schema.py: ``audit_trail: AuditResult = AUDIT_TRAIL``).
AUDIT_TRAIL = strawberry.field(
    resolver=resolve_audit_trail,
    description="The audit trail of an answer, a prediction batch, a model or dataset version: every hop upstream "
    "with the journal records behind it, and whether the journal's hash chain holds.",
)
