"""Several sources at once: per-source replicas merged by node (cluster while live, else the node's live agent, else
the freshest; newest ``last_seen`` between live sources), change sets on switches, commands' source, disagreements."""

from __future__ import annotations

from console.api.models import JobRemoved, Snapshot, WhoAmI
from console.store import SourceState, Store
from tests.store import factories as f
from tests.store.test_store_delivery_property import kept_indexes, rebuilt_indexes

LIVE, RECONNECTING, STALE = SourceState.LIVE, SourceState.RECONNECTING, SourceState.STALE


def cluster_snapshot(seq: int = 10) -> Snapshot:
    return f.snapshot(
        seq,
        nodes=[f.node("N-1"), f.node("N-2")],
        machines=[f.machine("M-1", "N-1"), f.machine("M-2", "N-2")],
        jobs=[
            f.job("J-1", machine_id="M-1", node_id="N-1", status="assigned"),
            f.job("J-2", machine_id="M-2", node_id="N-2", status="assigned"),
            f.job("J-B"),
        ],
        alerts=[f.alert("A-1", source_id="M-1"), f.alert("A-C", kind="cluster", source_id="C-1")],
        quality_=[f.quality("node", "N-1"), f.quality("cluster", "C-1")],
    )


def agent_snapshot(seq: int = 500, **over: object) -> Snapshot:
    """The agent of N-1: the same ids as the cluster for its node, its own seq and its own "cluster of one"."""
    snap = f.snapshot(
        seq,
        nodes=[f.node("N-1")],
        machines=[f.machine("M-1", "N-1")],
        jobs=[f.job("J-1", machine_id="M-1", node_id="N-1", status="assigned")],
        alerts=[f.alert("A-1", source_id="M-1")],
        quality_=[f.quality("node", "N-1")],
        instance_id="agent-N-1",
    )
    return snap.model_copy(update={"cluster": f.cluster(seq, "agent-N-1", id="N-1", name="node N-1")} | over)


def two_sources(*, agent_first: bool = False) -> Store:
    store = Store()
    order = [("a1", "agent"), ("c", "cluster")] if agent_first else [("c", "cluster"), ("a1", "agent")]
    for sid, kind in order:
        store.register_source(sid, kind=kind)
    store.apply_snapshot("c", cluster_snapshot())
    store.apply_snapshot("a1", agent_snapshot())
    store.set_source_state("c", LIVE)
    store.set_source_state("a1", LIVE)
    store.take_changes()
    return store


def check_consistent(store: Store) -> None:
    assert kept_indexes(store) == rebuilt_indexes(store)
    for table in ("nodes", "machines", "jobs", "alerts", "quality"):
        assert set(store._owners[table]) == set(getattr(store, table)), table


def test_both_live_the_merged_view_is_the_clusters() -> None:
    for agent_first in (False, True):
        store = two_sources(agent_first=agent_first)
        replica = store.replica("c")
        assert replica is not None
        assert store.machines == replica.machines and store.jobs == replica.jobs and store.nodes == replica.nodes
        assert store.alerts == replica.alerts and store.quality == replica.quality
        assert store.cluster is not None and store.cluster.id == "C-1"  # never the agent's "cluster of one"
        assert store.node_source("N-1") == "c" and store.owner("machines", "M-1") == "c"
        assert store.command_source("machine", "M-1") == "c"
        assert store.disagreements("N-1") == []
        check_consistent(store)


def test_cluster_reconnecting_switches_agent_served_nodes_to_the_agent() -> None:
    store = two_sources()
    # The agent moves on while the cluster is cut off (the cluster's replica would not hear of it).
    store.set_source_state("c", RECONNECTING, reason="boom")
    changes = store.take_changes()
    assert changes.sources == {"c"}
    assert store.node_source("N-1") == "a1" and store.node_source("N-2") == "c"
    assert store.command_source("machine", "M-1") == "a1"
    assert store.command_source("machine", "M-2") is None  # N-2 has no live source
    assert store.command_source("job", "J-B") is None  # the backlog is the cluster's alone
    # Same data on both: nothing else to repaint, but the objects now come from the agent.
    assert store.owner("machines", "M-1") == "a1" and store.owner("jobs", "J-1") == "a1"
    assert store.owner("machines", "M-2") == "c" and store.owner("jobs", "J-B") == "c"
    assert store.cluster is not None and store.cluster.id == "C-1"
    store.apply_event("a1", f.ev(501, "machine.updated", f.machine("M-1", "N-1", state="running", last_seen=f.at(9))))
    store.apply_event("a1", f.ev(502, "job.updated", f.job("J-A", machine_id="M-1", node_id="N-1", status="queued")))
    store.apply_event("a1", f.ev(503, "job.removed", JobRemoved(id="J-1")))
    changes = store.take_changes()
    assert changes.machines == {"M-1"} and changes.jobs == {"J-A", "J-1"} and changes.structure
    assert store.machines["M-1"].state == "running" and "J-A" in store.jobs and "J-1" not in store.jobs
    assert [j.id for j in store.jobs_for_node("N-1")] == ["J-A"]
    check_consistent(store)


