"""The simulator as a separate process (``factory-console demo-server``) and the console's command line.

Why a separate process: the live, idle, start and bytes benchmarks measure the console's own CPU; the simulator of a
20,000-machine cluster is busy too, and must not be counted in (or steal the loop of) the process being measured.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import httpx

from benchmarks.harness import REPO, cpu_seconds

__all__ = ["DemoServerProcess", "console_argv", "free_port"]

MACHINE_TILE = "(?:" + "|".join("·█░▏▎▍▌▋▊▉") + "){9}"
MACHINE_NAME = MACHINE_TILE.encode()
"""A machine tile's 9-cell progress bar (``█████▊░░░`` or ``·········``): drawn only by machine tiles, and unlike
names (``Leeds Prusa XL #3``, often cut to ``Barnsley Arburg Allrou…``) always whole. The first frame showing one
shows machines."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def console_argv(*args: str) -> list[str]:
    """The console's command line, with this interpreter (the project venv's under ``make bench``)."""
    return [sys.executable, "-m", "console", *args]


class DemoServerProcess:
    """``factory-console demo-server`` on a free loopback port, ready when ``/v1/cluster`` answers."""

    def __init__(self, options: Sequence[str] = (), start_timeout: float = 120.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="bench-demo-server-", suffix=".log", delete=False)  # noqa: SIM115
        argv = console_argv("demo-server", "--port", str(self.port), *options)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, env=dict(os.environ)
        )
        self.pid = self.proc.pid
        self._wait_ready(start_timeout)
        self.ready_after = time.perf_counter() - self.started

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"demo-server exited with {self.proc.returncode}: {self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/v1/cluster", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"demo-server not ready after {timeout} s: {self.log_tail()}")

    def log_tail(self) -> str:
        with open(self.log.name, "rb") as handle:
            return handle.read()[-2000:].decode(errors="replace")

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        import uuid

        return httpx.post(f"{self.url}{path}", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=30)

    def seq(self) -> int | None:
        """The server's current ``seq``; ``None`` when it does not answer within 10 s (overloaded)."""
        try:
            response = httpx.get(f"{self.url}/v1/cluster", timeout=10)
            response.raise_for_status()
            return int(response.json()["seq"])
        except (httpx.HTTPError, ValueError, KeyError):
            return None

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)

    def __enter__(self) -> DemoServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
