"""API tokens: created once, shown once, kept only as SHA-256 hashes in ``<data dir>/tokens.sqlite``.

A plain SHA-256 is enough here, unlike for passwords: a token is 256 random bits, so there is
no dictionary to try and no point in a slow hash; the hash only keeps a stolen tokens file from
being a list of working tokens. Looking a token up by its hash also means no secret is ever
compared byte by byte (no timing side channel). The file sits beside the data even when the
graph lives in Neo4j, so tokens work with either store.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

TOKEN_PREFIX = "lgt_"  # noqa: S105 - not a secret: a prefix that makes a leaked token easy to find with a secret scanner
SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL, scopes TEXT NOT NULL,
    namespaces TEXT, created_at REAL NOT NULL, revoked_at REAL);
"""


class Scope(StrEnum):
    """What a token may do; ``admin`` may do everything."""

    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Token:
    """A token as kept: never the secret itself."""

    id: str
    name: str
    scopes: frozenset[Scope]
    namespaces: tuple[str, ...] | None  # None: every namespace
    created_at: float
    revoked_at: float | None = None

    def allows(self, scope: Scope) -> bool:
        """Return whether the token carries this scope (admin carries all)."""
        return scope in self.scopes or Scope.ADMIN in self.scopes


def hash_token(secret: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    """The tokens file; it is created by the first ``create``, so a demo never has one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _connect(self, create: bool = False) -> sqlite3.Connection | None:
        if self._db is None and (create or self.path.exists()):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            self.path.chmod(0o600)
            self._db = db
        return self._db

    def create(self, scopes: set[Scope], namespaces: list[str] | None = None, name: str = "") -> tuple[str, Token]:
        """Make a token; return its secret (shown once) and what is kept of it."""
        if not scopes:
            msg = "scope: give at least one of ingest, read, admin"
            raise ValueError(msg)
        db = self._connect(create=True)
        assert db is not None
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = Token(
            id=secrets.token_hex(4),
            name=name,
            scopes=frozenset(scopes),
            namespaces=tuple(namespaces) if namespaces else None,
            created_at=time.time(),
        )
        db.execute(
            "INSERT INTO tokens VALUES (?,?,?,?,?,?,NULL)",
            (
                token.id,
                hash_token(secret),
                name,
                ",".join(sorted(token.scopes)),
                json.dumps(token.namespaces) if token.namespaces else None,
                token.created_at,
            ),
        )
        return secret, token

    def lookup(self, secret: str) -> Token | None:
        """Return the live token with this secret, or None (unknown or revoked)."""
        db = self._connect()
        if db is None:
            return None
        row = db.execute(
            "SELECT id, name, scopes, namespaces, created_at, revoked_at FROM tokens "
            "WHERE hash = ? AND revoked_at IS NULL",
            (hash_token(secret),),
        ).fetchone()
        return None if row is None else _token(row)

    def any(self) -> bool:
        """Return whether a token was ever made (revoking the last one does not open the service)."""
        db = self._connect()
        return db is not None and db.execute("SELECT EXISTS (SELECT 1 FROM tokens)").fetchone()[0] == 1

    def list(self) -> list[Token]:
        """Return every token, revoked ones included, oldest first."""
        db = self._connect()
        if db is None:
            return []
        rows = db.execute("SELECT id, name, scopes, namespaces, created_at, revoked_at FROM tokens ORDER BY created_at")
        return [_token(row) for row in rows]

    def revoke(self, token_id: str) -> bool:
        """Revoke a token by id; return False when no live token has it."""
        db = self._connect()
        if db is None:
            return False
        cur = db.execute(
            "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (time.time(), token_id)
        )
        return cur.rowcount == 1

    def close(self) -> None:
        """Close the file."""
        if self._db is not None:
            self._db.close()
            self._db = None


def _token(row: tuple[str, str, str, str | None, float, float | None]) -> Token:
    token_id, name, scopes, namespaces, created_at, revoked_at = row
    return Token(
        id=token_id,
        name=name,
        scopes=frozenset(Scope(s) for s in scopes.split(",")),
        namespaces=tuple(json.loads(namespaces)) if namespaces else None,
        created_at=created_at,
        revoked_at=revoked_at,
    )
