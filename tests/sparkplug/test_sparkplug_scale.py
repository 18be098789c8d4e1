"""A modest plant through a real broker: 20 edge nodes x 50 devices. Correctness, not speed (the speed targets are
in benchmarks/bench_sparkplug.py): every machine appears once with its own state, job and telemetry, every node with
its 50 machines, nothing is malformed, no rebirth is needed, and a second round of data lands on the right machines."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from console.sources.sparkplug import SparkplugSource
from console.store import Store
from tests.sparkplug.broker import mosquitto_path, start_broker
from tests.sparkplug.conftest import wait_for
from tests.sparkplug.edge import EdgeNodeSim, device_metrics

NODES = 20
DEVICES = 50
STATES = ("running", "idle", "paused", "fault", "maintenance")


def expected_temperature(node: int, device: int, round_: int) -> float:
    return node * 1000 + device + round_ / 10


async def test_twenty_edge_nodes_of_fifty_devices(tmp_path: Path) -> None:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed (make sysdeps installs it)")
    broker = start_broker(tmp_path, extra="max_queued_messages 0\n")  # no queue limit: nothing dropped
    store = Store()
    source = SparkplugSource("sparkplug", broker.url, store, host_id="scale-test", groups=("Scale",))
    task = asyncio.ensure_future(source.run())
    sims: list[EdgeNodeSim] = []
    try:
        await wait_for(lambda: source.sessions == 1, "the source live")
        for n in range(NODES):
            sim = EdgeNodeSim(broker.port, "Scale", f"edge-{n:02d}")
            for d in range(DEVICES):
                job = f"J-{n}-{d}" if d % 2 == 0 else None
                sim.add_device(f"dev-{d:02d}", device_metrics(state=STATES[(n + d) % len(STATES)], job=job))
            await sim.connect()
            sims.append(sim)
        await asyncio.gather(*(sim.birth() for sim in sims))
        await wait_for(lambda: len(store.machines) == NODES * DEVICES, "1000 machines", timeout=60)

        for round_ in (1, 2):
            await asyncio.gather(
                *(
                    sim.data(f"dev-{d:02d}", {"Temperature": expected_temperature(n, d, round_), "Progress": 50.0})
                    for n, sim in enumerate(sims)
                    for d in range(DEVICES)
                )
            )
            await wait_for(
                lambda r=round_: all(
                    store.machine_telemetry(f"Scale/edge-{n:02d}/dev-{d:02d}").get("temperature_c")
                    == expected_temperature(n, d, r)
                    for n in range(NODES)
                    for d in range(DEVICES)
                ),
                f"round {round_} of data on every machine",
                timeout=60,
            )

        assert len(store.nodes) == NODES
        for n in range(NODES):
            node = store.nodes[f"Scale/edge-{n:02d}"]
            assert (node.state, node.machine_count, node.name) == ("online", DEVICES, f"Scale/edge-{n:02d}")
            for d in range(DEVICES):
                machine = store.machines[f"Scale/edge-{n:02d}/dev-{d:02d}"]
                assert machine.node_id == node.id and machine.name == f"dev-{d:02d}"
                assert machine.state == STATES[(n + d) % len(STATES)]
                assert machine.progress == pytest.approx(0.5)
                assert machine.job_id == (f"{machine.id}/job/J-{n}-{d}" if d % 2 == 0 else None)
        assert len(store.jobs) == NODES * DEVICES // 2
        status = store.sources["sparkplug"]
        assert status.malformed_total == 0, [m.reason for m in status.malformed]
        assert source.host.rebirths_requested == 0
        assert sum(sim.rebirth_requests for sim in sims) == 0
        assert status.state == "live"
    finally:
        source.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        for sim in sims:
            with contextlib.suppress(Exception):
                await sim.close()
        broker.stop()
