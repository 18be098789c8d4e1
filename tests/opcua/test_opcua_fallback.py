"""A server without the Machinery model: the simple browse finds the objects that have a state text, the config's
``machines`` picks some by node id, and the texts map to states (``docs/opcua.md``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from console.sources.opcua.source import OpcUaSource
from console.sources.opcua.spec import OpcUaOptions
from console.store import SourceState, Store
from tests.opcua.opcua_server import SimpleServer
from tests.opcua.test_opcua_live import until

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def line() -> AsyncIterator[SimpleServer]:
    server = SimpleServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def follow(line: SimpleServer, options: OpcUaOptions) -> tuple[OpcUaSource, Store, asyncio.Task[None]]:
    store = Store()
    source = OpcUaSource("opcua:line", "line", line.url, store, options=options, timeout=2.0, publish_ms=50)
    task = asyncio.create_task(source.run())
    await until(lambda: store.sources["opcua:line"].state == SourceState.LIVE, what="live")
    return source, store, task


async def test_simple_browse_finds_objects_with_a_state(line: SimpleServer) -> None:
    source, store, task = await follow(line, OpcUaOptions())
    try:
        oven = await until(lambda: store.machines.get("UA-line-Oven-1"), what="the oven")
        assert set(store.machines) == {"UA-line-Oven-1", "UA-line-Robot-2"}  # Documentation has no state
        await until(lambda: store.machines["UA-line-Oven-1"].state == "running", what="running")
        await until(lambda: store.machine_telemetry(oven.id).get("temperature_c") == 180.0, what="telemetry")
        assert "browse" in (store.sources["opcua:line"].reason or "")
        await line.nodes["oven"].write_value("Error")
        await until(lambda: store.machines["UA-line-Oven-1"].state == "fault", what="fault")
        assert store.machines["UA-line-Oven-1"].fault_code == "error"
        await line.nodes["oven"].write_value("Running")
    finally:
        source.stop()
        await asyncio.wait_for(task, 5)


async def test_configured_machines(line: SimpleServer) -> None:
    source, store, task = await follow(line, OpcUaOptions(machines=("ns=2;s=Robot-2", "ns=2;s=Missing")))
    try:
        robot = await until(lambda: store.machines.get("UA-line-Robot-2"), what="the robot")
        assert set(store.machines) == {robot.id}
        await until(lambda: store.machines[robot.id].state == "idle", what="idle")
    finally:
        source.stop()
        await asyncio.wait_for(task, 5)
