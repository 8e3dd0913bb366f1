"""The embedded store's durable half: journal, dead letters and full graph rows in one SQLite file.

WAL mode: a commit that returned is on disk even if the process is killed the next instant
(``synchronous=NORMAL`` survives a process crash; ``FULL`` also survives power loss).

Graph rows are keyed by integer row ids that the store hands out in order, not by their text
identity: new rows append to the end of the table instead of landing on random pages, which
keeps each commit's write small. The store's in-memory shape maps identities to row ids (it
is the only writer), so no text index is needed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from graph.journal import GENESIS, DeadLetter, JournalRecord
from graph.memory.checkpoint import WalCheckpointer

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    received_at REAL NOT NULL, raw TEXT NOT NULL, prev_hash TEXT NOT NULL, record_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letter (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, received_at REAL NOT NULL,
    raw TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    id INTEGER PRIMARY KEY, urn TEXT NOT NULL, kind TEXT NOT NULL, first_seen REAL NOT NULL,
    last_seen REAL NOT NULL, properties TEXT NOT NULL, stamps TEXT NOT NULL, markers TEXT, evidence TEXT);
CREATE TABLE IF NOT EXISTS edges (
    id INTEGER PRIMARY KEY, src TEXT NOT NULL, type TEXT NOT NULL, dst TEXT NOT NULL,
    qualifier TEXT NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL,
    ev_first TEXT NOT NULL, ev_first_time REAL NOT NULL, ev_last TEXT NOT NULL,
    ev_last_time REAL NOT NULL, ev_count INTEGER NOT NULL, properties TEXT, markers TEXT);
"""
NODE_COLUMNS = ("id", "urn", "kind", "first_seen", "last_seen", "properties", "stamps", "markers", "evidence")
EDGE_COLUMNS = (
    "id", "src", "type", "dst", "qualifier", "first_seen", "last_seen", "ev_first", "ev_first_time",
    "ev_last", "ev_last_time", "ev_count", "properties", "markers",
)  # fmt: skip
JOURNAL_COLUMNS = "seq, id, source, received_at, raw, prev_hash, record_hash"
_CHUNK = 500  # stays under SQLite's limit on bound parameters


