"""Security from the config: Basic256Sha256 SignAndEncrypt with the console's own certificate, a user and a
password; a refused password makes the source ``failed`` (it stops, as a refused token does)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography.x509.oid import ExtendedKeyUsageOID

from console.sources.opcua.source import OpcUaSource
from console.sources.opcua.spec import OpcUaOptions
from console.store import SourceState, Store
from tests.opcua.opcua_server import PlantServer
from tests.opcua.test_opcua_live import until

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def certificate(folder: Path, name: str, uri: str, use: list) -> tuple[Path, Path]:  # type: ignore[type-arg]
    cert, key = folder / f"{name}.der", folder / f"{name}.pem"
    await setup_self_signed_certificate(key, cert, uri, socket.gethostname(), use, {"commonName": name})
    return cert, key


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def secure(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[PlantServer, Path, Path]]:
    folder = tmp_path_factory.mktemp("opcua-pki")
    server_pki = await certificate(folder, "server", "urn:freeopcua:python:server", [ExtendedKeyUsageOID.SERVER_AUTH])
    client_cert, client_key = await certificate(
        folder, "console", "urn:factory-console:opcua-client", [ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    plant = PlantServer(secure=server_pki, users={"console": "s3cret"})
    await plant.start()
    try:
        yield plant, client_cert, client_key
    finally:
        await plant.stop()


def options(cert: Path, key: Path) -> OpcUaOptions:
    return OpcUaOptions(
        security_policy="Basic256Sha256", certificate=str(cert), private_key=str(key), user="console", kind="press"
    )


async def test_signed_and_encrypted_with_a_user_and_password(secure: tuple[PlantServer, Path, Path]) -> None:
    plant, cert, key = secure
    store = Store()
    source = OpcUaSource("opcua:s", "s", plant.url, store, options=options(cert, key), password="s3cret", timeout=2.0)
    task = asyncio.create_task(source.run())
    try:
        await until(lambda: store.sources["opcua:s"].state == SourceState.LIVE, what="live over a secure channel")
        press = await until(lambda: store.machines.get("UA-s-Press-1"), what="the press")
        assert press.kind == "press"
        await until(lambda: store.machines["UA-s-Press-1"].state == "running", what="its state")
    finally:
        source.stop()
        await asyncio.wait_for(task, 5)


async def test_a_refused_password_fails_and_stops(secure: tuple[PlantServer, Path, Path]) -> None:
    plant, cert, key = secure
    store = Store()
    source = OpcUaSource("opcua:s", "s", plant.url, store, options=options(cert, key), password="wrong", timeout=2.0)
    await asyncio.wait_for(source.run(), 10)  # returns by itself
    status = store.sources["opcua:s"]
    assert status.state == SourceState.FAILED and status.reason == "BadUserAccessDenied"
    assert "wrong" not in str(status.reason) and all("wrong" not in line.message for line in status.log)


async def test_a_certificate_that_cannot_be_loaded_fails_at_once(
    secure: tuple[PlantServer, Path, Path], tmp_path: Path
) -> None:
    plant, _, key = secure
    store = Store()
    bad = options(tmp_path / "missing.der", key)
    source = OpcUaSource("opcua:s", "s", plant.url, store, options=bad, password="s3cret", timeout=2.0)
    await asyncio.wait_for(source.run(), 10)
    status = store.sources["opcua:s"]
    assert status.state == SourceState.FAILED and "cannot load the certificate" in (status.reason or "")


async def test_a_security_mode_the_server_does_not_offer_is_retried_with_the_reason(
    secure: tuple[PlantServer, Path, Path],
) -> None:
    plant, cert, key = secure
    store = Store()
    sign_only = OpcUaOptions(
        security_policy="Basic256Sha256", security_mode="Sign", certificate=str(cert), private_key=str(key)
    )
    source = OpcUaSource("opcua:s", "s", plant.url, store, options=sign_only, timeout=2.0, backoff_base=0.1)
    task = asyncio.create_task(source.run())
    try:
        await until(lambda: store.sources["opcua:s"].state == SourceState.RECONNECTING, what="reconnecting")
        assert "endpoint" in (store.sources["opcua:s"].reason or "").lower()
    finally:
        source.stop()
        await asyncio.wait_for(task, 5)
