"""Nothing listening: the source is reconnecting, then stale, its machines (none yet) and node shown, and it keeps
trying with backoff until stopped."""

from __future__ import annotations

import asyncio

from console.sources.opcua.source import OpcUaSource
from console.store import SourceState, Store
from tests.opcua.opcua_server import free_port
from tests.opcua.test_opcua_live import until


async def test_unreachable_is_reconnecting_then_stale() -> None:
    store = Store()
    url = f"opc.tcp://127.0.0.1:{free_port()}"
    source = OpcUaSource("opcua:gone", "gone", url, store, timeout=0.5, backoff_base=0.05, stale_after=0.4)
    task = asyncio.create_task(source.run())
    try:
        await until(lambda: store.sources["opcua:gone"].state == SourceState.RECONNECTING, what="reconnecting")
        assert "cannot reach" in (store.sources["opcua:gone"].reason or "")
        assert store.nodes["opcua-gone"].name == "OPC UA gone"
        await until(lambda: store.sources["opcua:gone"].state == SourceState.STALE, what="stale")
    finally:
        source.stop()
        await asyncio.wait_for(task, 5)
    assert store.sources["opcua:gone"].state == SourceState.STOPPED
