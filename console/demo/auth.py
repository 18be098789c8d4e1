"""Bearer-token auth and roles for the demo server.

Tokens are given as ``NAME:ROLE:SECRET`` (``alice:operator:s3cret``): in a token file (:func:`read_token_file`),
in the environment (:data:`TOKENS_ENV`), or on the command line (visible to other users in ``ps``). With no token
the server runs open and every caller is operator ``demo`` with role ``supervisor`` (the demo must be usable with no
setup). With one or more tokens every request needs ``Authorization: Bearer <SECRET>``, except ``GET /openapi.json``:
the contract document is public, so a client can discover the API before it has a token.

Authentication (401) is an ASGI middleware so it covers every path, unknown ones included; authorisation (403) is
checked by each endpoint, which knows what it does (see :func:`require_role`).
"""

from __future__ import annotations

import hmac
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from console.api.models import Role
from console.demo.problems import CODE_FORBIDDEN, CODE_UNAUTHORIZED, ApiProblem
from console.demo.text import is_scalar_text

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


def parse_token(spec: str, *, echo: bool = True) -> tuple[str, str, str]:
    """Parse ``NAME:ROLE:SECRET`` into its parts. The secret may itself contain ``:``.

    Raises ``ValueError`` with a message fit for a command-line error; with ``echo=False`` the message never quotes
    the spec (it holds a secret that was not on the command line).
    """
    parts = spec.split(":", 2)
    if len(parts) != 3:
        raise ValueError(f"token {spec!r} is not NAME:ROLE:SECRET" if echo else "a token is not NAME:ROLE:SECRET")
    if not is_scalar_text(spec):
        # A command line or file that is not UTF-8 gives lone surrogates (surrogateescape): the name would go into
        # every audit entry of that operator, and text that cannot be encoded cannot be published.
        raise ValueError("a token is not valid UTF-8 text")
    name, role, secret = (p.strip() for p in parts)
    if not name:
        raise ValueError("token has an empty NAME (expected NAME:ROLE:SECRET)")
    if role not in ROLE_RANK:
        raise ValueError(f"token for {name!r} has role {role!r}; expected one of viewer, operator, supervisor")
    if not secret:
        raise ValueError(f"token for {name!r} has an empty SECRET")
    return name, role, secret


TOKENS_ENV = "FACTORY_DEMO_TOKENS"
"""The environment variable that may hold the demo server's tokens: ``NAME:ROLE:SECRET`` separated by commas or
newlines (so a secret given there cannot contain a comma)."""


def tokens_from_text(text: str, *, separators: str = "\n", where: str = "") -> list[tuple[str, str, str]]:
    """The tokens of a token file (``separators`` newline) or of :data:`TOKENS_ENV` (commas and newlines): one
    ``NAME:ROLE:SECRET`` per entry; blank entries and entries starting with ``#`` are skipped. Errors name the entry
    by its number, never by its text."""
    entries = [text]
    for sep in separators:
        entries = [part for entry in entries for part in entry.split(sep)]
    tokens = []
    for number, entry in enumerate(entries, start=1):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        try:
            tokens.append(parse_token(entry, echo=False))
        except ValueError as error:
            what = "line" if separators == "\n" else "entry"
            raise ValueError(f"{where}{what} {number}: {error}") from None
    return tokens


def read_token_file(path: str | os.PathLike[str]) -> list[tuple[str, str, str]]:
    """The tokens of a file with one ``NAME:ROLE:SECRET`` per line (``#`` starts a comment line).

    Like ssh with a private key, refuses a file that group or others may read or write (``chmod 600`` it): its
    secrets would not be secret. Raises ``ValueError`` with a one-line message.
    """
    try:
        if os.name == "posix":
            mode = os.stat(path).st_mode
            if mode & 0o077:
                raise ValueError(
                    f"{os.fspath(path)}: the token file is accessible by group or others "
                    f"(mode {stat.S_IMODE(mode):04o}); run chmod 600 {os.fspath(path)}"
                )
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise ValueError(f"{os.fspath(path)}: cannot read the token file: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{os.fspath(path)}: the token file is not UTF-8 text") from None
    return tokens_from_text(text, where=f"{os.fspath(path)}: ")


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
