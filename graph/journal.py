"""The journal: every accepted input, raw and whole, in a hash chain an auditor can verify.

A record's id is the hash of its source and raw text, so re-sending an input is a no-op
whatever the order. Its ``record_hash`` covers the previous record's hash, its position, its
id and its arrival time: altering or removing any record breaks every hash after it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One input to keep: where it came from and its raw text."""

    source: str
    raw: str
    received_at: float

    @property
    def id(self) -> str:
        """Return the content hash that identifies this input."""
        return content_id(self.source, self.raw)


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """A journaled input with its place in the chain."""

    seq: int
    id: str
    source: str
    received_at: float
    raw: str
    prev_hash: str
    record_hash: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An input that was refused, kept with the reason."""

    id: int
    source: str
    received_at: float
    raw: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of checking the chain: intact, or where it first breaks and how."""

    intact: bool
    checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None


def content_id(source: str, raw: str) -> str:
    """Return the id of an input: sha256 over its source and raw text."""
    return hashlib.sha256(f"{source}\n{raw}".encode()).hexdigest()


def record_hash(prev_hash: str, seq: int, record_id: str, source: str, received_at: float) -> str:
    """Return the chain hash of a record."""
    text = f"{prev_hash}|{seq}|{record_id}|{source}|{received_at!r}"
    return hashlib.sha256(text.encode()).hexdigest()


def chain(entries: Iterable[JournalEntry], head_seq: int, head_hash: str) -> list[JournalRecord]:
    """Return the records that append these entries after the given head."""
    records = []
    for entry in entries:
        head_seq += 1
        rid = entry.id
        new_hash = record_hash(head_hash, head_seq, rid, entry.source, entry.received_at)
        records.append(JournalRecord(head_seq, rid, entry.source, entry.received_at, entry.raw, head_hash, new_hash))
        head_hash = new_hash
    return records


def verify_chain(records: Iterable[JournalRecord], *, upto: int | None = None) -> ChainReport:
    """Check records in seq order: contents match ids, hashes link, no seq is missing."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    for record in records:
        if upto is not None and record.seq > upto:
            break
        problem = None
        if record.seq != expected_seq:
            problem = f"record {expected_seq} is missing (next present is {record.seq})"
        elif content_id(record.source, record.raw) != record.id:
            problem = f"record {record.seq} ({record.id[:12]}): its content does not match its id"
        elif record.prev_hash != prev_hash:
            problem = f"record {record.seq}: its previous hash does not match record {record.seq - 1}"
        elif record_hash(prev_hash, record.seq, record.id, record.source, record.received_at) != record.record_hash:
            problem = f"record {record.seq} ({record.id[:12]}): its hash does not match its fields"
        if problem is not None:
            return ChainReport(False, checked, record.seq, record.record_hash, expected_seq, problem)
        prev_hash, expected_seq, checked = record.record_hash, expected_seq + 1, checked + 1
    return ChainReport(True, checked, expected_seq - 1, prev_hash)
