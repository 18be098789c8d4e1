"""Store: each event type, seq ordering, indexes across changes, change sets and listeners."""

from __future__ import annotations

from console.api.models import JobRemoved
from console.api.sse import MalformedEvent
from console.store import ApplyOutcome, SourceState, Store
from tests.store import factories as f


def fresh(**kw: object) -> Store:
    store = Store()
    store.apply_snapshot(
        "c",
        f.snapshot(
            10,
            nodes=[f.node("N-1"), f.node("N-2")],
            machines=[f.machine("M-1", "N-1"), f.machine("M-2", "N-1", state="running"), f.machine("M-3", "N-2")],
            jobs=[
                f.job("J-1", machine_id="M-2", node_id="N-1", status="running", queue_position=0),
                f.job("J-2", machine_id="M-2", node_id="N-1", status="assigned", queue_position=2),
                f.job("J-3", machine_id="M-2", node_id="N-1", status="assigned", queue_position=1),
                f.job("J-4", priority=1),
            ],
            alerts=[f.alert("A-1"), f.alert("A-2", priority="critical", source_id="M-3")],
            quality_=[f.quality("machine", "M-1"), f.quality("node", "M-1")],
        ),
    )
    store.take_changes()
    return store


def test_snapshot_fills_tables_and_source_state() -> None:
    store = fresh()
    assert set(store.machines) == {"M-1", "M-2", "M-3"}
    assert set(store.quality) == {("machine", "M-1"), ("node", "M-1")}
    status = store.sources["c"]
    assert (status.seq, status.instance_id, status.snapshots_total) == (10, "inst-1", 1)
    assert store.cluster is not None and store.cluster.id == "C-1"
    assert store.node_source("N-1") == "c"


def test_seq_order_duplicate_and_gap() -> None:
    store = fresh()
    assert store.apply_event("c", f.ev(11, "node.updated", f.node("N-1", state="degraded"))) is ApplyOutcome.APPLIED
    assert store.apply_event("c", f.ev(11, "node.updated", f.node("N-1", state="offline"))) is ApplyOutcome.DUPLICATE
    assert store.apply_event("c", f.ev(5, "node.updated", f.node("N-1", state="offline"))) is ApplyOutcome.DUPLICATE
    assert store.apply_event("c", f.ev(13, "node.updated", f.node("N-1", state="offline"))) is ApplyOutcome.GAP
    assert store.nodes["N-1"].state == "degraded"
    assert store.sources["c"].seq == 11
    assert store.sources["c"].events_total == 1


def test_event_before_any_snapshot_is_a_gap() -> None:
    store = Store()
    assert store.apply_event("x", f.ev(1, "node.updated", f.node())) is ApplyOutcome.GAP
    assert store.nodes == {}


def test_unknown_type_advances_seq_but_changes_nothing() -> None:
    store = fresh()
    assert store.apply_event("c", f.ev(11, "robot.danced", None)) is ApplyOutcome.IGNORED
    assert store.sources["c"].seq == 11
    assert store.take_changes().empty
    assert store.apply_event("c", f.ev(12, "node.updated", f.node("N-1", city="Paris"))) is ApplyOutcome.APPLIED


def test_telemetry_merges_and_keeps_history() -> None:
    store = fresh()
    store.apply_event("c", f.ev(11, "machine.telemetry", f.telemetry("M-1", bed_c=55.0)))
    store.apply_event("c", f.ev(12, "machine.telemetry", f.telemetry("M-1", bed_c=56.0, nozzle_c=200.0)))
    assert store.machine_telemetry("M-1") == {"nozzle_c": 200.0, "bed_c": 56.0}
    assert store.tables_as_json()["machines"]["M-1"]["telemetry"] == {"nozzle_c": 200.0, "bed_c": 56.0}
    assert store.current_machine("M-1").telemetry == {"nozzle_c": 200.0, "bed_c": 56.0}  # type: ignore[union-attr]
    assert store.telemetry_series("M-1", "bed_c") == [55.0, 56.0]
    assert store.telemetry_series("M-2", "bed_c") == []
    changes = store.take_changes()
    assert changes.telemetry_only == {"M-1"} and changes.machines == set() and not changes.structure
    # telemetry for a machine we do not know is taken (seq advances) but changes nothing
    assert store.apply_event("c", f.ev(13, "machine.telemetry", f.telemetry("M-404", x=1.0))) is ApplyOutcome.APPLIED
    assert "M-404" not in store.machines


