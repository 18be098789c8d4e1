"""An ``http://`` server's client builds no CA store (a start-up cost on the path to the first frame), and trusts
nothing if TLS ever came up; an ``https://`` one verifies as before."""

from __future__ import annotations

import ssl
from typing import Any

from console.api.client import ClusterClient


def _context(client: ClusterClient) -> Any:
    return client._http._transport._pool._ssl_context  # type: ignore[attr-defined]


async def test_plain_http_loads_no_ca_bundle_and_trusts_nothing() -> None:
    async with ClusterClient("http://127.0.0.1:1") as client:
        context = _context(client)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert context.cert_store_stats()["x509_ca"] == 0


async def test_https_still_verifies_with_the_system_bundle() -> None:
    async with ClusterClient("https://cluster.example:8443") as client:
        context = _context(client)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert context.cert_store_stats()["x509_ca"] > 0
