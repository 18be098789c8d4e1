"""Bearer-token auth and roles for the demo server.

Tokens are given as ``NAME:ROLE:SECRET`` (``alice:operator:s3cret``). With no token the server runs open and every
caller is operator ``demo`` with role ``supervisor`` (the demo must be usable with no setup). With one or more tokens
every request needs ``Authorization: Bearer <SECRET>``, except ``GET /openapi.json``: the contract document is public,
so a client can discover the API before it has a token.

Authentication (401) is an ASGI middleware so it covers every path, unknown ones included; authorisation (403) is
checked by each endpoint, which knows what it does (see :func:`require_role`).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from console.api.models import Role
from console.demo.problems import CODE_FORBIDDEN, CODE_UNAUTHORIZED, ApiProblem

PRINCIPAL_SCOPE_KEY = "factory_console.principal"
PUBLIC_PATHS = frozenset({"/openapi.json"})
ROLE_RANK: dict[str, int] = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.SUPERVISOR: 2}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the operator name (written into audit entries) and the role."""

    operator: str
    role: str


OPEN_PRINCIPAL = Principal("demo", Role.SUPERVISOR)
"""The caller when the server runs without tokens."""


def parse_token(spec: str) -> tuple[str, str, str]:
    """Parse ``NAME:ROLE:SECRET`` into its parts. The secret may itself contain ``:``.

    Raises ``ValueError`` with a message fit for a command-line error.
    """
    parts = spec.split(":", 2)
    if len(parts) != 3:
        raise ValueError(f"token {spec!r} is not NAME:ROLE:SECRET")
    name, role, secret = (p.strip() for p in parts)
    if not name:
        raise ValueError("token has an empty NAME (expected NAME:ROLE:SECRET)")
    if role not in ROLE_RANK:
        raise ValueError(f"token for {name!r} has role {role!r}; expected one of viewer, operator, supervisor")
    if not secret:
        raise ValueError(f"token for {name!r} has an empty SECRET")
    return name, role, secret


class TokenTable:
    """The known secrets and whom they stand for; empty means the server runs open."""

    def __init__(self, tokens: Iterable[str | tuple[str, str, str]] = ()) -> None:
        self._by_secret: dict[str, Principal] = {}
        for spec in tokens:
            name, role, secret = parse_token(spec) if isinstance(spec, str) else spec
            if role not in ROLE_RANK:
                raise ValueError(f"unknown role {role!r}")
            if secret in self._by_secret:
                raise ValueError(f"two tokens share the secret of {name!r}")
            self._by_secret[secret] = Principal(name, role)

    @property
    def open(self) -> bool:
        return not self._by_secret

    def lookup(self, secret: str) -> Principal | None:
        """The principal of a secret, compared in constant time against every known secret."""
        found: Principal | None = None
        for known, principal in self._by_secret.items():
            if hmac.compare_digest(known.encode(), secret.encode()):
                found = principal
        return found


class AuthMiddleware:
    """Puts the caller's :class:`Principal` into the scope, or answers 401 with ``WWW-Authenticate: Bearer``."""

    def __init__(self, app: ASGIApp, tokens: TokenTable) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.tokens.open:
            scope[PRINCIPAL_SCOPE_KEY] = OPEN_PRINCIPAL
            await self.app(scope, receive, send)
            return
        if scope.get("path") in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        header = HTTPConnection(scope).headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        principal = self.tokens.lookup(secret.strip()) if scheme.lower() == "bearer" and secret.strip() else None
        if principal is None:
            detail = "a bearer token is required" if not header else "the bearer token is not known"
            problem = ApiProblem(
                401,
                detail,
                code=CODE_UNAUTHORIZED,
                headers={"WWW-Authenticate": 'Bearer realm="factory-console"'},
            )
            await problem.response()(scope, receive, send)
            return
        scope[PRINCIPAL_SCOPE_KEY] = principal
        await self.app(scope, receive, send)


def principal_of(conn: HTTPConnection) -> Principal:
    """The caller of a request that went through :class:`AuthMiddleware`."""
    principal = conn.scope.get(PRINCIPAL_SCOPE_KEY)
    if principal is None:  # a public path under auth: nobody in particular
        return Principal("anonymous", "")
    return principal


def require_role(principal: Principal, needed: str, what: str) -> None:
    """Raise a 403 problem unless ``principal`` has at least the role ``needed`` (viewer < operator < supervisor)."""
    if ROLE_RANK.get(principal.role, -1) < ROLE_RANK[needed]:
        raise ApiProblem(
            403,
            f"{principal.operator} has role {principal.role or 'none'}; {what} needs {needed}",
            code=CODE_FORBIDDEN,
        )
