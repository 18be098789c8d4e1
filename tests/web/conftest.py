"""Fixtures of the serve-web tests: serve-web as a real process on a free loopback port, serving a console pointed
at a seeded simulator on a stepped clock (``live_server``), with its output kept for the leak checks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TOKENS = {
    "operator": "op-7c1e-s3cret-for-alice",
    "viewer": "vw-42d9-s3cret-for-victor",
    "supervisor": "sv-93ab-s3cret-for-sue",
}
"""The login tokens of the tests; each one is looked for, and must not be found, in every output."""
NAMES = {"operator": "alice", "viewer": "victor", "supervisor": "sue"}
TOKENS_TEXT = ",".join(f"{NAMES[role]}:{role}:{secret}" for role, secret in TOKENS.items())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServedWeb:
    url: str
    cluster: Any
    """The simulator the served console reads (``console.demo.embedded.DemoServer``)."""
    process: subprocess.Popen[bytes]
    output: Path

    def log(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")


def wait_for_port(port: int, process: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"serve-web ended with {process.returncode} before listening")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("serve-web did not listen in time")


@pytest.fixture
def serve_web(live_server: Callable[..., Any], tmp_path: Path) -> Iterator[Callable[..., ServedWeb]]:
    """``served = serve_web()`` starts ``factory-console serve-web`` with the tests' tokens in its environment,
    serving ``factory-console --api <a seeded simulator>``; it is stopped (SIGTERM, then its process group) at teardown.
    """
    started: list[ServedWeb] = []

    def start(*, tokens: bool = True, extra: tuple[str, ...] = ()) -> ServedWeb:
        cluster = live_server(warmup_s=60)
        port = free_port()
        env = dict(os.environ)
        env.pop("FACTORY_WEB_TOKENS", None)
        if tokens:
            env["FACTORY_WEB_TOKENS"] = TOKENS_TEXT
        env["FACTORY_CONSOLE_CONFIG"] = str(tmp_path / "config.toml")
        env["XDG_DATA_HOME"] = str(tmp_path / "data")
        env["PYTHONUNBUFFERED"] = "1"
        output = tmp_path / f"serve-web-{port}.log"
        argv = [sys.executable, "-m", "console", "serve-web", "--port", str(port), *extra, "--", "--api", cluster.url]
        with output.open("wb") as sink:
            process = subprocess.Popen(
                argv, env=env, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        served = ServedWeb(f"http://127.0.0.1:{port}", cluster, process, output)
        started.append(served)
        wait_for_port(port, process)
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.send_signal(signal.SIGTERM)
            try:
                served.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(served.process.pid, signal.SIGKILL)
                served.process.wait()
        with contextlib.suppress(ProcessLookupError):  # the consoles of sessions still open
            os.killpg(served.process.pid, signal.SIGKILL)
