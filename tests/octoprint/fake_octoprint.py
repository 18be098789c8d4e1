"""A scripted stand-in for OctoPrint's REST API (``httpx.MockTransport``) and its push socket (:class:`FakeSocket`),
for fast tests of the source's logic.

The real server is exercised by ``test_octoprint_live.py``; this one lets a test set any state at once.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from console.sources.octoprint.push_socket import PushClosed, PushUnavailable
from tests.octoprint import fixtures


class FakeSocket:
    """One push socket: what the source sent (``sent``, parsed) and a queue of frames for it to receive. Like
    OctoPrint, it sends ``connected`` at once and a ``history`` when a valid ``auth`` arrives (when ``status``)."""

    def __init__(self, server: FakeOctoPrint) -> None:
        self.server = server
        self.inbox: asyncio.Queue[str | bytes | PushClosed] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.closed = False
        self.frame({"connected": {"version": "1.11.8", "display_version": "1.11.8"}})

    def frame(self, message: dict[str, Any] | str | bytes) -> None:
        """Queue a frame (a dict is sent as JSON, a string or bytes as it is)."""
        self.inbox.put_nowait(json.dumps(message) if isinstance(message, dict) else message)

    def drop(self, reason: str = "the connection was lost", *, oversized: bool = False) -> None:
        self.inbox.put_nowait(PushClosed(reason, oversized=oversized))

    async def send(self, message: str) -> None:
        if self.closed:
            raise PushClosed("closed")
        body = json.loads(message)
        self.sent.append(body)
        auth = body.get("auth")
        if auth is not None and auth != f"admin:{self.server.session}":
            self.frame({"reauthRequired": {"reason": "stale"}})
        elif auth is not None and self.server.status:
            self.frame({"history": self.server.current_payload()})

    async def recv(self) -> str | bytes:
        item = await self.inbox.get()
        if isinstance(item, PushClosed):
            self.closed = True
            raise item
        return item

    async def close(self) -> None:
        self.closed = True


class FakeOctoPrint:
    """``printer`` (``None``: answer 409 as OctoPrint does while the port is closed), ``job``, and the answer to the
    next ``POST /api/job``; every request is recorded in ``requests`` and every job command in ``job_commands``."""

    def __init__(self, api_key: str = "KEY") -> None:
        self.api_key = api_key
        self.printer: dict[str, Any] | None = fixtures.printer("Operational")
        self.job: dict[str, Any] = fixtures.JOB_NONE
        self.job_command_status = 204
        self.job_command_error = ""
        self.down = False
        self.profiles_forbidden = False
        self.requests: list[tuple[str, str]] = []
        self.job_commands: list[dict[str, Any]] = []
        self.strict = False
        """Answer ``/api/printer`` with 409 whenever the printer is not operational, as OctoPrint does (by default
        only when ``printer`` is ``None``)."""
        self.login_enabled = False
        """Answer ``POST /api/login`` (a 404 otherwise, as if there were no push API: the source polls)."""
        self.session = "S1"
        self.status = True
        """Whether the socket's user may see the state (a ``history`` after the login)."""
        self.socket_refused = False
        self.sockets: list[FakeSocket] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport())

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append((request.method, path))
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.headers.get("X-Api-Key") != self.api_key:
            return httpx.Response(
                403, json={"error": "You don't have the permission to access the requested resource."}
            )
        if request.method == "GET" and path == "/api/version":
            return httpx.Response(200, json=fixtures.VERSION)
        if request.method == "GET" and path == "/api/printerprofiles":
            if self.profiles_forbidden:
                return httpx.Response(403, json={"error": "no Connection permission"})
            return httpx.Response(200, json=fixtures.PROFILES)
        if request.method == "GET" and path == "/api/printer":
            operational = self.printer is not None and self.printer["state"]["flags"].get("operational") is True
            if self.printer is None or (self.strict and not operational):
                return httpx.Response(409, json={"error": "Printer is not operational"})
            return httpx.Response(200, json=self.printer)
        if request.method == "GET" and path == "/api/job":
            return httpx.Response(200, json=self.job)
        if request.method == "POST" and path == "/api/login" and self.login_enabled:
            return httpx.Response(200, json={"name": "admin", "session": self.session, "active": True})
        if request.method == "POST" and path == "/api/job":
            self.job_commands.append(json.loads(request.content))
            if self.job_command_status >= 400:
                return httpx.Response(self.job_command_status, json={"error": self.job_command_error})
            return httpx.Response(self.job_command_status)
        return httpx.Response(404, text="<html>Not found</html>")

    def set(self, state: str, job: dict[str, Any] | None = None, temperature: dict[str, Any] | None = None) -> None:
        self.printer = fixtures.printer(state, temperature)
        if job is not None:
            self.job = job

    # --- the push socket ------------------------------------------------------------------------------------------

    async def open_socket(self, url: str) -> FakeSocket:
        """The source's ``push_opener``: a new :class:`FakeSocket` (or refused, like a 404)."""
        self.requests.append(("WS", url))
        if self.socket_refused or self.down:
            raise PushUnavailable("the socket was refused (HTTP 404)")
        socket = FakeSocket(self)
        self.sockets.append(socket)
        return socket

    @property
    def socket(self) -> FakeSocket:
        return self.sockets[-1]

    def current_payload(self) -> dict[str, Any]:
        """The state as OctoPrint pushes it: the state object of ``/api/printer`` (or, with the port closed, one
        made from ``/api/job``'s text), ``/api/job``'s job and progress, the temperatures as a one-entry list."""
        if self.printer is not None:
            state = self.printer["state"]
            temperature = {k: v for k, v in self.printer["temperature"].items() if k != "history"}
        else:
            text = self.job["state"]
            state = {"text": text, "flags": fixtures.flags("closedOrError"), "error": self.job.get("error", "")}
            temperature = {}
        temps = [{"time": int(time.time()), **temperature}] if temperature else []
        return {
            "state": state,
            "job": self.job["job"],
            "progress": self.job["progress"],
            "currentZ": None,
            "offsets": {},
            "temps": temps,
            "logs": [],
            "messages": [],
            "busyFiles": [],
            "markings": [],
        }

    def push_current(self) -> None:
        """Push the current state on the open socket."""
        self.socket.frame({"current": self.current_payload()})