def test_telemetry_history_is_bounded() -> None:
    store = Store(history_len=5)
    store.apply_snapshot("c", f.snapshot(0, machines=[f.machine("M-1")]))
    for i in range(100):
        store.apply_event("c", f.ev(i + 1, "machine.telemetry", f.telemetry("M-1", t=float(i))))
    assert store.telemetry_series("M-1", "t") == [95.0, 96.0, 97.0, 98.0, 99.0]


def test_telemetry_then_update_counts_as_machine_change() -> None:
    store = fresh()
    store.apply_event("c", f.ev(11, "machine.telemetry", f.telemetry("M-1", bed_c=55.0)))
    store.apply_event("c", f.ev(12, "machine.updated", f.machine("M-1", "N-1", state="running")))
    changes = store.take_changes()
    assert changes.machines == {"M-1"} and changes.telemetry_only == set()


def test_machine_indexes_follow_state_node_and_kind_changes() -> None:
    store = fresh()
    assert store.counts_by_state() == {"idle": 2, "running": 1}
    store.apply_event("c", f.ev(11, "machine.updated", f.machine("M-1", "N-2", state="fault", kind="cnc_mill")))
    assert [m.id for m in store.machines_by_node("N-1")] == ["M-2"]
    assert [m.id for m in store.machines_by_node("N-2")] == ["M-1", "M-3"]
    assert store.counts_by_state() == {"idle": 1, "running": 1, "fault": 1}
    assert store.counts_by_state("N-2") == {"idle": 1, "fault": 1}
    assert [m.id for m in store.machines_in_state("fault")] == ["M-1"]
    assert [m.id for m in store.machines_of_kind("cnc_mill")] == ["M-1"]
    assert store.machines_by_state_index.get("idle") == {"M-3"}
    changes = store.take_changes()
    assert changes.structure and "machines" in changes.structure_tables
    events = store.recent_machine_events("M-1")
    assert [e.type for e in events] == ["alert", "state"]  # A-1 (from the snapshot), then the state change
    assert "idle → fault" in events[1].summary


def test_new_machine_and_snapshot_removal_update_indexes() -> None:
    store = fresh()
    store.apply_event("c", f.ev(11, "machine.updated", f.machine("M-9", "N-2")))
    assert store.take_changes().structure
    # a later snapshot without M-3 and M-9 removes them (and reports them changed)
    store.apply_snapshot(
        "c",
        f.snapshot(
            20,
            nodes=[f.node("N-1"), f.node("N-2")],
            machines=[f.machine("M-1", "N-1"), f.machine("M-2", "N-1", state="running")],
        ),
    )
    changes = store.take_changes()
    assert {"M-3", "M-9"} <= changes.machines
    assert "M-1" not in changes.machines  # unchanged objects are not reported
    assert changes.structure
    assert store.machines_by_node("N-2") == []
    assert store.counts_by_state() == {"idle": 1, "running": 1}
    assert store.jobs == {} and store.backlog() == [] and store.jobs_for_machine("M-2") == []
    assert store.alerts == {} and store.alerts_for("machine", "M-1") == []
    assert store.quality == {}
    assert store.sources["c"].seq == 20


