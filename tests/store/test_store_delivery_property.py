"""Property: whatever the delivery does (duplicates, stale replays, lost events), the store is never wrong.

A small reference model (plain dicts, independent of the store's code) plays the server: it applies a generated
sequence of events in order and can give a snapshot at any ``seq``. The delivery then mangles the stream; a
source-like driver applies what arrives and resyncs from a snapshot at the server's current ``seq`` whenever the store
answers ``GAP``. After every step the store must equal the reference at the store's own ``seq`` (so: the in-order
state, or the fresh snapshot it resynced from), and once the tail is delivered it must equal the final in-order state.
The store's incremental indexes must also match indexes rebuilt from its tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.api.models import (
    Alert,
    Cluster,
    Event,
    Job,
    JobRemoved,
    Machine,
    MachineTelemetry,
    Node,
    Quality,
    Snapshot,
)
from console.store import ApplyOutcome, Store
from tests.store import factories as f

NODE_IDS = ["N-1", "N-2", "N-3"]
MACHINE_IDS = ["M-1", "M-2", "M-3", "M-4"]
JOB_IDS = ["J-1", "J-2", "J-3", "J-4", "J-5"]
ALERT_IDS = ["A-1", "A-2", "A-3"]


@dataclass
class Truth:
    """The server: state after each seq, built with plain dict operations."""

    seq: int
    cluster: Cluster
    nodes: dict[str, Node] = field(default_factory=dict)
    machines: dict[str, Machine] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    quality: dict[tuple[str, str], Quality] = field(default_factory=dict)

    def copy(self) -> Truth:
        return Truth(
            self.seq,
            self.cluster,
            dict(self.nodes),
            dict(self.machines),
            dict(self.jobs),
            dict(self.alerts),
            dict(self.quality),
        )

    def apply(self, type_: str, data: Any) -> None:
        self.seq += 1
        if type_ == "node.updated":
            self.nodes[data.id] = data
        elif type_ == "machine.updated":
            self.machines[data.id] = data
        elif type_ == "machine.telemetry":
            old = self.machines.get(data.machine_id)
            if old is not None:
                merged = dict(old.telemetry)
                merged.update(data.values)
                self.machines[data.machine_id] = old.model_copy(update={"telemetry": merged})
        elif type_ == "job.updated":
            self.jobs[data.id] = data
        elif type_ == "job.removed":
            self.jobs.pop(data.id, None)
        elif type_ in ("alert.raised", "alert.updated"):
            if data.state == "resolved":
                self.alerts.pop(data.id, None)
            else:
                self.alerts[data.id] = data
        elif type_ == "quality.updated":
            self.quality[data.key] = data
        elif type_ == "cluster.updated":
            self.cluster = data

    def snapshot(self) -> Snapshot:
        return Snapshot(
            seq=self.seq,
            cluster=self.cluster,
            nodes=list(self.nodes.values()),
            machines=list(self.machines.values()),
            jobs=list(self.jobs.values()),
            alerts=list(self.alerts.values()),
            quality=list(self.quality.values()),
        )

    def as_json(self) -> dict[str, Any]:
        """The same shape as ``Store.tables_as_json``, built without the store."""

        def dump(table: dict[Any, Any]) -> dict[str, Any]:
            return {"/".join(k) if isinstance(k, tuple) else k: v.model_dump(mode="json") for k, v in table.items()}

        return {
            "cluster": self.cluster.model_dump(mode="json"),
            "nodes": dump(self.nodes),
            "machines": dump(self.machines),
            "jobs": dump(self.jobs),
            "alerts": dump(self.alerts),
            "quality": dump(self.quality),
        }


def base_truth() -> Truth:
    return Truth(
        seq=100,
        cluster=f.cluster(100),
        nodes={n: f.node(n) for n in NODE_IDS[:2]},
        machines={"M-1": f.machine("M-1", "N-1"), "M-2": f.machine("M-2", "N-2", state="running", job_id="J-1")},
        jobs={"J-1": f.job("J-1", machine_id="M-2", node_id="N-2", status="running"), "J-2": f.job("J-2")},
        alerts={"A-1": f.alert("A-1", source_id="M-1")},
        quality={("machine", "M-1"): f.quality("machine", "M-1")},
    )


# --- event strategies -------------------------------------------------------------------------------------------------

nodes_st = st.builds(
    lambda i, s: f.node(i, state=s),
    st.sampled_from(NODE_IDS),
    st.sampled_from(["online", "degraded", "offline", "paused", "new_state"]),
)
machines_st = st.builds(
    lambda i, n, s, k, j: f.machine(i, n, state=s, kind=k, job_id=j),
    st.sampled_from(MACHINE_IDS),
    st.sampled_from(NODE_IDS),
    st.sampled_from(["idle", "running", "paused", "fault", "blocked"]),
    st.sampled_from(["fdm_printer", "cnc_mill"]),
    st.none() | st.sampled_from(JOB_IDS),
)
telemetry_st = st.builds(
    lambda i, v: MachineTelemetry(machine_id=i, at=f.T0, values=v),
    st.sampled_from([*MACHINE_IDS, "M-404"]),
    st.dictionaries(
        st.sampled_from(["nozzle_c", "bed_c", "power_kw"]), st.floats(-50, 500, allow_nan=False), min_size=1
    ),
)
jobs_st = st.builds(
    lambda i, m, n, s, q, p: f.job(i, machine_id=m, node_id=n, status=s, queue_position=q, priority=p),
    st.sampled_from(JOB_IDS),
    st.none() | st.sampled_from(MACHINE_IDS),
    st.none() | st.sampled_from(NODE_IDS),
    st.sampled_from(["queued", "assigned", "running", "completed", "cancelled"]),
    st.none() | st.integers(0, 3),
    st.integers(1, 5),
)
alerts_st = st.builds(
    lambda i, p, s, k, sid: f.alert(i, kind=k, source_id=sid, priority=p, state=s),
    st.sampled_from(ALERT_IDS),
    st.sampled_from(["critical", "high", "medium", "low"]),
    st.sampled_from(["active_unacked", "active_acked", "cleared_unacked", "shelved", "resolved"]),
    st.sampled_from(["machine", "node"]),
    st.sampled_from(["M-1", "M-2", "N-1"]),
)
quality_st = st.builds(
    lambda s, i, o: f.quality(s, i, oee=o, availability=1.0, performance=1.0, quality_rate=o),
    st.sampled_from(["machine", "node"]),
    st.sampled_from(["M-1", "N-1"]),
    st.floats(0, 1),
)

event_st = st.one_of(
    st.tuples(st.just("node.updated"), nodes_st),
    st.tuples(st.just("machine.updated"), machines_st),
    st.tuples(st.just("machine.telemetry"), telemetry_st),
    st.tuples(st.just("job.updated"), jobs_st),
    st.tuples(st.just("job.removed"), st.builds(JobRemoved, id=st.sampled_from([*JOB_IDS, "J-404"]))),
    st.tuples(st.sampled_from(["alert.raised", "alert.updated"]), alerts_st),
    st.tuples(st.just("quality.updated"), quality_st),
    st.tuples(st.just("audit.appended"), st.builds(lambda i: f.audit(f"AU-{i}"), st.integers(0, 99))),
    st.tuples(st.just("cluster.updated"), st.builds(lambda n: f.cluster(0, name=n), st.sampled_from(["a", "b"]))),
    st.tuples(st.just("future.thing"), st.none()),
)

delivery_st = st.sampled_from(["ok", "ok", "ok", "drop", "dup", "stale"])


# --- the driver and the checks --------------------------------------------------------------------------------------


def rebuilt_indexes(store: Store) -> dict[str, Any]:
    by_node: dict[str, set[str]] = {}
    by_state: dict[str, set[str]] = {}
    by_kind: dict[str, set[str]] = {}
    for m in store.machines.values():
        by_node.setdefault(m.node_id, set()).add(m.id)
        by_state.setdefault(m.state, set()).add(m.id)
        by_kind.setdefault(m.kind, set()).add(m.id)
    jobs_by_machine: dict[str, set[str]] = {}
    jobs_by_node: dict[str, set[str]] = {}
    for j in store.jobs.values():
        if j.machine_id is not None:
            jobs_by_machine.setdefault(j.machine_id, set()).add(j.id)
        if j.node_id is not None:
            jobs_by_node.setdefault(j.node_id, set()).add(j.id)
    backlog = {j.id for j in store.jobs.values() if j.machine_id is None and j.status not in ("completed", "cancelled")}
    by_priority: dict[str, set[str]] = {}
    by_source: dict[tuple[str, str], set[str]] = {}
    for a in store.alerts.values():
        by_priority.setdefault(a.priority, set()).add(a.id)
        by_source.setdefault((a.source.kind, a.source.id), set()).add(a.id)
    return {
        "by_node": by_node,
        "by_state": by_state,
        "by_kind": by_kind,
        "jobs_by_machine": jobs_by_machine,
        "jobs_by_node": jobs_by_node,
        "backlog": backlog,
        "by_priority": by_priority,
        "by_source": by_source,
    }


def kept_indexes(store: Store) -> dict[str, Any]:
    return {
        "by_node": store.machines_by_node_index.as_dict(),
        "by_state": store.machines_by_state_index.as_dict(),
        "by_kind": store.machines_by_kind_index.as_dict(),
        "jobs_by_machine": store.jobs_by_machine_index.as_dict(),
        "jobs_by_node": store.jobs_by_node_index.as_dict(),
        "backlog": set(store.backlog_ids),
        "by_priority": store.alerts_by_priority_index.as_dict(),
        "by_source": store.alerts_by_source_index.as_dict(),
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(event_st, min_size=1, max_size=40), data=st.data())
def test_store_is_never_wrong_whatever_the_delivery(events: list[tuple[str, Any]], data: st.DataObject) -> None:
    truth = base_truth()
    history: dict[int, Truth] = {truth.seq: truth.copy()}
    stream: list[Event] = []
    for type_, payload in events:
        truth.apply(type_, payload)
        history[truth.seq] = truth.copy()
        stream.append(Event(truth.seq, type_, payload))
    expected_json = {seq: state.as_json() for seq, state in history.items()}

    store = Store()
    store.apply_snapshot("c", history[100].snapshot())
    resyncs = 0

    def deliver(event: Event, server_seq: int) -> None:
        nonlocal resyncs
        outcome = store.apply_event("c", event)
        if outcome is ApplyOutcome.GAP:
            resyncs += 1
            store.apply_snapshot("c", history[server_seq].snapshot())
        seq = store.sources["c"].seq
        assert seq is not None
        assert store.tables_as_json() == expected_json[seq], f"wrong state at seq {seq} after {outcome}"

    for index, event in enumerate(stream):
        action = data.draw(delivery_st)
        if action == "drop":
            continue
        deliver(event, event.seq)
        if action == "dup":
            deliver(event, event.seq)
        elif action == "stale":
            deliver(stream[data.draw(st.integers(0, index))], event.seq)

    # The tail: resume after the store's seq, as a source would with Last-Event-ID.
    last = store.sources["c"].seq
    assert last is not None
    for event in stream:
        if event.seq > last:
            assert store.apply_event("c", event) is not ApplyOutcome.GAP
    assert store.sources["c"].seq == truth.seq
    assert store.tables_as_json() == expected_json[truth.seq]
    assert kept_indexes(store) == rebuilt_indexes(store)
