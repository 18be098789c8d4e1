"""Talking HTTP to one OctoPrint server: the API key, the kinds of request the source makes, and errors.

The poller (``GET``), the commands (``POST /api/job``) and the push socket's login (``POST /api/login``, passive,
which trades the API key for a session key: :mod:`.push`) go through :class:`PrinterRest`, so the key is put on
requests in one place (and only as the ``X-Api-Key`` header, never in a URL, a log line or an error), and OctoPrint's
error answers become the same typed problems (:mod:`console.api.errors`) a contract server's would.

Why a ``POST`` tells "not sent" from "sent, no answer": the command service retries the first freely, but the second
may have paused the printer already, so it must say so (:class:`~console.api.errors.AnswerLost`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx

from console.api.errors import (
    AnswerLost,
    ApiError,
    ConnectionFailed,
    ProtocolError,
    error_for_status,
    problem_from_body,
)
from console.api.transport import safe_url
from console.sources.octoprint.mapping import clean_text

__all__ = ["API_KEY_ENV", "PrinterRest", "resolve_api_key"]

API_KEY_ENV = "OCTOPRINT_API_KEY"

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
"""Failures that happen before a request leaves: a command that failed so was certainly not carried out."""


def resolve_api_key(
    name: str, per_printer: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The API key of one printer: its own from the config if given, else ``OCTOPRINT_API_KEY``, else ``None``."""
    if per_printer and per_printer.get(name):
        return per_printer[name]
    env = environ if environ is not None else os.environ
    return env.get(API_KEY_ENV) or None


class PrinterRest:
    """One OctoPrint server's base URL, key and HTTP client (made here unless the caller passes one)."""

    def __init__(
        self, url: str, api_key: str | None, *, timeout: float = 5.0, http_client: httpx.AsyncClient | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.display_url = safe_url(self.url)
        """The URL as shown to the operator (no user info)."""
        self.timeout = timeout
        self._headers = {"Accept": "application/json", "User-Agent": "factory-console"}
        if api_key:
            self._headers["X-Api-Key"] = api_key
        self._own_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        """Close the HTTP client if it was made here (one passed in belongs to the caller)."""
        if self._own_http:
            await self._http.aclose()

    async def get(self, path: str, *, none_on_409: bool = False) -> Any:
        """``GET path`` as parsed JSON. ``None`` for a 409 when ``none_on_409`` (``/api/printer`` with the port
        closed). Raises ``ConnectionFailed`` when unreachable, a typed ``ApiError`` for an error answer, and
        ``ProtocolError`` for an answer that is not JSON."""
        try:
            response = await self._http.get(self.url + path, headers=self._headers, timeout=self.timeout)
        except httpx.HTTPError as error:
            raise ConnectionFailed(f"cannot reach {self.display_url}: {type(error).__name__}") from None
        if response.status_code == 409 and none_on_409:
            return None
        if response.status_code >= 400:
            raise self.error(response)
        try:
            return response.json()
        except ValueError:
            raise ProtocolError(f"GET {path}: the answer is not JSON") from None

    async def login(self) -> tuple[str, str]:
        """``POST /api/login {"passive": true}`` with the API key: the key's user name and a session key, which
        authenticate the push socket (``{"auth": "<name>:<session>"}``). Raises what :meth:`get` raises, and
        ``ProtocolError`` when the answer has no user name or session (an anonymous answer: the key has no user)."""
        try:
            response = await self._http.post(
                self.url + "/api/login", json={"passive": True}, headers=self._headers, timeout=self.timeout
            )
        except httpx.HTTPError as error:
            raise ConnectionFailed(f"cannot reach {self.display_url}: {type(error).__name__}") from None
        if response.status_code >= 400:
            raise self.error(response)
        try:
            body: Any = response.json()
        except ValueError:
            raise ProtocolError("POST /api/login: the answer is not JSON") from None
        name = body.get("name") if isinstance(body, Mapping) else None
        session = body.get("session") if isinstance(body, Mapping) else None
        if not isinstance(name, str) or not isinstance(session, str) or not name or not session or ":" in session:
            raise ProtocolError("POST /api/login: no user session in the answer")
        return name, session

    async def post_job(self, payload: Mapping[str, str], *, target: str) -> None:
        """``POST /api/job`` with ``payload``. Raises ``ConnectionFailed`` when it was certainly not sent,
        ``AnswerLost`` when it was sent but not answered, and a typed ``ApiError`` when OctoPrint refused it (a 409,
        "not printing", is ``invalid_state`` with OctoPrint's own message)."""
        if self._http.is_closed:
            raise ConnectionFailed(f"the OctoPrint source of {target} has stopped; the command was not sent")
        try:
            response = await self._http.post(
                self.url + "/api/job", json=dict(payload), headers=self._headers, timeout=self.timeout
            )
        except _NOT_SENT as error:
            raise ConnectionFailed(
                f"cannot connect to {self.display_url}: {type(error).__name__}; the command was not sent"
            ) from None
        except httpx.HTTPError as error:
            raise AnswerLost(
                f"POST /api/job to {self.display_url}: no answer ({type(error).__name__}); it may or may not have "
                "taken effect"
            ) from None
        if response.status_code >= 400:
            raise self.error(response, code="invalid_state" if response.status_code == 409 else None)

    def error(self, response: httpx.Response, code: str | None = None) -> ApiError:
        """An OctoPrint error answer (``{"error": "..."}``, or HTML) as a typed problem; its text stays data."""
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        if isinstance(body, Mapping) and "error" in body and "title" not in body:
            problem = problem_from_body(response.status_code, {"detail": clean_text(body.get("error"))})
        else:
            problem = problem_from_body(response.status_code, body)
        if code is not None and problem.code is None:
            problem = problem.model_copy(update={"code": code})
        return error_for_status(response.status_code, problem)
