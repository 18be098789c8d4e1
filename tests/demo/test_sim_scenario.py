"""The default scenario's shape, the scheduler's compatibility, faults, telemetry rate, payload validity and scale."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pydantic import TypeAdapter

from console.api.models import EVENT_MODELS, Alert, Job, Machine, MachineTelemetry
from console.api.wire import ApiModel
from console.demo.sim import SimConfig, Simulation, SteppedClock
from console.demo.sim.engine import LINK_DOWN, LINK_UP, NodeLink
from console.demo.views import View

KNOWN_TELEMETRY = {
    "nozzle_c", "bed_c", "chamber_c", "spindle_rpm", "spindle_load_pct", "feed_mm_min", "laser_pct", "power_kw",
    "vibration_mm_s", "barrel_c", "mould_c",
}  # fmt: skip


def _fits(job: Job, machine: Machine) -> bool:
    return all(s <= e for s, e in zip(sorted(job.size_mm), sorted(machine.envelope_mm), strict=True))


def _compatible(job: Job, machine: Machine) -> bool:
    return job.process in machine.processes and job.material in machine.materials and _fits(job, machine)


class Run:
    def __init__(self, sim: Simulation, events: list[tuple[str, ApiModel]], snapshots: list[dict[str, Any]]) -> None:
        self.sim = sim
        self.events = events
        self.snapshots = snapshots


@pytest.fixture(scope="module")
def long_run() -> Run:
    """Twelve simulated hours of the default scenario, with a snapshot of jobs and machines every half hour."""
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=7), clock)
    events: list[tuple[str, ApiModel]] = []
    sim.subscribe(lambda t, p: events.append((t, p)))
    snapshots: list[dict[str, Any]] = []
    for step in range(12 * 60):
        clock.advance(60.0)
        sim.tick()
        if step % 30 == 0:
            snapshots.append({"jobs": sim.jobs(), "machines": {m.id: m for m in sim.machines()}})
    return Run(sim, events, snapshots)


def test_default_scenario_shape() -> None:
    sim = Simulation(SimConfig(), SteppedClock())
    nodes = sim.nodes()
    machines = sim.machines()
    assert len(nodes) == 6
    assert {n.city for n in nodes} == {"Leeds", "Manchester", "Sheffield", "York", "Newcastle", "Liverpool"}
    assert all(n.city.lower() in n.name.lower() and n.city.upper() in n.id for n in nodes)
    assert all(53.0 < n.lat < 55.5 and -3.5 < n.lon < 0.0 for n in nodes)
    assert 100 <= len(machines) <= 140
    assert sum(n.machine_count for n in nodes) == len(machines)
    kinds = Counter(m.kind for m in machines)
    assert len(kinds) >= 7
    assert len({m.id for m in machines}) == len(machines)
    assert any(m.model == "Prusa MK4" for m in machines) or any(m.model == "Bambu Lab X1E" for m in machines)
    for m in machines:
        assert m.materials and m.processes and min(m.envelope_mm) > 0
        assert set(m.telemetry) <= KNOWN_TELEMETRY
    assert sim.cluster_info().region == "North of England"
    # the shop starts busy
    assert sum(1 for j in sim.jobs() if j.status == "running") >= len(machines) // 2


def test_every_payload_revalidates_through_its_contract_model(long_run: Run) -> None:
    by_type: dict[str, list[ApiModel]] = {}
    for event_type, payload in long_run.events:
        if event_type in (LINK_DOWN, LINK_UP):  # the simulation's own signals to the views: not contract events
            assert isinstance(payload, NodeLink)
            continue
        assert isinstance(payload, EVENT_MODELS[event_type])
        by_type.setdefault(event_type, []).append(payload)
    for event_type, payloads in by_type.items():
        # One JSON array a type, through the same model: the same round trip as one payload at a time, in one call
        # into pydantic's core instead of ~100,000 (13 s -> a few).
        adapter = TypeAdapter(list[EVENT_MODELS[event_type]])  # type: ignore[misc]
        again = adapter.validate_json(adapter.dump_json(payloads))
        assert again == payloads, event_type
    seen = Counter(t for t, _ in long_run.events)
    for needed in ("node.updated", "machine.updated", "machine.telemetry", "job.updated", "job.removed",
                   "alert.raised", "alert.updated", "quality.updated"):  # fmt: skip
        assert seen[needed] > 0, needed
    assert "seq" not in long_run.events[0][1].model_dump()


def test_reads_revalidate(long_run: Run) -> None:
    sim = long_run.sim
    for model in [*sim.nodes(), *sim.machines(), *sim.jobs(), *sim.alerts(), *sim.quality(), *sim.audit()]:
        assert type(model).model_validate_json(model.model_dump_json()) == model


def test_scheduler_places_jobs_only_on_compatible_machines(long_run: Run) -> None:
    checked = 0
    for snap in long_run.snapshots:
        for job in snap["jobs"]:
            if job.status in ("assigned", "running") or (job.status == "paused" and job.machine_id):
                machine = snap["machines"][job.machine_id]
                assert _compatible(job, machine), (job, machine)
                assert machine.node_id == job.node_id
                checked += 1
            if job.status == "queued":
                assert job.node_id is None and job.machine_id is None
            if job.status == "assigned":
                assert job.queue_position is not None and job.queue_position >= 1
    assert checked > 500


def test_job_lifecycle(long_run: Run) -> None:
    statuses: dict[str, list[str]] = {}
    for t, p in long_run.events:
        if t == "job.updated" and isinstance(p, Job):
            seq = statuses.setdefault(p.id, [])
            if not seq or seq[-1] != p.status:
                seq.append(p.status)
    completed = [s for s in statuses.values() if s[-1] == "completed"]
    assert len(completed) > 100
    # a job born during the run walks queued/assigned -> running -> completed
    assert any(s[0] in ("queued", "assigned") and "running" in s for s in completed)
    removed = {p.id for t, p in long_run.events if t == "job.removed"}
    assert removed and all(long_run.sim.job(jid) is None for jid in removed)
    # the job set stays bounded
    assert len(long_run.sim.jobs()) < 4 * 120
    for job in long_run.sim.jobs():
        assert 1 <= job.priority <= 5 and job.part and len(job.design.sha256) == 64
        if job.status in ("running", "assigned"):
            assert job.eta is not None


def test_faults_happen_and_raise_alerts(long_run: Run) -> None:
    alerts = [p for t, p in long_run.events if t == "alert.raised" and isinstance(p, Alert)]
    codes = Counter(a.code for a in alerts)
    assert len(codes) >= 5, codes
    assert all(a.state == "active_unacked" and a.count == 1 for a in alerts)
    machine_states = {p.state for t, p in long_run.events if t == "machine.updated" and isinstance(p, Machine)}
    assert {"running", "idle", "fault", "blocked"} <= machine_states
    reasons = {p.state_reason for t, p in long_run.events if t == "machine.updated" and isinstance(p, Machine)}
    assert "bed not clear" in reasons
    faults = [p for t, p in long_run.events if t == "machine.updated" and isinstance(p, Machine) and p.state == "fault"]
    assert all(f.fault_code for f in faults)
    # faults clear by themselves (filament runout and a bed not clear wait for someone, but floor staff come)
    cleared = [p for t, p in long_run.events if t == "alert.updated" and isinstance(p, Alert)]
    assert any(a.state == "cleared_unacked" for a in cleared)


def test_node_outage_takes_machines_offline_and_back() -> None:
    """A random WAN outage: the cluster's view shows the node and its machines offline, then back (the node itself
    works on: the simulation's own reads never say offline)."""
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=5), clock)
    view = View(sim)
    events: list[tuple[str, Any]] = []
    sim.subscribe(lambda t, p: events.extend(view.translate(t, p)))
    offline_node = None
    for _ in range(48 * 60):
        clock.advance(60.0)
        sim.tick()
        offline = [n for n in view.nodes() if n.state == "offline"]
        if offline:
            offline_node = offline[0]
            break
    assert offline_node is not None
    assert sim.node(offline_node.id).state != "offline"  # type: ignore[union-attr]
    machines = [m for m in view.machines() if m.node_id == offline_node.id]
    assert machines and all(m.state == "offline" for m in machines)
    assert any(a.code == "node_offline" and a.source.id == offline_node.id for a in sim.alerts())
    before = len(events)
    for _ in range(30):
        clock.advance(60.0)
        sim.tick()
    assert view.node(offline_node.id).state != "offline"  # type: ignore[union-attr]
    back = [p for t, p in events[before:] if t == "machine.updated" and isinstance(p, Machine)]
    assert {m.id for m in machines} <= {m.id for m in back if m.state != "offline"}


