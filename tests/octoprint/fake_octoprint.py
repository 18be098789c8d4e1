"""A scripted stand-in for OctoPrint's REST API (``httpx.MockTransport``), for fast tests of the source's logic.

The real server is exercised by ``test_octoprint_live.py``; this one lets a test set any state at once.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.octoprint import fixtures


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
            if self.printer is None:
                return httpx.Response(409, json={"error": "Printer is not operational"})
            return httpx.Response(200, json=self.printer)
        if request.method == "GET" and path == "/api/job":
            return httpx.Response(200, json=self.job)
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