def test_cluster_back_switches_back_and_reports_the_disagreement() -> None:
    store = two_sources()
    store.set_source_state("c", STALE)
    store.apply_event("a1", f.ev(501, "machine.updated", f.machine("M-1", "N-1", state="running", last_seen=f.at(9))))
    store.apply_event("a1", f.ev(502, "job.updated", f.job("J-A", machine_id="M-1", node_id="N-1", status="queued")))
    store.apply_event("a1", f.ev(503, "node.updated", f.node("N-1", state="degraded", last_seen=f.at(9))))
    store.take_changes()
    store.set_source_state("c", LIVE)
    changes = store.take_changes()
    assert store.node_source("N-1") == "c" and store.command_source("machine", "M-1") == "c"
    # Jobs follow the node's chosen source: the agent-only job goes.
    assert "J-A" not in store.jobs and "J-A" in changes.jobs and changes.structure
    # Both live and disagreeing: the newer last_seen wins for nodes and machines.
    assert store.machines["M-1"].state == "running" and store.owner("machines", "M-1") == "a1"
    assert store.nodes["N-1"].state == "degraded" and store.owner("nodes", "N-1") == "a1"
    found = {(d.kind, d.id): d for d in store.disagreements("N-1")}
    assert set(found) == {("node", "N-1"), ("machine", "M-1")}
    assert found["machine", "M-1"].fields == ["state"]
    assert found["machine", "M-1"].by_source == {"c": f.T0, "a1": f.at(9)}
    # The cluster catches up: newer than the agent now, it wins again and the disagreement is gone.
    store.apply_event("c", f.ev(11, "machine.updated", f.machine("M-1", "N-1", state="running", last_seen=f.at(12))))
    store.apply_event("c", f.ev(12, "node.updated", f.node("N-1", state="degraded", last_seen=f.at(12))))
    assert store.owner("machines", "M-1") == "c" and store.owner("nodes", "N-1") == "c"
    assert store.disagreements("N-1") == []
    check_consistent(store)


def test_node_sources_lists_every_holder() -> None:
    store = two_sources()
    store.set_source_state("c", RECONNECTING)
    held = store.node_sources("N-1")
    assert [(h.source_id, h.state, h.kind, h.chosen) for h in held] == [
        ("c", "reconnecting", "cluster", False),
        ("a1", "live", "agent", True),
    ]
    assert held[0].last_seen == f.T0 and held[1].age_s is None  # no event yet
    assert [h.source_id for h in store.node_sources("N-2")] == ["c"]
    assert store.node_sources("N-404") == []


def test_nothing_live_shows_the_freshest() -> None:
    store = two_sources()
    store.apply_event("c", f.ev(11, "node.updated", f.node("N-1", last_seen=f.at(5))))
    store.apply_event("c", f.ev(12, "job.updated", f.job("J-1", machine_id="M-1", node_id="N-1", status="running")))
    store.apply_event("a1", f.ev(501, "job.updated", f.job("J-1", machine_id="M-1", node_id="N-1", status="paused")))
    assert store.jobs["J-1"].status == "running"
    store.set_source_state("c", STALE)
    assert store.jobs["J-1"].status == "paused"  # the live agent serves N-1
    store.set_source_state("a1", STALE)
    # Both stale: the cluster's node is fresher, so the cluster's data is shown (the screens mark it stale).
    assert store.node_source("N-1") == "c" and store.jobs["J-1"].status == "running"
    assert store.command_source("job", "J-1") is None
    check_consistent(store)


def test_telemetry_of_the_source_not_shown_changes_nothing_visible() -> None:
    store = two_sources()
    store.apply_event("a1", f.ev(501, "machine.telemetry", f.telemetry("M-1", bed_c=60.0)))
    assert store.take_changes().telemetry_only == set()
    assert "bed_c" not in store.machine_telemetry("M-1") and store.telemetry_series("M-1", "bed_c") == []
    store.apply_event("c", f.ev(11, "machine.telemetry", f.telemetry("M-1", bed_c=61.0)))
    assert store.take_changes().telemetry_only == {"M-1"}
    assert store.machine_telemetry("M-1")["bed_c"] == 61.0 and store.telemetry_series("M-1", "bed_c") == [61.0]
    store.set_source_state("c", RECONNECTING)
    assert store.machine_telemetry("M-1")["bed_c"] == 60.0  # the agent's own, kept in its replica
    store.apply_event("a1", f.ev(502, "machine.telemetry", f.telemetry("M-1", bed_c=62.0)))
    assert store.telemetry_series("M-1", "bed_c") == [61.0, 62.0]
    replica = store.replica("c")
    assert replica is not None and replica.telemetry["M-1"]["bed_c"] == 61.0


