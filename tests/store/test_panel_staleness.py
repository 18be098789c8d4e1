"""A panel is stale only when the sources serving what it shows are not live (issue: "STALE (cluster not live)"
while the agents kept the queue and alerts current)."""

from __future__ import annotations

from console.screens.dashboard_facts import alerts_stale_note, queue_panel, stale_note
from console.store import SourceState
from tests.store.test_store_merge import two_sources


def test_nothing_is_stale_while_every_source_is_live() -> None:
    store = two_sources()
    assert stale_note(store, store.nodes, cluster_wide=True) == ""


def test_a_node_served_by_its_live_agent_is_not_stale_while_the_cluster_is_down() -> None:
    store = two_sources()
    store.set_source_state("c", SourceState.RECONNECTING)
    assert stale_note(store, ["N-1"]) == ""  # the agent a1 serves N-1 and is live
    assert "c not live" in stale_note(store, ["N-2"])  # N-2 has no agent: still the cluster's replica
    title, jobs = queue_panel(store, "M-1", None)
    assert "STALE" not in title and [j.id for j in jobs] == ["J-1"]
    assert "STALE (c not live)" in queue_panel(store, None, None)[0]  # only the cluster API knows the backlog
    assert alerts_stale_note(store, [store.alerts["A-1"]]) == ""


def test_the_agent_down_too_makes_its_node_stale() -> None:
    store = two_sources()
    store.set_source_state("c", SourceState.RECONNECTING)
    store.set_source_state("a1", SourceState.STALE)
    assert "not live" in stale_note(store, ["N-1"])
    assert "not live" in alerts_stale_note(store, [store.alerts["A-1"]])
