"""Bearer-token auth and roles for the demo server.

Tokens are given as ``NAME:ROLE:SECRET`` (``alice:operator:s3cret``): in a token file (:func:`read_token_file`),
in the environment (:data:`TOKENS_ENV`), or on the command line (visible to other users in ``ps``). With no token
the server runs open and every caller is operator ``demo`` with role ``supervisor`` (the demo must be usable with no
setup). With one or more tokens every request needs ``Authorization: Bearer <SECRET>``, except ``GET /openapi.json``:
the contract document is public, so a client can discover the API before it has a token.

The tokens themselves (parsing, the token file, the constant-time table) live in :mod:`console.tokens`, shared with
``serve-web``; they are re-exported here. Authentication (401) is an ASGI middleware so it covers every path, unknown
ones included; authorisation (403) is checked by each endpoint, which knows what it does (see :func:`require_role`).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from console.api.models import Role
from console.demo.problems import CODE_FORBIDDEN, CODE_UNAUTHORIZED, ApiProblem
from console.tokens import ROLE_RANK, Principal, TokenTable, parse_token, read_token_file, tokens_from_text

__all__ = [
    "OPEN_PRINCIPAL",
    "ROLE_RANK",
    "TOKENS_ENV",
    "AuthMiddleware",
    "Principal",
    "TokenTable",
    "parse_token",
    "principal_of",
    "read_token_file",
    "require_role",
    "tokens_from_text",
]

PRINCIPAL_SCOPE_KEY = "factory_console.principal"
PUBLIC_PATHS = frozenset({"/openapi.json"})
OPEN_PRINCIPAL = Principal("demo", Role.SUPERVISOR)
"""The caller when the server runs without tokens."""


TOKENS_ENV = "FACTORY_DEMO_TOKENS"
"""The environment variable that may hold the demo server's tokens: ``NAME:ROLE:SECRET`` separated by commas or
newlines (so a secret given there cannot contain a comma)."""


class AuthMiddleware:
    """Puts the caller's :class:`Principal` into the scope, or answers 401 with ``WWW-Authenticate: Bearer``."""

    def __init__(self, app: ASGIApp, tokens: TokenTable | Callable[[], TokenTable]) -> None:
        self.app = app
        self._tokens = tokens

    @property
    def tokens(self) -> TokenTable:
        """The table of the server being served (a callable gives it per request: servers share one app)."""
        return self._tokens if isinstance(self._tokens, TokenTable) else self._tokens()

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
    assert isinstance(principal, Principal)
    return principal


def require_role(principal: Principal, needed: str, what: str) -> None:
    """Raise a 403 problem unless ``principal`` has at least the role ``needed`` (viewer < operator < supervisor)."""
    if ROLE_RANK.get(principal.role, -1) < ROLE_RANK[needed]:
        raise ApiProblem(
            403,
            f"{principal.operator} has role {principal.role or 'none'}; {what} needs {needed}",
            code=CODE_FORBIDDEN,
        )