def test_jobs_queue_order_moves_backlog_and_removal() -> None:
    store = fresh()
    assert [j.id for j in store.jobs_for_machine("M-2")] == ["J-1", "J-3", "J-2"]
    assert [j.id for j in store.backlog()] == ["J-4"]
    store.apply_event(
        "c",
        f.ev(
            11,
            "job.updated",
            f.job("J-4", priority=1, machine_id="M-1", node_id="N-1", status="assigned", queue_position=0),
        ),
    )
    assert store.backlog() == []
    assert [j.id for j in store.jobs_for_machine("M-1")] == ["J-4"]
    assert {j.id for j in store.jobs_for_node("N-1")} == {"J-1", "J-2", "J-3", "J-4"}
    store.apply_event("c", f.ev(12, "job.updated", f.job("J-2", machine_id="M-3", node_id="N-2", status="assigned")))
    assert [j.id for j in store.jobs_for_machine("M-2")] == ["J-1", "J-3"]
    assert [j.id for j in store.jobs_for_node("N-2")] == ["J-2"]
    store.apply_event("c", f.ev(13, "job.updated", f.job("J-5", priority=2)))
    store.apply_event("c", f.ev(14, "job.updated", f.job("J-6", priority=2, status="cancelled")))
    assert [j.id for j in store.backlog()] == ["J-5"]
    store.take_changes()
    store.apply_event("c", f.ev(15, "job.removed", JobRemoved(id="J-2")))
    store.apply_event("c", f.ev(16, "job.removed", JobRemoved(id="J-5")))
    assert "J-2" not in store.jobs and store.jobs_for_node("N-2") == [] and store.backlog() == []
    changes = store.take_changes()
    assert changes.jobs == {"J-2", "J-5"} and changes.structure


def test_alerts_priority_source_and_resolution() -> None:
    store = fresh()
    assert [a.id for a in store.active_alerts()] == ["A-2", "A-1"]
    assert store.alert_counts_by_priority() == {"high": 1, "critical": 1}
    store.apply_event("c", f.ev(11, "alert.raised", f.alert("A-3", kind="node", source_id="N-1", priority="low")))
    store.apply_event("c", f.ev(12, "alert.updated", f.alert("A-1", state="shelved", priority="medium")))
    assert [a.id for a in store.active_alerts()] == ["A-2", "A-3"]
    assert [a.id for a in store.active_alerts(include_shelved=True)] == ["A-2", "A-1", "A-3"]
    assert [a.id for a in store.alerts_for("node", "N-1")] == ["A-3"]
    assert store.alert_counts_by_priority() == {"critical": 1, "medium": 1, "low": 1}
    store.take_changes()
    store.apply_event("c", f.ev(13, "alert.updated", f.alert("A-2", source_id="M-3", state="resolved")))
    assert "A-2" not in store.alerts and store.alerts_for("machine", "M-3") == []
    assert store.alert_counts_by_priority() == {"medium": 1, "low": 1}
    changes = store.take_changes()
    assert changes.alerts == {"A-2"} and changes.structure
    # a resolved alert we never had is fine
    assert store.apply_event("c", f.ev(14, "alert.updated", f.alert("A-9", state="resolved"))) is ApplyOutcome.APPLIED
    assert "A-9" not in store.alerts


def test_alert_raised_for_a_machine_lands_in_its_event_ring() -> None:
    store = fresh()
    store.apply_event("c", f.ev(11, "alert.raised", f.alert("A-5", source_id="M-2", code="E7", message="jam")))
    ring = store.recent_machine_events("M-2")
    assert ring[-1].type == "alert" and "E7" in ring[-1].summary


def test_quality_audit_cluster_events() -> None:
    store = fresh()
    store.apply_event(
        "c",
        f.ev(
            11,
            "quality.updated",
            f.quality("cluster", "C-1", oee=0.7, availability=1.0, performance=1.0, quality_rate=0.7),
        ),
    )
    store.apply_event("c", f.ev(12, "audit.appended", f.audit("AU-1")))
    store.apply_event("c", f.ev(13, "cluster.updated", f.cluster(13, name="Renamed")))
    assert store.quality[("cluster", "C-1")].oee == 0.7
    assert [a.id for a in store.audit] == ["AU-1"]
    assert store.cluster is not None and store.cluster.name == "Renamed"
    changes = store.take_changes()
    assert changes.quality == {("cluster", "C-1")} and changes.audit == {"AU-1"} and changes.cluster


def test_audit_is_bounded() -> None:
    store = Store(audit_limit=3)
    store.apply_snapshot("c", f.snapshot(0))
    for i in range(10):
        store.apply_event("c", f.ev(i + 1, "audit.appended", f.audit(f"AU-{i}")))
    assert [a.id for a in store.audit] == ["AU-7", "AU-8", "AU-9"]


