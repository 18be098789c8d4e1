"""The simulator as a separate process (``factory-console demo-server``) and the console's command line.

Why a separate process: the live, idle, start and bytes benchmarks measure the console's own CPU; the simulator of a
20,000-machine cluster is busy too, and must not be counted in (or steal the loop of) the process being measured.

Why ``--speed 1`` (:data:`BENCH_SPEED`, unless a benchmark passes its own ``--speed``): the live-load scenario of
issue 5 is "20,000 machines and 5,000 events/s". Telemetry is set per *wall* second (``--telemetry-hz 0.25`` on
20,000 machines is 5,000 events/s at any speed), but everything else the simulator sends (job progress, machine
states, quality) follows *simulated* time: at the demo's default speed 20 a 20,000-machine cluster adds ~4,000
non-telemetry events/s (measured: 1,850 job.updated, 1,500 machine.updated, 500 quality.updated, 300 job.removed),
so the stream was ~9,000 events/s, not the scenario's 5,000. At speed 1 (simulated time = wall time) the same
cluster sends ~5,000 telemetry plus a few hundred others: the scenario as written, with realistic factory pacing.
The demo itself (``factory-console --demo`` and ``demo-server`` without ``--speed``) stays at speed 20 so a
human sees things move.
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

__all__ = ["BENCH_SPEED", "DemoServerProcess", "console_argv", "free_port"]

BENCH_SPEED = "1"
"""Simulated seconds per wall second of the benchmarks' demo-servers (see the module docstring)."""

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
    """``factory-console demo-server`` on a free loopback port, ready when ``/v1/cluster`` answers.

    ``options`` are the demo-server's; ``--speed`` defaults to :data:`BENCH_SPEED` when they do not set it.
    """

    def __init__(self, options: Sequence[str] = (), start_timeout: float = 120.0) -> None:
        options = list(options)
        if not any(o == "--speed" or o.startswith("--speed=") for o in options):
            options += ["--speed", BENCH_SPEED]
        self.options = options
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
