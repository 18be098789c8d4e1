"""Who is at a browser of ``serve-web``: a login with a token, a session cookie, and the role the token stands for.

The token is typed into a form and POSTed once; from then on the browser holds only a random session id in an
``HttpOnly``, ``SameSite=Strict`` cookie (``Secure`` behind TLS). So the token is never in a URL (no query string,
nothing to land in a proxy's access log or the browser's history), never in a page (the login page is a constant; no
server text is put into it), and never handed to a console process: the console learns only the role, as a flag.

Pure: no aiohttp here, so the rules are tested without a server (``tests/web/test_web_auth.py``). The tokens are the
demo server's format and table (:mod:`console.tokens`): ``NAME:ROLE:SECRET``, compared in constant time.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from console.tokens import ROLE_RANK, TokenTable

COOKIE_NAME = "factory_console_session"
SESSION_TTL_S = 12 * 3600.0
"""A login lasts a long shift; then the browser is asked for the token again."""
MAX_SESSIONS = 1000
"""Sessions kept at most; the oldest goes first (a flood of logins cannot grow the server without bound)."""
MAX_TOKEN_CHARS = 4096
"""A longer token is refused before it is compared with anything."""


@dataclass(frozen=True, slots=True)
class WebSession:
    """One logged-in browser: who (the token's NAME, for the server's log), the role, and when it ends."""

    operator: str
    role: str
    expires_at: float


class Sessions:
    """The logged-in browsers, by a random session id; ``tokens`` empty means nobody needs to log in.

    With no tokens (allowed only on loopback, :func:`console.serve_web.refusal`) every browser is ``open_role``.
    """

    def __init__(
        self,
        tokens: TokenTable,
        *,
        open_role: str = "viewer",
        ttl_s: float = SESSION_TTL_S,
        max_sessions: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if open_role not in ROLE_RANK:
            raise ValueError(f"unknown role {open_role!r}")
        self._tokens = tokens
        self._open = WebSession("local", open_role, float("inf"))
        self._ttl_s = ttl_s
        self._max = max_sessions
        self._clock = clock
        self._by_id: OrderedDict[str, WebSession] = OrderedDict()

    @property
    def login_required(self) -> bool:
        return not self._tokens.open

    def login(self, secret: str) -> tuple[str, WebSession] | None:
        """A new session id and its session for a known token, else ``None`` (the caller says only "not known")."""
        secret = secret.strip()
        if not secret or len(secret) > MAX_TOKEN_CHARS:
            return None
        principal = self._tokens.lookup(secret)
        if principal is None:
            return None
        session_id = secrets.token_urlsafe(32)
        self._by_id[session_id] = WebSession(principal.operator, principal.role, self._clock() + self._ttl_s)
        while len(self._by_id) > self._max:
            self._by_id.popitem(last=False)
        return session_id, self._by_id[session_id]

    def get(self, session_id: str | None) -> WebSession | None:
        """The live session of a cookie's value (or the open session when nobody needs to log in)."""
        if not self.login_required:
            return self._open
        if not session_id or len(session_id) > 100:
            return None
        session = self._by_id.get(session_id)
        if session is None:
            return None
        if self._clock() >= session.expires_at:
            del self._by_id[session_id]
            return None
        return session

    def logout(self, session_id: str | None) -> None:
        if session_id:
            self._by_id.pop(session_id, None)


def cookie_attributes(secure: bool, max_age_s: float = SESSION_TTL_S) -> dict[str, str | bool | int]:
    """The session cookie's attributes: never readable by a script, never sent cross-site, ``Secure`` behind TLS."""
    return {"httponly": True, "samesite": "Strict", "secure": secure, "path": "/", "max_age": int(max_age_s)}


LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>factory-console: log in</title>
<style>
body { background: #0c181f; color: #e6e6e6; font-family: monospace; display: flex; justify-content: center; }
form { margin-top: 15vh; padding: 2em; background: #12232d; min-width: 22em; }
input, button { font: inherit; padding: 0.4em; margin-top: 0.6em; width: 100%; box-sizing: border-box; }
.message { color: #ffb000; min-height: 1.4em; }
</style>
</head>
<body>
<form method="post" action="login" autocomplete="off">
<h1>factory-console</h1>
<p class="message">{message}</p>
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" autofocus required>
<button type="submit">Log in</button>
</form>
</body>
</html>
"""
"""The login page: a constant but for one of :data:`LOGIN_MESSAGES` (never text from the request)."""

LOGIN_MESSAGES = {
    "": "",
    "failed": "That token is not known.",
    "expired": "Your session has ended; log in again.",
}


def login_page(message: str = "") -> str:
    """The login page with one of our own messages (``failed``, ``expired``), chosen by key."""
    return LOGIN_PAGE.replace("{message}", LOGIN_MESSAGES.get(message, ""))
