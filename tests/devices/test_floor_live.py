"""The mixed floor for real over loopback: ``start_floor`` starts Mosquitto, the Sparkplug edge node and the OPC UA
server; the console's own sources (built from the floor's specs by the registry, as the app builds them) put machines
of both protocols in one store; a pause from the console reaches a Sparkplug device as a DCMD and comes back as its
DDATA; stopping leaves no process and no folder behind. Mosquitto is a system package: without it the Sparkplug half
is skipped (as in ``tests/sparkplug``), and the launcher says so in one line (``test_floor_launch.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import pytest

from console.demo.floor import start_floor
from console.demo.floor.broker import mosquitto_path
from console.demo.floor.sites import SPARKPLUG_SOURCE, Floor
from console.demo.floor.sparkplug_devices import DEVICES
from console.server_clock import ServerClock
from console.settings import Settings
from console.sources.adapter import AdapterContext
from console.sources.registry import default_registry
from console.store import Store

HAVE_MOSQUITTO = mosquitto_path() is not None
STEADY = tuple(dataclasses.replace(spec, fault_per_s=0.0, job_s=1e6) for spec in DEVICES)
"""The site's devices without faults and with endless jobs: a running device stays running until told otherwise, so
the round trip does not depend on how fast this machine is."""


async def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def following(floor: Floor) -> AsyncIterator[tuple[Store, dict[str, Any]]]:
    """The floor's sources, built as the session builds them, running on this loop into one store."""
    store = Store()
    settings = Settings(sources=list(floor.specs), save_theme=False)
    context = AdapterContext(store, settings, ServerClock(), lambda kind: 1)
    registry = default_registry(plugins=False)
    sources = {spec.source_id: registry.create(spec, context) for spec in floor.specs}
    tasks = [asyncio.ensure_future(source.run()) for source in sources.values()]
    try:
        yield store, sources
    finally:
        for source in sources.values():
            source.stop()
        for source in sources.values():
            await source.aclose()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_both_protocols_on_one_floor_and_a_pause_round_trips() -> None:
    if not HAVE_MOSQUITTO:
        pytest.skip("mosquitto is not installed (make sysdeps installs it)")
    floor = await asyncio.to_thread(start_floor, seed=3, sparkplug_interval=0.2, opcua_interval=0.5, devices=STEADY)
    broker = floor.broker
    folder = floor.folder
    try:
        assert {spec.kind for spec in floor.specs} == {"sparkplug", "opcua"} and not floor.notices
        async with following(floor) as (store, sources):
            await wait_for(lambda: len(store.machines) == 7, "4 Sparkplug and 3 OPC UA machines")
            kinds = {m.id: m.kind for m in store.machines.values()}
            assert sorted(kinds[i] for i in kinds if i.startswith("SpB/Cell-A/")) == [
                "cnc_mill",
                "fdm_printer",
                "fdm_printer",
                "laser_cutter",
            ]
            assert [kinds[i] for i in sorted(kinds) if i.startswith("UA-")] == ["injection_molder"] * 3
            assert {"SpB/Cell-A", "opcua-demo-cell"} <= set(store.nodes)
            # The OPC UA source shows its machines before its subscriptions are made, and is live after them.
            await wait_for(lambda: {store.sources[s].state for s in sources} == {"live"}, "both sources live")

            spb = sources[SPARKPLUG_SOURCE]
            mill = "SpB/Cell-A/Mill-3"
            await wait_for(lambda: store.machines[mill].state == "running", "the mill running")
            assert spb.allows("machine.pause", "machine", mill)
            assert not spb.allows("machine.pause", "machine", "SpB/Cell-A/Laser-4"), "declared none"
            await spb.command(f"/v1/machines/{quote(mill, safe='')}/pause", {"mode": "now"}, "key-1")
            await wait_for(lambda: store.machines[mill].state == "paused", "the mill paused, from its DDATA")
            held = store.machines[mill].progress
            await spb.command(f"/v1/machines/{quote(mill, safe='')}/resume", {}, "key-2")
            await wait_for(lambda: store.machines[mill].state == "running", "the mill running again")
            assert floor.sparkplug is not None and floor.sparkplug.commands_applied == 2
            assert held is not None and held > 0
    finally:
        await asyncio.to_thread(floor.stop)
    assert broker is not None and broker.process.poll() is not None, "mosquitto stopped"
    assert folder is not None and not folder.exists(), "its folder removed"


async def test_without_mosquitto_the_opcua_site_runs_alone_and_says_what_is_skipped() -> None:
    floor = await asyncio.to_thread(start_floor, mosquitto=lambda: None, opcua_interval=0.3)
    try:
        assert [spec.kind for spec in floor.specs] == ["opcua"] and floor.broker is None
        (notice,) = floor.notices
        assert "no Sparkplug B site" in notice and "apt-get install mosquitto" in notice
        async with following(floor) as (store, _sources):
            await wait_for(lambda: len(store.machines) == 3, "the three moulders")
            site = floor.opcua
            assert site is not None
            await asyncio.to_thread(floor.call, site.raise_alarm)
            await wait_for(lambda: any(a.code == "mould_over_temperature" for a in store.alerts.values()), "alarm")
    finally:
        await asyncio.to_thread(floor.stop)
