"""Several sources at once against the real simulator: the cluster API and a node agent feeding one store."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from console.api.client import ClusterClient
from console.sources.cluster import ClusterSource
from console.store import Store


async def wait_for(predicate: Callable[[], bool], timeout_s: float = 20.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110 - polls plain state that has no event to wait on
            await asyncio.sleep(0.01)


class Running:
    """A ClusterSource (cluster or agent) in a task."""

    def __init__(self, source_id: str, url: str, store: Store, kind: str) -> None:
        self.client = ClusterClient(url)
        self.source = ClusterSource(
            source_id, self.client, store, kind=kind, backoff_base=0.05, backoff_max=0.2, rng=random.Random(3)
        )
        self.task = asyncio.create_task(self.source.run())

    async def stop(self) -> None:
        self.source.stop()
        await self.task
        await self.client.aclose()


def node_part(store: Store, source_id: str, node_id: str) -> dict[str, Any]:
    """What a source's replica holds about one node (its node, machines and their jobs)."""
    replica = store.replica(source_id)
    assert replica is not None
    return {
        "node": replica.nodes[node_id],
        "machines": {k: replica.current_machine(k) for k, m in replica.machines.items() if m.node_id == node_id},
        "jobs": {k: j for k, j in replica.jobs.items() if j.node_id == node_id},
    }


def merged_part(store: Store, node_id: str) -> dict[str, Any]:
    return {
        "node": store.nodes[node_id],
        "machines": {m.id: store.current_machine(m.id) for m in store.machines_by_node(node_id)},
        "jobs": {j.id: j for j in store.jobs_for_node(node_id)},
    }


async def test_cluster_and_agent_merge_switch_and_switch_back(live_server: Callable[..., Any]) -> None:
    server = live_server(with_agents=True, warmup_s=120)
    node_id, agent_url = sorted(server.agent_urls.items())[0]
    store = Store()

    def caught_up() -> bool:
        cluster_seq = server.call(lambda: server.feed.seq)
        agent_seq = server.call(lambda: server.agent_feed(node_id).seq)
        c, a = store.sources.get("cluster"), store.sources.get("agent")
        return bool(c and a and c.seq == cluster_seq and a.seq == agent_seq and c.state == a.state == "live")

    cluster = Running("cluster", server.url, store, "cluster")
    agent = Running("agent", agent_url, store, "agent")
    try:
        await wait_for(caught_up)
        # (a) both live and caught up (the simulated clock stands still): the merged view is the cluster's.
        replica = store.replica("cluster")
        assert replica is not None
        assert store.nodes == replica.nodes and store.machines == replica.machines and store.jobs == replica.jobs
        assert store.alerts == replica.alerts and store.quality == replica.quality
        assert store.cluster is not None and store.cluster.id != node_id
        assert store.node_source(node_id) == "cluster" and store.command_source("node", node_id) == "cluster"
        assert node_part(store, "agent", node_id) == node_part(store, "cluster", node_id)
        assert store.disagreements(node_id) == []
        assert [s.source_id for s in store.node_sources(node_id)] == ["cluster", "agent"]
        other = next(n for n in store.nodes if n != node_id)
        store.take_changes()

        # (b) the cluster source stops (not live): its node is served by its agent, which goes on alone.
        await cluster.stop()
        assert store.node_source(node_id) == "agent" and store.node_source(other) == "cluster"
        machine_id = next(iter(node_part(store, "agent", node_id)["machines"]))
        assert store.command_source("machine", machine_id) == "agent"
        assert store.command_source("node", other) is None
        server.advance(60)
        await wait_for(
            lambda: store.sources["agent"].seq == server.call(lambda: server.agent_feed(node_id).seq), timeout_s=20
        )
        changes = store.take_changes()
        assert changes.machines | changes.telemetry_only  # the agent's news reach the screens
        assert merged_part(store, node_id) == node_part(store, "agent", node_id)
        assert all(store.owner("machines", m) == "agent" for m in node_part(store, "agent", node_id)["machines"])
        assert merged_part(store, other) == node_part(store, "cluster", other)  # stale, still shown

        # (c) the cluster comes back: it catches up and serves again; both agree once caught up.
        cluster = Running("cluster", server.url, store, "cluster")
        await wait_for(caught_up)
        assert store.node_source(node_id) == "cluster"
        assert node_part(store, "agent", node_id) == node_part(store, "cluster", node_id)
        assert merged_part(store, node_id) == node_part(store, "cluster", node_id)
        assert store.disagreements(node_id) == []
    finally:
        await cluster.stop()
        await agent.stop()
