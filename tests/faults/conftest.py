"""Fixtures of the fault suite: a hostile server on the test's own event loop, and a self-signed TLS certificate.

``hostile()`` starts a :class:`~tests.faults.hostile_server.HostileServer` on 127.0.0.1 (a free port); every server
started is stopped at teardown. ``tls_cert`` makes a throw-away self-signed certificate with the ``openssl`` CLI
(``cryptography`` is not installed), once per session.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faults.hostile_server import HostileServer


@pytest.fixture
async def hostile() -> AsyncIterator[Callable[..., Awaitable[HostileServer]]]:
    started: list[HostileServer] = []

    async def start(**options: Any) -> HostileServer:
        server = HostileServer(**options)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(certificate, key) of a self-signed certificate for 127.0.0.1."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl CLI is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key