def test_listener_called_once_per_clean_to_dirty() -> None:
    store = fresh()
    calls: list[int] = []
    remove = store.add_listener(lambda: calls.append(1))
    for seq in range(11, 20):
        store.apply_event("c", f.ev(seq, "machine.telemetry", f.telemetry("M-1", bed_c=float(seq))))
    assert calls == [1]
    store.take_changes()
    assert not store.dirty
    store.apply_event("c", f.ev(20, "node.updated", f.node("N-1", state="offline")))
    assert calls == [1, 1]
    remove()
    store.take_changes()
    store.apply_event("c", f.ev(21, "node.updated", f.node("N-1", state="online")))
    assert calls == [1, 1]


def test_broken_listener_does_not_stop_ingest() -> None:
    store = fresh()

    def boom() -> None:
        raise RuntimeError("listener bug")

    store.add_listener(boom)
    assert store.apply_event("c", f.ev(11, "node.updated", f.node("N-1", state="offline"))) is ApplyOutcome.APPLIED
    assert store.nodes["N-1"].state == "offline"


def test_sources_keep_their_own_seq_and_objects() -> None:
    store = fresh()
    store.apply_snapshot(
        "agent-N-3", f.snapshot(500, nodes=[f.node("N-3")], machines=[f.machine("M-30", "N-3")], instance_id="agent")
    )
    assert store.sources["c"].seq == 10 and store.sources["agent-N-3"].seq == 500
    assert store.apply_event("c", f.ev(11, "node.updated", f.node("N-1"))) is ApplyOutcome.APPLIED
    assert store.apply_event("agent-N-3", f.ev(501, "node.updated", f.node("N-3"))) is ApplyOutcome.APPLIED
    assert store.node_source("N-3") == "agent-N-3" and store.node_source("N-1") == "c"
    # a snapshot of the cluster source that lacks N-3 does not remove the agent's objects
    store.apply_snapshot("c", f.snapshot(30, nodes=[f.node("N-1")], machines=[f.machine("M-1")]))
    assert "N-3" in store.nodes and "M-30" in store.machines and "N-2" not in store.nodes
    store.forget_source("agent-N-3")
    assert "N-3" not in store.nodes and "M-30" not in store.machines and "agent-N-3" not in store.sources


def test_source_state_log_and_malformed() -> None:
    store = fresh()
    store.register_source("c", kind="cluster", url="http://127.0.0.1:1")
    store.take_changes()
    store.set_source_state("c", SourceState.RECONNECTING, reason="boom", retry_at=1e12)
    status = store.sources["c"]
    assert status.state == "reconnecting" and status.reason == "boom" and status.retry_in() is not None
    assert "boom" in status.log[-1].message
    assert store.take_changes().sources == {"c"}
    bad = MalformedEvent(11, "machine.updated", "progress: too big", "{...}")
    assert store.record_malformed("c", bad) is ApplyOutcome.IGNORED
    assert status.seq == 11 and status.malformed_total == 1 and status.malformed[-1].reason == "progress: too big"
    assert store.record_malformed("c", MalformedEvent(None, "x", "bad id", "")) is ApplyOutcome.IGNORED
    assert store.record_malformed("c", MalformedEvent(5, "x", "old", "")) is ApplyOutcome.DUPLICATE
    assert store.record_malformed("c", MalformedEvent(20, "x", "ahead", "")) is ApplyOutcome.GAP
    assert status.seq == 11 and status.malformed_total == 4


def test_events_per_second_buckets() -> None:
    store = fresh()
    status = store.sources["c"]
    for i in range(5):
        status.note_event(100.2 + i * 0.1)
    assert status.events_per_second(100.9) == 5  # the first second is not over: what it has so far, not "0 ev/s"
    assert status.events_per_second(101.5) == 5
    status.note_event(101.1)
    assert status.events_per_second(101.5) == 5
    assert status.events_per_second(102.2) == 1
    assert status.events_per_second(110.0) == 0


def test_tables_as_json_is_plain_data() -> None:
    store = fresh()
    tables = store.tables_as_json()
    assert tables["machines"]["M-1"]["envelope_mm"] == [200.0, 200.0, 200.0]
    assert "machine/M-1" in tables["quality"] and "node/M-1" in tables["quality"]
