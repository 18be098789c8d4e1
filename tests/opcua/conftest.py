"""Fixtures of the OPC UA tests: one real asyncua server per module, in the module's event loop.

The server (``opcua_server.py``) is started once per test module (about 1.5 s: asyncua builds the standard address
space); tests that change the plant put it back as they found it, or restart it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.opcua.opcua_server import PlantServer


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plant() -> AsyncIterator[PlantServer]:
    server = PlantServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
