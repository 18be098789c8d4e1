"""One cluster among several, against the real simulator over loopback (docs/multi-cluster.md): the server gets its
own ids in a command's path and body, and what it answers comes back qualified (reroute candidates, the audit
trail); a snapshot through the qualifier names every object of the cluster."""

from __future__ import annotations

import uuid
from typing import Any

from console.api.client import ClusterClient
from console.api.commands import command_path
from console.sources.cluster_ids import QualifiedCarrier, Qualifier
from console.store.clusters import cluster_of


async def test_commands_and_reads_through_the_qualified_carrier(live_server: Any) -> None:
    server = live_server(warmup_s=600)
    client = ClusterClient(server.url)
    carrier = QualifiedCarrier(client, Qualifier("york"))
    try:
        snapshot = Qualifier("york").snapshot(await client.snapshot())
        ids = [o.id for o in (*snapshot.nodes, *snapshot.machines, *snapshot.jobs, *snapshot.alerts)]
        assert ids and all(cluster_of(i) == "york" for i in ids)
        assert all(cluster_of(m.node_id) == "york" for m in snapshot.machines)

        job = next(j for j in snapshot.jobs if j.status in ("queued", "assigned"))
        candidates = await carrier.reroute_candidates(job.id)
        assert candidates and all(
            c.machine_id.startswith("york/") and c.node_id.startswith("york/") for c in candidates
        )

        machine = next(m for m in snapshot.machines if m.state == "running")
        server_id = machine.id.removeprefix("york/")
        key = str(uuid.uuid4())
        result = await carrier.command(command_path("machine.pause", machine.id), {"reason": "test"}, key)
        assert result.status == "applied"
        assert server.call(lambda: server.sim.machine(server_id).state) == "paused"

        page = await carrier.audit(limit=5)
        mine = [e for e in page.items if e.idempotency_key == key]
        assert mine and mine[0].target.id == machine.id and mine[0].id.startswith("york/")
    finally:
        await client.aclose()