class SqliteFile:
    """One SQLite database under the data folder."""

    def __init__(self, path: Path, *, synchronous: str = "NORMAL", busy_timeout: float = 5.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Autocommit mode: every write below opens its own explicit transaction.
        # busy_timeout: how long a write waits for another process's lock before it fails.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={_pragma(synchronous)}")
        self.db.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache: reads of hot rows stay in memory
        # A thread checkpoints the WAL (graph/memory/checkpoint.py), so no commit waits for one; a
        # commit only checkpoints past ~400 MiB, if that thread ever fell behind.
        self.db.execute("PRAGMA wal_autocheckpoint=100000")
        self.db.executescript(SCHEMA)
        self.checkpointer = WalCheckpointer(path)

    def close(self) -> None:
        """Close the connection (the last one to close checkpoints the WAL and removes it)."""
        self.checkpointer.close()
        self.db.close()

    # -- journal ---------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """Return the journal's last position and hash."""
        row = self.db.execute("SELECT seq, record_hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        return (0, GENESIS) if row is None else (row[0], row[1])

    def known_ids(self, ids: Sequence[str]) -> set[str]:
        """Return which of these journal ids are already kept."""
        return {row[0] for row in self._where_in("SELECT id FROM journal WHERE id IN", ids)}

    def journal(self, after_seq: int, limit: int | None) -> list[JournalRecord]:
        """Return journal records in order after a position."""
        sql = f"SELECT {JOURNAL_COLUMNS} FROM journal WHERE seq > ? ORDER BY seq LIMIT ?"
        return [JournalRecord(*row) for row in self.db.execute(sql, (after_seq, -1 if limit is None else limit))]

    def journal_by_id(self, ids: Sequence[str]) -> dict[str, JournalRecord]:
        """Return journal records by id."""
        rows = self._where_in(f"SELECT {JOURNAL_COLUMNS} FROM journal WHERE id IN", ids)
        return {row[1]: JournalRecord(*row) for row in rows}

    # -- graph rows ------------------------------------------------------------------------

    def write(
        self,
        records: Sequence[JournalRecord],
        node_rows: Sequence[Sequence[Any]],
        edge_rows: Sequence[Sequence[Any]],
    ) -> None:
        """Write journal records and graph rows (values in NODE_COLUMNS, EDGE_COLUMNS order) in one transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT INTO journal VALUES (?,?,?,?,?,?,?)",
                [(r.seq, r.id, r.source, r.received_at, r.raw, r.prev_hash, r.record_hash) for r in records],
            )
            # Row ids come from the store: a new row appends, a known one is replaced in place.
            self.db.executemany(
                f"INSERT OR REPLACE INTO nodes VALUES ({','.join('?' * len(NODE_COLUMNS))})",
                node_rows,
            )
            self.db.executemany(
                f"INSERT OR REPLACE INTO edges VALUES ({','.join('?' * len(EDGE_COLUMNS))})",
                edge_rows,
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def counts(self) -> dict[str, int]:
        """Return how many journal records, dead letters, nodes and edges the file holds."""
        tables = {"journal": "journal", "dead_letters": "dead_letter", "nodes": "nodes", "edges": "edges"}
        return {name: self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for name, table in tables.items()}

    def clear_graph(self) -> None:
        """Delete every node and edge row (the journal stays)."""
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("DELETE FROM nodes")
        self.db.execute("DELETE FROM edges")
        self.db.execute("COMMIT")

    def last_rows(self) -> tuple[int, int]:
        """Return the highest node and edge row ids in use."""
        nodes = self.db.execute("SELECT coalesce(max(id), 0) FROM nodes").fetchone()[0]
        edges = self.db.execute("SELECT coalesce(max(id), 0) FROM edges").fetchone()[0]
        return int(nodes), int(edges)

    def node_metas(self) -> Iterator[tuple[int, str, str, float, float, str | None]]:
        """Yield (id, urn, kind, first_seen, last_seen, markers) of every node."""
        yield from self.db.execute("SELECT id, urn, kind, first_seen, last_seen, markers FROM nodes")

    def edge_metas(self) -> Iterator[tuple[int, str, str, str, str, float, float, str | None]]:
        """Yield (id, src, type, dst, qualifier, first_seen, last_seen, markers) of every edge."""
        yield from self.db.execute("SELECT id, src, type, dst, qualifier, first_seen, last_seen, markers FROM edges")

    def node_rows(self, ids: Sequence[int] | None = None) -> Iterator[dict[str, Any]]:
        """Yield full node rows, all of them or those with these row ids."""
        yield from self._rows("nodes", NODE_COLUMNS, ids)

    def edge_rows(self, ids: Sequence[int] | None = None) -> Iterator[dict[str, Any]]:
        """Yield full edge rows, all of them or those with these row ids."""
        yield from self._rows("edges", EDGE_COLUMNS, ids)

    def _rows(self, table: str, columns: Sequence[str], ids: Sequence[int] | None) -> Iterator[dict[str, Any]]:
        select = f"SELECT {','.join(columns)} FROM {table}"
        rows = self.db.execute(select) if ids is None else self._where_in(f"{select} WHERE id IN", ids)
        for row in rows:
            yield dict(zip(columns, row, strict=True))

    def search(self, needle: str, kinds: Sequence[str] | None) -> list[str]:
        """Return the ids whose text contains the needle (case-insensitive), of these kinds."""
        sql = "SELECT urn FROM nodes WHERE instr(lower(urn), ?) > 0"
        args: list[Any] = [needle]
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        return [row[0] for row in self.db.execute(sql, args)]

    def _where_in(self, prefix: str, values: Sequence[Any]) -> Iterator[Sequence[Any]]:
        """Run ``<prefix> (?,...)`` in chunks of values."""
        for i in range(0, len(values), _CHUNK):
            chunk = values[i : i + _CHUNK]
            yield from self.db.execute(f"{prefix} ({','.join('?' * len(chunk))})", chunk)

    # -- dead letters ----------------------------------------------------------------------

    def add_dead_letter(self, source: str, raw: str, reason: str, received_at: float) -> DeadLetter:
        """Keep a refused input."""
        cur = self.db.execute(
            "INSERT INTO dead_letter (source, received_at, raw, reason) VALUES (?,?,?,?)",
            (source, received_at, raw, reason),
        )
        return DeadLetter(int(cur.lastrowid or 0), source, received_at, raw, reason)

    def dead_letters(self, limit: int) -> list[DeadLetter]:
        """Return the most recent refused inputs, newest first."""
        rows = self.db.execute(
            "SELECT id, source, received_at, raw, reason FROM dead_letter ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [DeadLetter(*row) for row in rows]


def _pragma(value: str) -> str:
    allowed = {"NORMAL", "FULL", "EXTRA"}
    if value.upper() not in allowed:
        msg = f"synchronous: {value!r} is not one of {sorted(allowed)}"
        raise ValueError(msg)
    return value.upper()
