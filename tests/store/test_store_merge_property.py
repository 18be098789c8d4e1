"""Property: two sources (a cluster and the agent of N-1), any interleaving of their in-order event streams, resyncs
and state flips. After every step: each replica equals a store fed that source alone; the merged tables equal what
the selection rule (re-stated here for two sources, from those independent stores) says; the indexes and owners are
consistent with the merged tables."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.api.models import Event, JobRemoved, MachineTelemetry
from console.store import Store
from tests.store import factories as f
from tests.store.test_store_delivery_property import Truth, kept_indexes, rebuilt_indexes

NODES = ["N-1", "N-2"]
MACHINES = ["M-1", "M-2"]
JOBS = ["J-1", "J-2", "J-3"]
ALERTS = ["A-1", "A-2"]
SEEN = [f.at(0), f.at(10), f.at(20)]
SOURCES = ("c", "a")
KIND = {"c": "cluster", "a": "agent"}
ORDER = {"c": 0, "a": 1}

node_st = st.builds(
    lambda i, s, t: f.node(i, state=s, last_seen=t),
    st.sampled_from(NODES),
    st.sampled_from(["online", "degraded"]),
    st.sampled_from(SEEN),
)
machine_st = st.builds(
    lambda i, n, s, t: f.machine(i, n, state=s, last_seen=t),
    st.sampled_from(MACHINES),
    st.sampled_from(NODES),
    st.sampled_from(["idle", "running", "fault"]),
    st.sampled_from(SEEN),
)
job_st = st.builds(
    lambda i, m, n, s: f.job(i, machine_id=m, node_id=n, status=s),
    st.sampled_from(JOBS),
    st.none() | st.sampled_from(MACHINES),
    st.none() | st.sampled_from(NODES),
    st.sampled_from(["queued", "running", "completed"]),
)
alert_st = st.builds(
    lambda i, k, sid, s: f.alert(i, kind=k, source_id=sid, state=s),
    st.sampled_from(ALERTS),
    st.sampled_from(["machine", "node", "job", "cluster"]),
    st.sampled_from(["M-1", "M-1", "M-2", "N-1", "J-1", "C-1"]),
    st.sampled_from(["active_unacked", "active_acked", "resolved"]),
)
quality_st = st.builds(
    lambda s, i, o: f.quality(s, i, oee=o, availability=1.0, performance=1.0, quality_rate=o),
    st.sampled_from(["machine", "node", "cluster"]),
    st.sampled_from(["M-1", "N-1", "N-2", "C-1"]),
    st.sampled_from([0.5, 0.7]),
)
event_st = st.one_of(
    st.tuples(st.just("node.updated"), node_st),
    st.tuples(st.just("machine.updated"), machine_st),
    st.tuples(
        st.just("machine.telemetry"),
        st.builds(
            lambda i, v: MachineTelemetry(machine_id=i, at=f.T0, values={"bed_c": v}),
            st.sampled_from(MACHINES),
            st.sampled_from([1.0, 2.0]),
        ),
    ),
    st.tuples(st.just("job.updated"), job_st),
    st.tuples(st.just("job.removed"), st.builds(JobRemoved, id=st.sampled_from(JOBS))),
    st.tuples(st.sampled_from(["alert.raised", "alert.updated"]), alert_st),
    st.tuples(st.just("quality.updated"), quality_st),
    st.tuples(st.just("cluster.updated"), st.builds(lambda n: f.cluster(0, name=n), st.sampled_from(["x", "y"]))),
)
step_st = st.one_of(
    st.tuples(st.just("event"), st.sampled_from(SOURCES), event_st),
    st.tuples(st.just("state"), st.sampled_from(SOURCES), st.sampled_from(["live", "reconnecting", "stale"])),
    st.tuples(st.just("resync"), st.sampled_from(SOURCES), st.none()),
)


def base(source: str) -> Truth:
    if source == "c":
        return Truth(
            seq=10,
            cluster=f.cluster(10),
            nodes={n: f.node(n) for n in NODES},
            machines={"M-1": f.machine("M-1", "N-1"), "M-2": f.machine("M-2", "N-2")},
            jobs={"J-1": f.job("J-1", machine_id="M-1", node_id="N-1"), "J-2": f.job("J-2")},
            alerts={"A-1": f.alert("A-1", source_id="M-1"), "A-2": f.alert("A-2", kind="cluster", source_id="C-1")},
            quality={("node", "N-1"): f.quality("node", "N-1"), ("cluster", "C-1"): f.quality("cluster", "C-1")},
        )
    return Truth(
        seq=500,
        cluster=f.cluster(500, "agent", id="N-1", name="node N-1"),
        nodes={"N-1": f.node("N-1")},
        machines={"M-1": f.machine("M-1", "N-1")},
        jobs={"J-1": f.job("J-1", machine_id="M-1", node_id="N-1")},
        alerts={"A-1": f.alert("A-1", source_id="M-1")},
        quality={("node", "N-1"): f.quality("node", "N-1")},
    )


# --- the rule, re-stated for two sources over plain tables -------------------------------------------------------


def tie(tables: dict[str, dict[Any, Any]], table: str, obj: Any) -> str | None:
    if table == "nodes":
        return obj.id  # type: ignore[no-any-return]
    if table in ("machines", "jobs"):
        return obj.node_id  # type: ignore[no-any-return]
    kind, ref = (obj.source.kind, obj.source.id) if table == "alerts" else (obj.scope, obj.id)
    if kind == "node":
        return ref  # type: ignore[no-any-return]
    if kind == "machine":
        return m.node_id if (m := tables["machines"].get(ref)) is not None else None
    if kind == "job":
        return j.node_id if (j := tables["jobs"].get(ref)) is not None else None
    return None


def expected(views: dict[str, dict[str, dict[Any, Any]]], live: dict[str, bool]) -> dict[str, dict[Any, Any]]:
    def selection(node_id: str) -> tuple[str, set[str], set[str]] | None:
        holders = [s for s in SOURCES if node_id in views[s]["nodes"]]
        if not holders:
            return None
        up = [s for s in holders if live[s]]
        if up:
            chosen = ["c"] if "c" in up else up  # a live cluster, else the live agent
            eligible = up
        else:
            newest = max(views[s]["nodes"][node_id].last_seen for s in holders)
            chosen = eligible = [s for s in holders if views[s]["nodes"][node_id].last_seen == newest]
        return chosen[0], set(chosen), set(eligible)  # one cluster at most: the first chosen is the primary

    out: dict[str, dict[Any, Any]] = {}
    for table in ("nodes", "machines", "jobs", "alerts", "quality"):
        timed = table in ("nodes", "machines")
        merged: dict[Any, Any] = {}
        for key in set(views["c"][table]) | set(views["a"][table]):
            best = None
            for s in SOURCES:
                obj = views[s][table].get(key)
                if obj is None:
                    continue
                node_id = tie(views[s], table, obj)
                sel = None if node_id is None else selection(node_id)
                if sel is None:
                    preferred, chosen = s == "c", False
                else:
                    if s not in (sel[2] if timed else sel[1]):
                        continue
                    preferred, chosen = s == sel[0], s in sel[1]
                rank = (
                    (obj.last_seen, preferred, chosen, live[s], -ORDER[s]) if timed else (preferred, live[s], -ORDER[s])
                )
                if best is None or rank > best[0]:
                    best = (rank, obj)
            if best is not None:
                merged[key] = best[1]
        out[table] = merged
    return out


def replica_view(store: Store, source: str) -> dict[str, dict[Any, Any]]:
    replica = store.replica(source)
    assert replica is not None
    return {t: dict(replica.table(t)) for t in ("nodes", "machines", "jobs", "alerts", "quality")}


def alone_view(alone: Store) -> dict[str, dict[Any, Any]]:
    return {t: dict(getattr(alone, t)) for t in ("nodes", "machines", "jobs", "alerts", "quality")}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step_st, min_size=1, max_size=40))
def test_merge_follows_the_rule_whatever_the_interleaving(steps: list[tuple[str, str, Any]]) -> None:
    truths = {s: base(s) for s in SOURCES}
    store = Store()
    alone = {s: Store() for s in SOURCES}
    live = {"c": True, "a": True}
    for s in SOURCES:
        store.register_source(s, kind=KIND[s])
        store.apply_snapshot(s, truths[s].snapshot())
        alone[s].apply_snapshot(s, truths[s].snapshot())
        store.set_source_state(s, "live")

    for action, source, payload in steps:
        if action == "event":
            type_, data = payload
            truths[source].apply(type_, data)
            event = Event(truths[source].seq, type_, data)
            store.apply_event(source, event)
            alone[source].apply_event(source, event)
        elif action == "state":
            live[source] = payload == "live"
            store.set_source_state(source, payload)
        else:
            truths[source].seq += 1  # a resync lands on a later seq
            store.apply_snapshot(source, truths[source].snapshot())
            alone[source] = Store()
            alone[source].apply_snapshot(source, truths[source].snapshot())

        views = {s: replica_view(store, s) for s in SOURCES}
        for s in SOURCES:
            assert views[s] == alone_view(alone[s]), f"replica {s} differs from the source alone"
        want = expected({s: alone_view(alone[s]) for s in SOURCES}, live)
        for table, rows in want.items():
            assert getattr(store, table) == rows, f"merged {table} differs from the rule"
        assert store.cluster == truths["c"].cluster  # never the agent's own
        assert kept_indexes(store) == rebuilt_indexes(store)
        for table in want:
            owners = store._owners[table]
            assert set(owners) == set(getattr(store, table))
            for key, obj in getattr(store, table).items():
                assert views[owners[key]][table][key] == obj
        for node_id in NODES:
            expected_primary = None
            holders = [s for s in SOURCES if node_id in views[s]["nodes"]]
            if holders:
                up = [s for s in holders if live[s]]
                if up:
                    expected_primary = "c" if "c" in up else "a"
                else:
                    newest = max(views[s]["nodes"][node_id].last_seen for s in holders)
                    expected_primary = next(s for s in holders if views[s]["nodes"][node_id].last_seen == newest)
                assert store.node_source(node_id) == expected_primary
