"""Copy SQLite's write-ahead log into the database from a thread of its own.

By default the commit that crosses the WAL's size limit runs the checkpoint itself: every few
hundred events one request waited ~70-100 ms while tens of MB were copied (docs/benchmarks.md).
A thread with its own connection checkpoints instead, never blocking the writer (``PASSIVE``;
SQLite releases the GIL while it copies), and repeats until it has caught up, so that the WAL
starts over rather than growing under steady writes. The writer keeps a far larger automatic
limit as a backstop, should this thread fall behind.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

INTERVAL = 0.5  # seconds between checkpoints: the WAL stays about half a second of writes long
_PASSES = 8  # passes in a row at most; past them, the next round goes on


class WalCheckpointer:
    """Checkpoint one database's WAL every ``interval`` seconds until closed."""

    def __init__(self, path: Path, interval: float = INTERVAL) -> None:
        self.rounds = 0  # rounds that ended with the whole WAL copied into the database
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(path, interval), name=f"wal-checkpoint {path.name}", daemon=True
        )
        self._thread.start()

    def _run(self, path: Path, interval: float) -> None:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(interval):
                try:
                    self._checkpoint(db)
                except sqlite3.Error:  # busy or locked: the next round copies what this one could not
                    continue
        finally:
            db.close()

    def _checkpoint(self, db: sqlite3.Connection) -> None:
        # Each pass copies what the writer added during the one before, so passes get shorter; once
        # one finds nothing new, the WAL is all copied and the writer's next commit starts it over.
        previous = -1
        for _ in range(_PASSES):
            # fetchall: a statement left open would hold a read lock, and the WAL could not start over
            ((_, frames, copied),) = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            if frames == previous and copied == frames:
                self.rounds += 1
                return
            previous = frames

    def close(self) -> None:
        """Stop checkpointing (the writer's own connection checkpoints when it closes)."""
        self._stop.set()
        self._thread.join()
