"""Limits on what a request may carry, checked at the edge before any route runs.

:class:`RequestGuard` is an ASGI middleware in front of the routes (behind authentication: a stranger gets 401
before a byte of the body is read). For a request with a body whose method gives a body a meaning (POST, PUT,
PATCH: :data:`BODY_METHODS`) it

* answers ``413 body_too_large`` when ``Content-Length`` says more than :data:`MAX_BODY_BYTES`, at once, before
  reading the body; a body without a length (chunked) is read up to the limit and refused as soon as it goes over;
* answers ``422 invalid_text`` when a JSON body is not UTF-8, or any string in it (a value or a key, known field or
  not) is not Unicode scalar text (a lone surrogate: JSON can write ``"\\ud800"``, UTF-8 cannot carry it);
* answers ``422 text_too_long`` when any string in a JSON body is longer than :data:`MAX_TEXT_CHARS` characters
  (a reason, a note, a reroute target...);
* otherwise hands the body it read to the app unchanged.

A JSON body that does not parse is ``422 validation_error`` (as the app would say). The body of any other request
(a GET, a HEAD) has no meaning (RFC 9110): no route reads it, so it is neither checked nor refused, and a read answers
only what its OpenAPI entry says. The limits keep
one request from growing the server (a 10 MB note was kept in the audit log, the idempotency store and the event
history, and sent to every console) and keep text that cannot be published out of the simulation.
"""

from __future__ import annotations

import email.message
import json
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.demo.problems import (
    CODE_BODY_TOO_LARGE,
    CODE_INVALID_TEXT,
    CODE_TEXT_TOO_LONG,
    CODE_VALIDATION,
    ApiProblem,
)
from console.demo.text import invalid_text_at, longest_text

MAX_BODY_BYTES = 64 * 1024
"""The largest request body accepted (bytes). A command body is a few hundred bytes; two texts of the maximum
length, each character escaped as ``\\uXXXX\\uXXXX``, stay under it."""
MAX_TEXT_CHARS = 1000
"""The longest string accepted anywhere in a request body (characters, i.e. code points)."""
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
"""The methods whose body is checked (the demo's routes read a body only in POST)."""


def is_json_media_type(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` is one the app parses as JSON (``application/json``, ``application/*+json``)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def body_problem(body: bytes, content_type: str | None, *, max_text_chars: int = MAX_TEXT_CHARS) -> ApiProblem | None:
    """The 422 problem of a JSON body that does not parse or whose text is not acceptable; ``None`` when it is fine
    or not sent as JSON (the app refuses a body of another media type itself)."""
    if not is_json_media_type(content_type):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        return ApiProblem(422, f"the body is not UTF-8 (byte {err.start})", code=CODE_INVALID_TEXT)
    try:
        # The app parses the bytes, which skips one BOM: so do we, or a BOM would hide the body from this check.
        parsed: Any = json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError) as err:
        # Answered here, not left to the app: it would try other encodings (UTF-16) and parse what we did not check.
        if isinstance(err, json.JSONDecodeError):
            reason = f"{err.msg} at {err.pos}"
        else:
            reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        return ApiProblem(422, f"the body is not JSON: {reason}", code=CODE_VALIDATION)
    where = invalid_text_at(parsed)
    if where is not None:
        return ApiProblem(422, f"{where} is not valid Unicode text (a lone surrogate)", code=CODE_INVALID_TEXT)
    longest = longest_text(parsed)
    if longest is not None and longest[0] > max_text_chars:
        return ApiProblem(
            422,
            f"{longest[1]} is {longest[0]} characters long; at most {max_text_chars} are accepted",
            code=CODE_TEXT_TOO_LONG,
            extra={"max_length": max_text_chars},
        )
    return None


class RequestGuard:
    """The ASGI middleware described in the module docstring."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int = MAX_BODY_BYTES, max_text_chars: int = MAX_TEXT_CHARS
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_text_chars = max_text_chars

    def _too_large(self) -> ApiProblem:
        return ApiProblem(
            413,
            f"the request body is larger than {self.max_body_bytes} bytes",
            code=CODE_BODY_TOO_LARGE,
            extra={"max_bytes": self.max_body_bytes},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        declared = int(length) if length is not None and length.strip().isdigit() else None
        if declared is not None and declared > self.max_body_bytes:
            await self._too_large().response()(scope, receive, send)
            return
        if not chunked and not declared:
            await self.app(scope, receive, send)  # no body
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body was complete
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await self._too_large().response()(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        problem = body_problem(bytes(body), headers.get("content-type"), max_text_chars=self.max_text_chars)
        if problem is not None:
            await problem.response()(scope, receive, send)
            return
        await self.app(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the body already read, then passes on to the real one (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