def test_telemetry_rate_and_values(long_run: Run) -> None:
    telemetry = [p for t, p in long_run.events if isinstance(p, MachineTelemetry)]
    # 0.2 per machine per wall second at speed 20 -> 0.01 per machine per simulated second; minus offline spells
    expected = 0.2 * 120 / 20 * 12 * 3600
    assert 0.9 * expected <= len(telemetry) <= 1.01 * expected
    machines = {m.id: m for m in long_run.sim.machines()}
    for tm in telemetry:
        assert set(tm.values) <= KNOWN_TELEMETRY and tm.values
        kind = machines[tm.machine_id].kind
        if kind == "fdm_printer":
            assert 15 <= tm.values["nozzle_c"] <= 400
        if kind in ("cnc_mill", "cnc_lathe"):
            assert 0 <= tm.values["spindle_rpm"] <= 15000


def test_scale_20000_machines_builds_and_ticks() -> None:
    clock = SteppedClock()
    sim = Simulation(SimConfig(nodes=200, machines_per_node=100, telemetry_hz=0.25), clock)
    assert len(sim.nodes()) == 200
    assert len({n.id for n in sim.nodes()}) == 200
    machines = sim.machines()
    assert len(machines) == 20000 and len({m.id for m in machines}) == 20000
    counts: Counter[str] = Counter()
    sim.subscribe(lambda t, p: counts.update([t]))
    for _ in range(20):  # one wall second at speed 20
        clock.advance(1.0)
        sim.tick()
    assert 4500 <= counts["machine.telemetry"] <= 5000
    assert counts["job.updated"] > 0
