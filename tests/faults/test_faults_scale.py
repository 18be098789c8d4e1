"""Big and overlapping snapshots: 100,000 machines load without hanging; ids that collide across sources do not
corrupt the store (indexes stay consistent, a source's resync never hides what another source still holds)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.faults.harness import Recorder, assert_continuous, check_invariants, publish_timeline, running_source
from tests.faults.hostile_server import HostileServer, base_tables

BIG = 100_000


async def test_snapshot_with_100k_machines(hostile: Any) -> None:
    tables = base_tables(nodes=2, machines_per_node=1)
    template = next(iter(tables["machines"].values()))
    tables["machines"] = {
        f"M-{i:06d}": {**template, "id": f"M-{i:06d}", "node_id": f"N-{1 + i % 2}", "name": f"m{i}"} for i in range(BIG)
    }
    server: HostileServer = await hostile(tables=tables)
    server.freeze_snapshot()
    publish_timeline(server, 5)
    async with running_source(server.url, timeout=30) as run:
        await run.until_live_at(server.seq, timeout=60)
        run.assert_alive()
        assert len(run.store.machines) == BIG
        assert sum(run.store.counts_by_state().values()) == BIG
        assert len(run.store.machines_by_node("N-1")) == BIG // 2
        assert run.store.machines["M-099999"].name == "m99999"
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        check_invariants(run.store)


async def test_ids_colliding_across_sources(hostile: Any) -> None:
    """Two cluster servers claim the same node, machines, jobs and alerts. The merge shows, per object, the newest
    ``last_seen`` between live sources (ties: the node's serving source, then the first registered); a resync of one
    source never hides what the other still holds; indexes stay consistent throughout."""
    a: HostileServer = await hostile(instance_id="inst-a")
    a.tables["machines"]["M-A-ONLY"] = {**a.tables["machines"]["M-101"], "id": "M-A-ONLY"}
    b: HostileServer = await hostile(instance_id="inst-b")
    for machine in b.tables["machines"].values():
        machine["state"] = "fault"
        machine["node_id"] = "N-2"  # same machine ids on another node: index moves
        machine["last_seen"] = "2026-11-25T12:05:00Z"  # newer than A's: B's version wins
    store = Recorder()
    async with running_source(a.url, store=store, source_id="a") as run_a:
        await run_a.until_live_at(a.seq)
        async with running_source(b.url, store=store, source_id="b") as run_b:
            await run_b.until_live_at(b.seq)
            check_invariants(store)
            assert {store.owner("machines", mid) for mid in store.machines} == {"a", "b"}
            assert store.owner("machines", "M-A-ONLY") == "a"
            assert all(m.state == "fault" for mid, m in store.machines.items() if mid != "M-A-ONLY")
            assert len(store.machines_by_node("N-2")) == len(b.tables["machines"])
            # A now sends newer updates for the shared ids: those are shown from A again, indexes follow.
            for mid in list(a.tables["machines"])[:3]:
                a.publish(
                    "machine.updated",
                    {**a.tables["machines"][mid], "state": "running", "last_seen": "2026-11-25T12:10:00Z"},
                )
            await run_a.until_seq(a.seq)
            check_invariants(store)
            assert len(store.machines_in_state("running")) == 3
            assert store.owner("machines", "M-101") == "a"
            # B restarts without history and resyncs without M-203: A still holds it, so A's M-203 is shown.
            del b.tables["machines"]["M-203"]
            await b.restart(keep_history=False, new_seq=1)
            await asyncio.sleep(0.05)
            await run_b.until_live_at(b.seq, timeout=5)
            check_invariants(store)
            assert store.owner("machines", "M-203") == "a" and store.machines["M-203"].state != "fault"
            assert store.owner("machines", "M-A-ONLY") == "a"
            assert store.owner("machines", "M-202") == "b"  # B's newer version
            run_a.assert_alive()
            run_b.assert_alive()