def test_alerts_follow_their_machines_node() -> None:
    store = two_sources()
    store.set_source_state("c", RECONNECTING)
    store.apply_event("a1", f.ev(501, "alert.updated", f.alert("A-1", source_id="M-1", state="resolved")))
    assert "A-1" not in store.alerts  # the agent serves M-1's node: its word goes
    assert "A-C" in store.alerts  # a cluster-scope alert stays the cluster's
    store.set_source_state("c", LIVE)
    assert "A-1" in store.alerts  # the cluster serves N-1 again and still has it
    check_consistent(store)


def test_agents_only() -> None:
    store = Store()
    store.register_source("a1", kind="agent")
    store.apply_snapshot("a1", agent_snapshot())
    assert store.cluster is not None and store.cluster.name == "node N-1"
    store.register_source("a2", kind="agent")
    a2 = f.snapshot(7, nodes=[f.node("N-2")], machines=[f.machine("M-2", "N-2")], instance_id="agent-N-2")
    store.apply_snapshot("a2", a2.model_copy(update={"cluster": f.cluster(7, "agent-N-2", id="N-2", name="node N-2")}))
    store.set_source_state("a1", LIVE)
    store.set_source_state("a2", LIVE)
    assert store.cluster.name == "2 nodes via agents" and store.cluster.region == "eu"
    assert set(store.nodes) == {"N-1", "N-2"} and set(store.machines) == {"M-1", "M-2"}
    assert store.node_source("N-1") == "a1" and store.node_source("N-2") == "a2"
    assert store.command_source("machine", "M-2") == "a2" and store.command_source("node", "N-1") == "a1"
    store.set_source_state("a2", RECONNECTING)
    assert "M-2" in store.machines and store.command_source("machine", "M-2") is None
    store.forget_source("a2")
    assert set(store.nodes) == {"N-1"} and store.cluster.name == "node N-1"
    check_consistent(store)


def test_whoami_and_cluster_come_from_the_cluster_source() -> None:
    store = Store()
    store.register_source("a1", kind="agent")
    store.register_source("c", kind="cluster")
    store.set_whoami(WhoAmI(operator="agent-op", role="operator"), "a1")
    assert store.whoami is not None and store.whoami.operator == "agent-op"
    store.set_whoami(WhoAmI(operator="alice", role="supervisor"), "c")
    store.set_whoami(WhoAmI(operator="agent-op", role="operator"), "a1")
    assert store.whoami.operator == "alice"
    store.apply_snapshot("a1", agent_snapshot())
    store.apply_snapshot("c", cluster_snapshot())
    store.apply_event("a1", f.ev(501, "cluster.updated", f.cluster(501, "agent-N-1", id="N-1", name="renamed")))
    assert store.cluster is not None and store.cluster.id == "C-1"
    store.forget_source("c")
    assert store.whoami.operator == "agent-op" and store.cluster.id == "N-1"


def test_octoprint_does_not_replace_the_cluster_and_keeps_its_machine() -> None:
    store = Store()
    store.register_source("c", kind="cluster")
    store.register_source("op:a", kind="octoprint")
    store.register_source("op:b", kind="octoprint")
    store.apply_snapshot("c", cluster_snapshot())
    synthetic = f.cluster(0, "octoprint", id="octoprint", name="OctoPrint")
    for sid, mid in (("op:a", "OP-a"), ("op:b", "OP-b")):
        snap = f.snapshot(0, nodes=[f.node("octoprint")], machines=[f.machine(mid, "octoprint")])
        store.apply_snapshot(sid, snap.model_copy(update={"cluster": synthetic}))
    store.set_source_state("op:a", LIVE)  # op:b still connecting: its printer is shown all the same
    assert store.cluster is not None and store.cluster.id == "C-1"
    assert {m.id for m in store.machines_by_node("octoprint")} == {"OP-a", "OP-b"}
    assert store.command_source("machine", "OP-a") == "op:a" and store.command_source("machine", "OP-b") is None
    store.set_source_state("op:b", LIVE)
    assert store.command_source("machine", "OP-b") == "op:b"
    check_consistent(store)


def test_audit_reported_by_two_sources_is_kept_once() -> None:
    store = two_sources()
    store.apply_event("c", f.ev(11, "audit.appended", f.audit("AU-1")))
    store.apply_event("a1", f.ev(501, "audit.appended", f.audit("AU-1")))
    assert [a.id for a in store.audit] == ["AU-1"]


def test_agent_snapshot_without_the_cluster_being_live_then_forgotten() -> None:
    store = two_sources()
    store.set_source_state("c", RECONNECTING)
    store.apply_snapshot("a1", agent_snapshot(600, machines=[]))  # the live agent serving N-1 says M-1 is gone
    assert "M-1" not in store.machines and store.machines_by_node("N-1") == []
    store.forget_source("a1")
    assert store.owner("machines", "M-1") == "c"
    assert store.node_source("N-1") == "c" and store.owner("jobs", "J-1") == "c"
    check_consistent(store)
