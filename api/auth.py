"""Who is calling and may they: Bearer tokens, one scope per request, checked before any router runs.

The check is ASGI middleware keyed on method and path, so every router added to the app is
covered without opting in: anything not listed as open needs a token once auth is on. Auth is
on when the service listens beyond loopback or when any token was ever created; the local
demo on 127.0.0.1 with no tokens runs open.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from api.responses import send_json
from api.tokens import Scope as TokenScope
from api.tokens import Token, TokenStore

REALM = 'Bearer realm="lineage-graph"'
#: Probes answer without a token; they say nothing about the graph.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
#: Webhooks carry their sender's HMAC signature, checked by their router instead of a token.
OPEN_PREFIXES = ("/webhooks/",)
#: Reads that answer through api/restrict.py, so a token limited to namespaces may use them.
#: Any other read refuses such a token (403) until it is wired: closed by default.
RESTRICTABLE_PREFIXES = ("/graphql", "/metrics", "/healthz", "/readyz", "/api/v1/lineage")
#: The explorer's page and the bundle vite emits beside it (api/static/assets/) hold no data, and a
#: browser cannot send a token when it loads them: they are open to GET; the page asks the person for
#: a token when /graphql refuses it (web/src/signin.ts).
EXPLORER_PATHS = frozenset({"/", "/index.html"})
EXPLORER_PREFIX = "/assets/"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request: a token, or anyone when auth is off."""

    key: str  # names the caller in rate limits and logs: "token-id:<id>" or "addr:<ip>", never a secret
    token: Token | None = None

    @property
    def namespaces(self) -> tuple[str, ...] | None:
        """Return the namespace prefixes the caller may see, None for all."""
        return None if self.token is None else self.token.namespaces


def required_scope(method: str, path: str) -> TokenScope | None:
    """Return the scope a request needs, None when it is open to anyone."""
    if method == "OPTIONS" or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return None
    if method in {"GET", "HEAD"} and (path in EXPLORER_PATHS or path.startswith(EXPLORER_PREFIX)):
        return None
    if path == "/graphql" or path.startswith("/graphql/"):
        return TokenScope.READ  # queries only: GraphQL changes nothing
    if method in {"GET", "HEAD"}:
        return TokenScope.READ  # /metrics too
    if method == "DELETE":
        return TokenScope.ADMIN
    return TokenScope.INGEST  # POST and PUT: OpenLineage, native graph, OTLP traces


def is_loopback(host: str) -> bool:
    """Return whether an address to listen on reaches only this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve anywhere


def bearer(scope: Scope) -> str | None:
    """Return the token of an ``Authorization: Bearer`` header, if there is one."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text: str = value.decode("latin-1")
            kind, _, token = text.partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def client_key(scope: Scope) -> str:
    """Return the caller's address as a rate-limit key."""
    client = scope.get("client")
    return f"addr:{client[0] if client else 'unknown'}"


class AuthMiddleware:
    """Answer 401 without a live token and 403 without the scope; record the principal."""

    def __init__(self, app: ASGIApp, tokens: TokenStore, loopback: bool) -> None:
        self.app = app
        self.tokens = tokens
        self.loopback = loopback

    def enforced(self) -> bool:
        """Return whether requests need tokens now."""
        return not self.loopback or self.tokens.any()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        needed = required_scope(scope["method"], scope["path"])
        principal = Principal(client_key(scope))
        if needed is not None and self.enforced():
            secret = bearer(scope)
            if secret is None:
                await _refuse(send, 401, "authorization: a Bearer token is required", REALM)
                return
            token = self.tokens.lookup(secret)
            if token is None:
                challenge = f'{REALM}, error="invalid_token"'
                await _refuse(send, 401, "authorization: the token is unknown or revoked", challenge)
                return
            if not token.allows(needed):
                challenge = f'{REALM}, error="insufficient_scope", scope="{needed}"'
                await _refuse(send, 403, f"authorization: the token lacks the {needed} scope", challenge)
                return
            if token.namespaces is not None and needed is TokenScope.READ and not _restrictable(scope["path"]):
                challenge = f'{REALM}, error="insufficient_scope"'
                message = (
                    "authorization: a token limited to namespaces cannot read here (it cannot filter by namespace)"
                )
                await _refuse(send, 403, message, challenge)
                return
            principal = Principal(f"token-id:{token.id}", token)
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def _restrictable(path: str) -> bool:
    return path in RESTRICTABLE_PREFIXES or path.startswith("/graphql/")  # GET /api/v1/lineage: Marquez


async def _refuse(send: Send, status: int, message: str, challenge: str) -> None:
    await send_json(send, status, {"error": message}, {"WWW-Authenticate": challenge})
