"""mqtts:// and credentials against a real Mosquitto: a TLS listener with a certificate of a CA made here, a password
file; the source goes live with the CA and the right password, fails (and stops) on a wrong password, and keeps
retrying (never connecting) when the certificate is not trusted."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest

from console.sources.sparkplug import SparkplugSource
from console.store import Store
from tests.sparkplug.broker import Broker, mosquitto_path, start_broker
from tests.sparkplug.conftest import wait_for


def _run(*argv: str, cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture
def tls_broker(tmp_path: Path):
    if mosquitto_path() is None or shutil.which("openssl") is None or shutil.which("mosquitto_passwd") is None:
        pytest.skip("needs mosquitto, mosquitto_passwd and openssl (make sysdeps installs mosquitto)")
    days = "2"
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
         "-days", days, "-subj", "/CN=sparkplug-test-ca", cwd=tmp_path)  # fmt: skip
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=127.0.0.1", cwd=tmp_path)  # fmt: skip
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.crt", "-days", days, "-extfile", "san.ext", cwd=tmp_path)  # fmt: skip
    _run("mosquitto_passwd", "-b", "-c", "passwords", "console", "s3cret", cwd=tmp_path)
    for name in ("server.key", "passwords"):
        (tmp_path / name).chmod(0o600)
    extra = (
        f"cafile {tmp_path / 'ca.crt'}\ncertfile {tmp_path / 'server.crt'}\nkeyfile {tmp_path / 'server.key'}\n"
        f"password_file {tmp_path / 'passwords'}\n"
    )
    broker = start_broker(tmp_path, extra=extra, anonymous=False)
    try:
        yield broker, tmp_path / "ca.crt"
    finally:
        broker.stop()


async def _run_source(broker: Broker, **options: object) -> tuple[SparkplugSource, Store, asyncio.Task[None]]:
    store = Store()
    url = f"mqtts://127.0.0.1:{broker.port}"
    source = SparkplugSource("sparkplug", url, store, host_id="tls-test", backoff_base=0.05, backoff_max=0.2, **options)  # type: ignore[arg-type]
    return source, store, asyncio.ensure_future(source.run())


async def _stop(source: SparkplugSource, task: asyncio.Task[None]) -> None:
    source.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_tls_with_the_ca_and_the_password_goes_live(tls_broker) -> None:
    broker, ca = tls_broker
    source, store, task = await _run_source(broker, verify=str(ca), username="console", password="s3cret")
    try:
        await wait_for(lambda: store.sources["sparkplug"].state == "live", "live over TLS", timeout=20)
        assert store.sources["sparkplug"].url == f"mqtts://127.0.0.1:{broker.port}"
    finally:
        await _stop(source, task)


async def test_a_wrong_password_fails_the_source(tls_broker) -> None:
    broker, ca = tls_broker
    _source, store, task = await _run_source(broker, verify=str(ca), username="console", password="wrong")
    await asyncio.wait_for(task, 20)  # run() returns: retrying a refused password helps nobody
    status = store.sources["sparkplug"]
    assert status.state == "failed"
    assert "wrong" not in (status.reason or "")


async def test_an_untrusted_certificate_is_never_connected_to(tls_broker) -> None:
    broker, _ca = tls_broker
    source, store, task = await _run_source(broker, verify=True, username="console", password="s3cret")
    try:
        await wait_for(lambda: store.sources["sparkplug"].state == "reconnecting", "the refusal", timeout=20)
        assert source.sessions == 0
        assert "certificate" in (store.sources["sparkplug"].reason or "").lower()
    finally:
        await _stop(source, task)
