"""Bearer tokens as ``NAME:ROLE:SECRET`` and the roles they stand for, shared by the demo server and ``serve-web``.

Parsing, the token file (refused when group or others can read it, like an ssh key) and a lookup in constant time:
kept apart from the demo's ASGI middleware so that ``serve-web`` checks its logins the same way without importing
the demo's server stack. Error messages name an entry by its number, never by its text (it holds a secret).
"""

from __future__ import annotations

import hmac
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from console.api.models import Role
from console.demo.text import is_scalar_text

ROLE_RANK: dict[str, int] = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.SUPERVISOR: 2}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the operator name (written into audit entries) and the role."""

    operator: str
    role: str


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
