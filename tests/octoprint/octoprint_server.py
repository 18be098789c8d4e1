"""Start a real OctoPrint server with its virtual printer on 127.0.0.1, for the integration tests.

The base directory is written before the first start so OctoPrint skips its set-up wizard and needs no login:

* ``config.yaml``: ``server.firstRun: false``; ``serial.port: VIRTUAL`` with ``autoconnect``; the virtual printer
  plugin enabled (with its simulated resend errors off, so prints run at a steady pace); plugins that call the
  internet (software update, announcements, tracking, discovery, error tracking) disabled.
* ``users.yaml``: one admin user with a known API key (the per-user ``apikey`` field; OctoPrint 1.11 has no global
  API key any more). The password hash is a valid PBKDF2 one (passlib's format), though the tests never log in.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["OctoPrintServer", "free_port", "start_octoprint", "write_basedir"]

START_TIMEOUT = 120.0

CONFIG_YAML = """\
server:
  firstRun: false
  onlineCheck:
    enabled: false
  pluginBlacklist:
    enabled: false
serial:
  port: VIRTUAL
  baudrate: 0
  autoconnect: true
accessControl:
  enabled: true
plugins:
  _disabled:
    - tracking
    - softwareupdate
    - announcements
    - achievements
    - errortracking
    - discovery
  virtual_printer:
    enabled: true
    simulated_errors: []
    resend_ratio: 0
    throttle: 0.01
"""


def _ab64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=").replace("+", ".")


def pbkdf2_hash(password: str) -> str:
    """A passlib ``pbkdf2_sha256`` hash (OctoPrint's fallback hasher), made with the standard library."""
    salt, rounds = secrets.token_bytes(16), 29000
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return f"$pbkdf2-sha256${rounds}${_ab64(salt)}${_ab64(digest)}"


def write_basedir(basedir: Path, api_key: str, *, user: str = "admin") -> None:
    basedir.mkdir(parents=True, exist_ok=True)
    (basedir / "config.yaml").write_text(CONFIG_YAML)
    users = {
        "_version": 2,
        user: {
            "password": pbkdf2_hash(secrets.token_hex(8)),
            "active": True,
            "groups": ["admins", "users"],
            "permissions": [],
            "apikey": api_key,
            "settings": {},
        },
    }
    (basedir / "users.yaml").write_text(json.dumps(users, indent=2))  # JSON is YAML


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OctoPrintServer:
    """A running OctoPrint: ``url``, ``api_key``, and blocking helpers that talk to it with the standard library
    (so the tests check OctoPrint's own view, not the console's)."""

    url: str
    api_key: str
    basedir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    started_in: float = 0.0
    _log: Any = field(default=None, repr=False)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("X-Api-Key", self.api_key)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, raw.decode(errors="replace")

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        if status != 200:
            raise AssertionError(f"GET {path}: {status} {body!r}")
        return body

    def job_state(self) -> str:
        return str(self.get("/api/job")["state"])

    def wait_for(self, predicate: Any, what: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(0.1)
        raise AssertionError(f"OctoPrint: timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")

    def wait_operational(self, timeout: float = 30.0) -> None:
        def operational() -> bool:
            status, body = self.request("GET", "/api/connection")
            return status == 200 and body["current"]["state"] == "Operational"

        self.wait_for(operational, "the virtual printer to be Operational", timeout)

    def connect(self) -> None:
        status, body = self.request("POST", "/api/connection", {"command": "connect"})
        if status != 204:
            raise AssertionError(f"connect: {status} {body!r}")
        self.wait_operational()

    def upload(self, name: str, gcode: str, *, start: bool) -> None:
        """``POST /api/files/local`` (multipart), with ``print=true`` to select and start it at once."""
        boundary = "----factoryconsole" + secrets.token_hex(8)
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n" + gcode + "\r\n",
            f'--{boundary}\r\nContent-Disposition: form-data; name="print"\r\n\r\n{"true" if start else "false"}\r\n',
            f"--{boundary}--\r\n",
        ]
        request = urllib.request.Request(self.url + "/api/files/local", data="".join(parts).encode(), method="POST")
        request.add_header("X-Api-Key", self.api_key)
        request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status != 201:
                raise AssertionError(f"upload {name}: {response.status}")

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._log is not None:
            self._log.close()


def start_octoprint(octoprint: Path, basedir: Path, *, timeout: float = START_TIMEOUT) -> OctoPrintServer:
    """Start ``octoprint serve`` on a free loopback port and wait until its printer is Operational."""
    api_key = secrets.token_hex(16).upper()
    write_basedir(basedir, api_key)
    port = free_port()
    log_path = basedir / "serve.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by OctoPrintServer.stop
    args = [
        str(octoprint),
        "serve",
        "--iknowwhatimdoing",  # OctoPrint refuses to run as root without it (CI containers do)
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--basedir",
        str(basedir),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOPRINT_")}
    started = time.monotonic()
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    server = OctoPrintServer(f"http://127.0.0.1:{port}", api_key, basedir, process, log_path, _log=log)
    try:
        deadline = started + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"octoprint serve exited with {process.returncode}:\n{server.log_tail()}")
            # While it starts, OctoPrint may refuse, or answer oddly (a bare "Not found" line): keep asking.
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError, http.client.HTTPException):
                status, body = server.request("GET", "/api/connection")
                if status == 200 and body["current"]["state"] == "Operational":
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"OctoPrint not ready after {timeout:.0f} s:\n{server.log_tail()}")
            time.sleep(0.2)
    except BaseException:
        server.stop()
        raise
    server.started_in = time.monotonic() - started
    return server
