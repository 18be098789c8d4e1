"""A node's WAN outage is the cluster's view of it: the node's agent works on, the cluster API shows it offline,
holds back what the node does meanwhile, and catches up when the link returns."""

from __future__ import annotations

from typing import Any

import pytest

from console.demo.feed import EventFeed
from console.demo.sim import SimCommandError, Simulation, SteppedClock
from console.demo.state import ServedState
from console.demo.views import View
from tests.demo_server import test_config


def _events(feed: EventFeed, after: int) -> list[Any]:
    return feed.events_after(after) or []


def _machine_states(state: ServedState, node_id: str) -> dict[str, str]:
    return {m.id: m.state for m in state.machines.values() if m.node_id == node_id}


def test_outage_cluster_offline_agent_live_then_catch_up() -> None:
    clock = SteppedClock()
    sim = Simulation(test_config(telemetry_hz=2.0), clock)
    node_id = sim.nodes()[0].id
    cluster = EventFeed(sim)
    agent = EventFeed(sim, node_id=node_id)
    clock.advance(600)
    sim.tick()
    machine_ids = {m.id for m in sim.machines() if m.node_id == node_id}

    sim.set_link(node_id, up=False)
    cluster_mark, agent_mark = cluster.seq, agent.seq
    # the cluster shows the node and its machines offline at once; the agent does not
    assert cluster.state.nodes.get(node_id).state == "offline"
    assert set(_machine_states(cluster.state, node_id).values()) == {"offline"}
    assert all(
        m.state_reason == "node offline: no network" for m in cluster.state.machines.values() if m.id in machine_ids
    )
    assert agent.state.nodes.get(node_id).state != "offline"
    assert "offline" not in _machine_states(agent.state, node_id).values()
    assert any(a.code == "node_offline" and a.source.id == node_id for a in cluster.state.alerts.values())

    # commands: the agent (on the shop floor) is obeyed, the cluster is told the node is offline
    mine = sorted(machine_ids)[0]
    with pytest.raises(SimCommandError) as refused:
        sim.execute("machine.pause", mine, {"mode": "now"}, "alice")
    assert refused.value.code == "target_offline"
    sim.execute("machine.pause", mine, {"mode": "now"}, "bob", local_node=node_id)
    assert agent.state.machines.get(mine).state == "paused"
    assert cluster.state.machines.get(mine).state == "offline"

    for _ in range(10):
        clock.advance(60)
        sim.tick()
    agent_news = _events(agent, agent_mark)
    cluster_news = _events(cluster, cluster_mark)
    assert any(e.type == "machine.telemetry" for e in agent_news), "the agent keeps streaming its node live"
    about_node = [
        e
        for e in cluster_news
        if (e.type == "machine.telemetry" and e.payload.machine_id in machine_ids)
        or (e.type in ("machine.updated", "job.updated") and getattr(e.payload, "node_id", None) == node_id)
        or (e.type == "quality.updated" and e.payload.id in machine_ids | {node_id})
    ]
    assert about_node == [], "the cluster hears nothing of the node while its link is down"
    assert any(e.type == "machine.telemetry" for e in cluster_news), "the rest of the cluster goes on"
    assert not any(e.type.startswith("sim.") for e in cluster_news + agent_news)

    back_mark = cluster.seq
    sim.set_link(node_id, up=True)
    caught_up = _events(cluster, back_mark)
    assert caught_up[0].type == "node.updated" and caught_up[0].payload.state != "offline"
    assert {e.payload.id for e in caught_up if e.type == "machine.updated"} == machine_ids
    assert any(e.type == "audit.appended" and e.payload.operator == "bob" for e in caught_up)
    # both views now agree on the node's machines, and the cluster's fold equals a fresh view of the simulation
    assert _machine_states(cluster.state, node_id) == _machine_states(agent.state, node_id)
    assert cluster.state.machines.get(mine).state == "paused"
    fresh = ServedState.seeded(View(sim))
    assert _machine_states(cluster.state, node_id) == _machine_states(fresh, node_id)
    assert set(cluster.state.jobs.models) == set(fresh.jobs.models)
    assert {k: j.status for k, j in cluster.state.jobs.models.items()} == {
        k: j.status for k, j in fresh.jobs.models.items()
    }


def test_a_feed_started_during_an_outage_sees_the_node_offline() -> None:
    clock = SteppedClock()
    sim = Simulation(test_config(), clock)
    node_id = sim.nodes()[1].id
    sim.set_link(node_id, up=False)
    cluster = EventFeed(sim)
    assert cluster.state.nodes.get(node_id).state == "offline"
    assert set(_machine_states(cluster.state, node_id).values()) == {"offline"}
    sim.set_link(node_id, up=True)
    assert cluster.state.nodes.get(node_id).state != "offline"
    assert "offline" not in _machine_states(cluster.state, node_id).values()
