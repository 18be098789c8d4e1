"""The OPC UA source against a real asyncua server modelled on OPC 40001-1: machines, states, telemetry, an alarm
raised, acknowledged from the console and cleared, a server restart, and hostile values."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from asyncua import ua

from console.sources.opcua.source import OpcUaSource
from console.store import SourceState, Store
from tests.opcua.opcua_server import PlantServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

SID = "opcua:plant"
STORES: list[Store] = []


def debug() -> str:
    return "; ".join(str(list(s.sources[SID].malformed)) for s in STORES if SID in s.sources)


async def until(check: Callable[[], Any], within: float = 10.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy (at most ``within`` seconds)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; {debug()}")
        await asyncio.sleep(0.02)


@pytest_asyncio.fixture(loop_scope="module")
async def running(plant: PlantServer) -> AsyncIterator[tuple[OpcUaSource, Store]]:
    store = Store()
    STORES[:] = [store]
    source = OpcUaSource(
        SID, "plant", plant.url, store, timeout=2.0, publish_ms=50, watchdog=0.3, backoff_base=0.1, backoff_max=0.5
    )
    task = asyncio.create_task(source.run())
    await until(lambda: store.sources[SID].state == SourceState.LIVE, what="live")
    try:
        yield source, store
    finally:
        source.stop()
        await asyncio.wait_for(task, 5)


def machine(store: Store, name: str) -> Any:
    return store.machines.get(f"UA-plant-{name}")


async def test_machines_with_names_states_and_telemetry(running: tuple[OpcUaSource, Store]) -> None:
    _source, store = running
    await until(lambda: machine(store, "Lathe-3") and machine(store, "Lathe-3").state != "offline", what="states")
    press, mill, lathe = (machine(store, n) for n in ("Press-1", "Mill-2", "Lathe-3"))
    assert (press.name, press.state, press.model) == ("Press-1", "running", "Schuler MSP 400")
    assert (mill.state, mill.state_reason) == ("idle", None)
    assert (lathe.state, lathe.state_reason) == ("maintenance", "out of service: maintenance")
    assert press.node_id == "opcua-plant" and store.nodes["opcua-plant"].machine_count == 3
    await until(lambda: store.machine_telemetry(press.id).get("spindle_speed_rpm") == 1200.0, what="telemetry")
    telemetry = store.machine_telemetry(press.id)
    assert telemetry["oil_temperature_c"] == 41.5 and telemetry["parts_made"] == 7.0
    assert "note" not in telemetry  # text is not telemetry


async def test_state_change_arrives_by_subscription(plant: PlantServer, running: tuple[OpcUaSource, Store]) -> None:
    _source, store = running
    await until(lambda: machine(store, "Mill-2") and machine(store, "Mill-2").state == "idle", what="idle")
    await plant.set_state("Mill-2", "Executing")
    await until(lambda: machine(store, "Mill-2").state == "running", what="running")
    await plant.set_state("Mill-2", "OutOfService", "Processing")
    await until(lambda: machine(store, "Mill-2").state == "fault", what="fault")
    assert machine(store, "Mill-2").fault_code == "out_of_service"
    await plant.set_state("Mill-2", "NotExecuting", "Processing")
    await until(lambda: machine(store, "Mill-2").state == "idle", what="idle again")


def alarm(store: Store) -> Any:
    found = [a for a in store.alerts.values() if a.code == "oil_over_temperature"]
    return found[0] if len(found) == 1 else None


async def test_alarm_raised_acked_from_the_console_and_cleared(
    plant: PlantServer, running: tuple[OpcUaSource, Store]
) -> None:
    source, store = running
    await plant.raise_alarm(severity=850)
    raised = await until(lambda: alarm(store), what="the alert")
    assert (raised.priority, raised.state, raised.source.kind) == ("critical", "active_unacked", "machine")
    assert raised.source.id == "UA-plant-Press-1"
    assert raised.message == "Hydraulic oil over temperature" and raised.acked_by is None
    assert source.allows("alert.ack", "alert", raised.id) and not source.allows("machine.pause", "machine", "x")
    result = await source.carrier.command(f"/v1/alerts/{raised.id}/ack", {"note": "valve checked"}, "key-1")
    assert result.status == "applied"
    assert plant.condition is not None and plant.condition.acked and plant.condition.acks == ["valve checked"]
    acked = await until(lambda: alarm(store) if alarm(store).state == "active_acked" else None, what="acked")
    assert (acked.ack_note, acked.acked_by) == ("valve checked", "console")
    again = await source.carrier.command(f"/v1/alerts/{raised.id}/ack", {"note": "valve checked"}, "key-1")
    assert again == result and plant.condition.acks == ["valve checked"]  # the same key does nothing twice
    await plant.clear_alarm()
    await until(lambda: raised.id not in store.alerts, what="resolved")
    assert store.replica(SID) is not None and not store.replica(SID).alerts
    assert not source.allows("alert.ack", "alert", raised.id)


async def test_severity_maps_to_priority_and_a_cleared_alarm_waits_for_its_ack(
    plant: PlantServer, running: tuple[OpcUaSource, Store]
) -> None:
    source, store = running
    await plant.raise_alarm(severity=450, message="Door open")
    first = await until(lambda: alarm(store), what="the alert")
    assert (first.priority, first.message) == ("medium", "Door open")
    await plant.clear_alarm()
    await until(lambda: alarm(store).state == "cleared_unacked", what="cleared")
    await plant.raise_alarm(severity=650, message="Door open")
    back = await until(lambda: alarm(store) if alarm(store).state == "active_unacked" else None, what="again")
    assert (back.id, back.count, back.priority) == (first.id, 2, "high")
    await source.carrier.command(f"/v1/alerts/{back.id}/ack", {"note": None})
    await plant.clear_alarm()
    await until(lambda: alarm(store) is None, what="resolved")


async def test_hostile_values_are_counted_malformed_and_the_source_goes_on(
    plant: PlantServer, running: tuple[OpcUaSource, Store]
) -> None:
    _source, store = running
    press = await until(lambda: machine(store, "Press-1"), what="press")
    await until(lambda: store.machine_telemetry(press.id).get("spindle_speed_rpm") is not None, what="telemetry")
    before = store.sources[SID].malformed_total
    await plant.write_raw("Press-1", "SpindleSpeed", ua.Variant(math.nan, ua.VariantType.Double))
    await plant.write_raw("Press-1", "OilTemperature", ua.Variant("hot", ua.VariantType.String))
    await plant.set_state("Press-1", "Exploding")  # an unknown state: its text, and an Id that is no state
    await plant.write_raw("Press-1", "mode", ua.Variant(12345, ua.VariantType.Int32))
    await until(lambda: store.sources[SID].malformed_total >= before + 3, what="malformed counted")
    huge = "X\x1b[2J" * 250_000  # a megabyte, with a terminal escape in it
    await plant.write_raw("Press-1", "state", ua.Variant(ua.LocalizedText(huge), ua.VariantType.LocalizedText))
    await until(lambda: store.sources[SID].malformed_total >= before + 4, what="huge counted")
    status = store.sources[SID]
    assert status.state == SourceState.LIVE
    assert all(len(record.excerpt) <= 200 and "\x1b" not in record.excerpt for record in status.malformed)
    assert not math.isnan(store.machine_telemetry(press.id)["spindle_speed_rpm"])
    assert machine(store, "Press-1").state == "running"  # unchanged by what could not be read
    await plant.set_state("Press-1", "NotExecuting", "Processing")
    await until(lambda: machine(store, "Press-1").state == "idle", what="a good value after the bad ones")
    await plant.write_raw("Press-1", "SpindleSpeed", ua.Variant(900.0, ua.VariantType.Double))
    await until(lambda: store.machine_telemetry(press.id).get("spindle_speed_rpm") == 900.0, what="good telemetry")
    await plant.set_state("Press-1", "Executing", "Processing")
    await plant.write_raw("Press-1", "OilTemperature", ua.Variant(41.5, ua.VariantType.Double))
    counted = store.sources[SID].malformed_total
    await plant.raise_alarm(severity=5000)  # outside 1..1000: no alert, counted
    await until(lambda: store.sources[SID].malformed_total > counted, what="the bad severity counted")
    assert alarm(store) is None and store.sources[SID].state == SourceState.LIVE
    await plant.raise_alarm(severity=100)
    await until(lambda: alarm(store) is not None and alarm(store).priority == "low", what="a good alarm after it")
    await plant.acknowledge_here()
    await plant.clear_alarm()
    await until(lambda: alarm(store) is None, what="resolved")


async def test_server_restart_reconnects_and_resubscribes(plant: PlantServer) -> None:
    store = Store()
    source = OpcUaSource(
        SID,
        "plant",
        plant.url,
        store,
        timeout=1.0,
        publish_ms=50,
        watchdog=0.2,
        backoff_base=0.1,
        backoff_max=0.4,
        offline_after=0.3,
    )
    task = asyncio.create_task(source.run())
    try:
        await until(lambda: store.sources[SID].state == SourceState.LIVE, what="live")
        await plant.raise_alarm(severity=300)
        raised = await until(lambda: alarm(store), what="alert before the restart")
        assert raised.priority == "low"
        await plant.stop()
        await until(lambda: store.sources[SID].state == SourceState.RECONNECTING, what="reconnecting")
        await until(lambda: machine(store, "Press-1").state == "offline", what="offline while down")
        assert "unreachable" in (machine(store, "Press-1").state_reason or "")
        await plant.start()
        await until(lambda: source.sessions == 2 and store.sources[SID].state == SourceState.LIVE, what="live again")
        await until(lambda: machine(store, "Press-1").state == "running", what="states again")
        # The restarted server no longer holds the condition: the refresh after re-subscribing resolves its alert.
        await until(lambda: raised.id not in store.alerts, what="the forgotten alarm resolved")
        assert plant.refreshes >= 1
        await plant.set_state("Mill-2", "Executing")
        await until(lambda: machine(store, "Mill-2").state == "running", what="a change after the restart")
        await plant.set_state("Mill-2", "NotExecuting")
    finally:
        source.stop()
        await asyncio.wait_for(task, 5)
