"""Start a real Moonraker on 127.0.0.1 with the Klipper stand-in behind it, for the integration tests.

The data path (``config/``, ``gcodes/``, ``logs/``, ``database/``) is laid out in a temporary folder and
``config/moonraker.conf`` written before the start:

* ``[server]``: ``host: 127.0.0.1``, a free ``port``, ``klippy_uds_address`` in the data path (the stand-in's socket);
* ``[authorization]``: loopback (``127.0.0.0/8``) as a trusted client, so no login is needed (the API key, which
  Moonraker makes at its first start, is read back for the tests that use one);
* ``[job_queue]``: no loading on start-up, no automatic transition (the tests start jobs themselves);
* ``[machine]``: ``provider: none`` (no systemd, no D-Bus), no validation of a service or a config;
* ``[announcements]``: ``enable_moonlight: False`` (no feeds fetched from the internet).

:class:`MoonrakerServer` can be stopped and started again on the same port and data path (a Moonraker restart).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MoonrakerServer", "free_port", "start_moonraker", "write_config"]

START_TIMEOUT = 60.0

CONFIG = """\
[server]
host: 127.0.0.1
port: {port}
klippy_uds_address: {socket}

[authorization]
trusted_clients:
    127.0.0.0/8
cors_domains:
    *

[job_queue]
load_on_startup: False
automatic_transition: False

[machine]
provider: none
validate_service: False
validate_config: False

[announcements]
enable_moonlight: False

[file_manager]
enable_object_processing: False
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(data: Path, port: int, klippy_socket: Path) -> Path:
    for folder in ("config", "gcodes", "logs", "database"):
        (data / folder).mkdir(parents=True, exist_ok=True)
    config = data / "config" / "moonraker.conf"
    config.write_text(CONFIG.format(port=port, socket=klippy_socket))
    return config


@dataclass
class MoonrakerServer:
    """A Moonraker process: ``url``, and blocking helpers that talk to it over HTTP with the standard library (so
    the tests check Moonraker's own view, not the console's)."""

    python: Path
    data: Path
    port: int
    klippy_socket: Path
    process: subprocess.Popen[bytes] | None = None
    started_in: float = 0.0
    _log: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def gcodes(self) -> Path:
        return self.data / "gcodes"

    @property
    def log_path(self) -> Path:
        return self.data / "logs" / "serve.log"

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
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
        return body["result"]

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        status, answer = self.request("POST", path, body or {})
        if status != 200:
            raise AssertionError(f"POST {path}: {status} {answer!r}")
        return answer["result"]

    def klippy_state(self) -> str:
        return str(self.get("/server/info")["klippy_state"])

    def wait_for(self, predicate: Any, what: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, AssertionError):
                last = predicate()
                if last:
                    return last
            time.sleep(0.05)
        raise AssertionError(f"Moonraker: timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")

    def wait_klippy(self, state: str = "ready", timeout: float = 20.0) -> None:
        self.wait_for(lambda: self.klippy_state() == state, f"Klipper {state}", timeout)

    def api_key(self) -> str:
        return str(self.get("/access/api_key"))

    def log_tail(self, lines: int = 40) -> str:
        tails = []
        for path in (self.log_path, self.data / "logs" / "moonraker.log"):
            with contextlib.suppress(OSError):
                tails.append("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(tails)

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start ``python -m moonraker`` and wait until it answers ``/server/info``."""
        config = write_config(self.data, self.port, self.klippy_socket)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed by stop()
        args = [str(self.python), "-m", "moonraker", "-d", str(self.data), "-c", str(config)]
        args += ["-l", str(self.data / "logs" / "moonraker.log")]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOONRAKER_")}
        started = time.monotonic()
        self.process = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        deadline = started + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"moonraker exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AssertionError):
                self.get("/server/info")
                break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Moonraker not up after {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.1)
        self.started_in = time.monotonic() - started

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        self.stop()
        self.start()


def start_moonraker(python: Path, data: Path, klippy_socket: Path) -> MoonrakerServer:
    """A Moonraker on a free loopback port, up and answering (Klipper may still be connecting)."""
    server = MoonrakerServer(python, data, free_port(), klippy_socket)
    server.start()
    return server
