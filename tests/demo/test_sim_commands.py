"""Every command's effect, every refusal code, and the audit trail they leave."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from console.api.models import AuditEntry, Job, Machine
from console.api.wire import ApiModel
from console.demo.sim import SimCommandError, SimConfig, Simulation, SteppedClock


class World:
    def __init__(self, seed: int = 7) -> None:
        self.clock = SteppedClock()
        self.sim = Simulation(SimConfig(seed=seed), self.clock)
        self.events: list[tuple[str, ApiModel]] = []
        self.sim.subscribe(lambda t, p: self.events.append((t, p)))

    def run(self, seconds: float, step: float = 10.0) -> None:
        while seconds > 0:
            self.clock.advance(min(step, seconds))
            self.sim.tick()
            seconds -= step

    def run_until(self, predicate: Callable[[], bool], limit_s: float, step: float = 30.0) -> bool:
        waited = 0.0
        while not predicate():
            if waited >= limit_s:
                return False
            self.run(step, step)
            waited += step
        return True

    def jobs(self, status: str) -> list[Job]:
        return [j for j in self.sim.jobs() if j.status == status]

    def refuse(self, action: str, target: str, body: dict, status: int, code: str | None = None) -> SimCommandError:
        before = len(self.sim.audit())
        with pytest.raises(SimCommandError) as info:
            self.sim.execute(action, target, body, "alice", "key-1")
        err = info.value
        assert err.status == status, err
        if code is not None:
            assert err.code == code, err
        assert err.title and err.detail
        audit = self.sim.audit()
        assert len(audit) == before + 1
        assert audit[-1].outcome == "rejected" and audit[-1].detail == err.detail and audit[-1].action == action
        assert err.audit == audit[-1]
        assert self.events[-1] == ("audit.appended", audit[-1])
        return err


@pytest.fixture
def world() -> World:
    w = World()
    w.run(120)
    return w


def test_machine_pause_now_and_resume(world: World) -> None:
    sim = world.sim
    job = world.jobs("running")[0]
    mid = job.machine_id or ""
    n = len(world.events)
    entry = sim.execute("machine.pause", mid, {"mode": "now", "reason": "inspect"}, "alice", "k1")
    assert isinstance(entry, AuditEntry) and entry.outcome == "applied"
    assert entry.reason == "inspect" and entry.idempotency_key == "k1" and entry.target.id == mid
    m = sim.machine(mid)
    assert m is not None and m.state == "paused" and m.paused_by == "alice" and m.job_id == job.id
    assert sim.job(job.id).status == "paused"  # type: ignore[union-attr]
    types = [t for t, _ in world.events[n:]]
    assert "machine.updated" in types and "job.updated" in types and types[-1] == "audit.appended"
    progress = sim.job(job.id).progress  # type: ignore[union-attr]
    world.run(300)
    assert sim.job(job.id).progress == progress  # type: ignore[union-attr]  # a held machine makes nothing
    world.refuse("machine.pause", mid, {}, 409, "already_paused")
    sim.execute("machine.resume", mid, {}, "alice")
    assert sim.machine(mid).state in ("running", "fault", "blocked")  # type: ignore[union-attr]
    assert sim.machine(mid).paused_by is None  # type: ignore[union-attr]
    world.refuse("machine.resume", mid, {}, 409, "not_paused")


def test_machine_pause_after_job_drains(world: World) -> None:
    sim = world.sim
    job = min(world.jobs("running"), key=lambda j: j.eta or j.due_at)
    mid = job.machine_id or ""
    sim.execute("machine.pause", mid, {"mode": "after_job"}, "bob")
    m = sim.machine(mid)
    assert m is not None and m.draining and m.state == "running" and m.paused_by == "bob"
    assert world.run_until(lambda: sim.job(job.id) is None or sim.job(job.id).status == "completed", 4 * 3600)  # type: ignore[union-attr]
    world.run(60)
    m = sim.machine(mid)
    assert m is not None and m.state in ("paused", "blocked", "maintenance", "fault") and not m.draining
    assert m.job_id is None
    world.run(1800)
    assert sim.machine(mid).job_id is None  # type: ignore[union-attr]  # it takes no more
    sim.execute("machine.resume", mid, {}, "bob")
    assert not sim.machine(mid).draining  # type: ignore[union-attr]


def test_bed_not_clear_blocks_until_ready() -> None:
    world = World(seed=2)
    sim = world.sim

    def blocked() -> list[Machine]:
        return [m for m in sim.machines() if m.state == "blocked" and m.state_reason == "bed not clear"]

    assert world.run_until(lambda: bool(blocked()), 12 * 3600, step=60.0)
    mid = blocked()[0].id
    world.run(600)
    m = sim.machine(mid)
    assert m is not None and m.state == "blocked" and m.job_id is None  # it waits for someone
    assert any(a.code == "bed_not_clear" and a.source.id == mid for a in sim.alerts())
    entry = sim.execute("machine.ready", mid, {"reason": "bed emptied"}, "alice")
    assert entry.outcome == "applied"
    m = sim.machine(mid)
    assert m is not None and m.state in ("idle", "running") and m.state_reason is None
    alert = next(a for a in sim.alerts() if a.code == "bed_not_clear" and a.source.id == mid)
    assert alert.state == "cleared_unacked"
    world.refuse("machine.ready", mid, {}, 409, "not_blocked")


def test_node_pause_drains_and_resume(world: World) -> None:
    sim = world.sim
    node = sim.nodes()[0]
    sim.execute("node.pause", node.id, {"reason": "stock take"}, "carol")
    assert sim.node(node.id).state == "paused"  # type: ignore[union-attr]
    world.refuse("node.pause", node.id, {}, 409, "already_paused")
    running_at_pause = {j.id for j in world.jobs("running") if j.node_id == node.id}
    mark = len(world.events)
    world.run(2 * 3600, step=60.0)
    started = {
        p.id for t, p in world.events[mark:]
        if t == "job.updated" and isinstance(p, Job) and p.node_id == node.id and p.status == "running"
    }  # fmt: skip
    assert started <= running_at_pause
    completed = [
        p for t, p in world.events[mark:] if isinstance(p, Job) and p.node_id == node.id and p.status == "completed"
    ]
    assert completed  # running jobs finish
    sim.execute("node.resume", node.id, {}, "carol")
    assert sim.node(node.id).state != "paused"  # type: ignore[union-attr]
    world.run(600)
    assert any(j.node_id == node.id for j in world.jobs("running"))
    world.refuse("node.resume", node.id, {}, 409, "not_paused")


def test_job_pause_resume_cancel(world: World) -> None:
    sim = world.sim
    assigned = world.jobs("assigned")[0]
    sim.execute("job.pause", assigned.id, {}, "alice")
    assert sim.job(assigned.id).status == "paused"  # type: ignore[union-attr]
    world.refuse("job.pause", assigned.id, {}, 409, "already_paused")
    world.run(3600, step=60.0)
    assert sim.job(assigned.id).status == "paused" and sim.job(assigned.id).done_qty == 0  # type: ignore[union-attr]
    sim.execute("job.resume", assigned.id, {}, "alice")
    assert sim.job(assigned.id).status in ("assigned", "running")  # type: ignore[union-attr]
    world.refuse("job.resume", assigned.id, {}, 409, "not_paused")

    running = world.jobs("running")[0]
    sim.execute("job.pause", running.id, {}, "alice")
    m = sim.machine(running.machine_id or "")
    assert m is not None and m.state == "paused" and m.job_id == running.id
    sim.execute("job.resume", running.id, {}, "alice")
    assert sim.job(running.id).status == "running"  # type: ignore[union-attr]

    sim.execute("job.cancel", running.id, {"reason": "customer withdrew"}, "alice")
    assert sim.job(running.id).status == "cancelled"  # type: ignore[union-attr]
    assert sim.machine(running.machine_id or "").job_id != running.id  # type: ignore[union-attr]
    world.refuse("job.cancel", running.id, {}, 409, "job_finished")
    world.refuse("job.reroute", running.id, {"auto": True}, 409, "job_finished")
    world.run(3600, step=60.0)
    assert sim.job(running.id) is None  # removed after a while
    assert ("job.removed", running.id) in [(t, getattr(p, "id", None)) for t, p in world.events]


def test_reroute_moves_queued_job(world: World) -> None:
    sim = world.sim
    job = world.jobs("assigned")[0]
    cands = sim.reroute_candidates(job.id)
    assert cands and all(0.0 <= c.score <= 1.0 for c in cands)
    free = [c for c in cands if not c.blockers]
    assert free
    blocked_seen = False
    for c in cands:  # best first: all free ones before any blocked one
        blocked_seen = blocked_seen or bool(c.blockers)
        assert not (blocked_seen and not c.blockers)
    target = free[0]
    sim.execute("job.reroute", job.id, {"machine_id": target.machine_id}, "alice")
    moved = sim.job(job.id)
    assert moved is not None and moved.machine_id == target.machine_id and moved.node_id == target.node_id
    assert moved.scrap_qty == job.scrap_qty
    world.refuse("job.reroute", job.id, {"machine_id": target.machine_id}, 409, "same_target")
    sim.execute("job.reroute", job.id, {"auto": True}, "alice")
    assert sim.job(job.id).machine_id != target.machine_id  # type: ignore[union-attr]
    node = sim.nodes()[-1]
    other = next(j for j in world.jobs("assigned") if j.node_id != node.id and j.process != "inspection")
    try:
        sim.execute("job.reroute", other.id, {"node_id": node.id}, "alice")
        assert sim.job(other.id).node_id == node.id  # type: ignore[union-attr]
    except SimCommandError as err:  # the node may not be able to take it: then it says why, with a contract code
        assert err.status == 409


def test_reroute_running_needs_restart_and_restart_scraps(world: World) -> None:
    sim = world.sim
    job = world.jobs("running")[0]
    target = next(c for c in sim.reroute_candidates(job.id) if not c.blockers)
    world.refuse("job.reroute", job.id, {"machine_id": target.machine_id}, 409, "job_running")
    old = job.machine_id or ""
    quality_before = next(qq for qq in sim.quality() if qq.scope == "machine" and qq.id == old)
    sim.execute("job.reroute", job.id, {"machine_id": target.machine_id, "restart": True}, "alice")
    moved = sim.job(job.id)
    assert moved is not None and moved.machine_id == target.machine_id and moved.scrap_qty == job.scrap_qty + 1
    assert sim.machine(old).job_id != job.id  # type: ignore[union-attr]
    quality_after = next(qq for qq in sim.quality() if qq.scope == "machine" and qq.id == old)
    assert quality_after.scrap_count >= quality_before.scrap_count + 1


def _find_blocked_pair(sim: Simulation, code: str) -> tuple[str, str] | None:
    for job in sim.jobs():
        if job.status not in ("assigned", "queued"):
            continue
        for c in sim.reroute_candidates(job.id):
            if c.blockers and c.blockers[0].startswith(code + ":"):
                return job.id, c.machine_id
    return None


def test_reroute_refusal_codes(world: World) -> None:
    sim = world.sim
    job = world.jobs("assigned")[0]
    wrong_process = next(m for m in sim.machines() if job.process not in m.processes)
    world.refuse("job.reroute", job.id, {"machine_id": wrong_process.id}, 409, "incompatible_process")
    pairs = [
        (j, m)
        for j in world.jobs("assigned")
        for m in sim.machines()
        if j.process in m.processes and j.material not in m.materials
    ]
    assert pairs
    job, no_material = pairs[0]
    world.refuse("job.reroute", job.id, {"machine_id": no_material.id}, 409, "incompatible_material")

    world.run(1800, step=60.0)
    pair = None
    for _ in range(20):
        pair = _find_blocked_pair(sim, "envelope_too_small")
        if pair:
            break
        world.run(1800, step=60.0)
    assert pair is not None
    world.refuse("job.reroute", pair[0], {"machine_id": pair[1]}, 409, "envelope_too_small")

    job = world.jobs("assigned")[0]
    target = next(c for c in sim.reroute_candidates(job.id) if not c.blockers)
    sim.execute("machine.pause", target.machine_id, {}, "alice")
    world.refuse("job.reroute", job.id, {"machine_id": target.machine_id}, 409, "target_paused")
    sim.execute("machine.resume", target.machine_id, {}, "alice")
    sim.execute("node.pause", target.node_id, {}, "alice")
    world.refuse("job.reroute", job.id, {"machine_id": target.machine_id}, 409, "target_paused")


def test_target_offline() -> None:
    world = World(seed=5)
    sim = world.sim
    assert world.run_until(lambda: bool(sim.link_down()), 48 * 3600, step=60.0)
    node = next(n for n in sim.nodes() if n.id in sim.link_down())
    machine = next(m for m in sim.machines() if m.node_id == node.id)
    world.refuse("machine.pause", machine.id, {}, 409, "target_offline")
    world.refuse("node.pause", node.id, {}, 409, "target_offline")
    # the node's own agent, on the shop floor, still reaches it
    sim.execute("node.pause", node.id, {}, "floor", local_node=node.id)
    job = next(
        j for j in sim.jobs() if j.status in ("assigned", "queued") and j.process in machine.processes
        and j.node_id != node.id
    )  # fmt: skip
    err = world.refuse("job.reroute", job.id, {"machine_id": machine.id}, 409)
    assert err.code in ("target_offline", "incompatible_material", "envelope_too_small")


def test_unknown_targets_and_invalid_bodies(world: World) -> None:
    world.refuse("machine.pause", "M-NOPE-01", {}, 404)
    world.refuse("node.resume", "N-ATLANTIS", {}, 404)
    world.refuse("job.cancel", "J-1", {}, 404)
    world.refuse("alert.ack", "A-00000", {}, 404)
    mid = world.sim.machines()[0].id
    world.refuse("machine.pause", mid, {"mode": "sideways"}, 422, "invalid_body")
    job = world.jobs("assigned")[0]
    world.refuse("job.reroute", job.id, {"machine_id": mid, "node_id": "N-LEEDS"}, 422, "invalid_body")
    world.refuse("job.reroute", job.id, {}, 422, "invalid_body")
    world.refuse("job.reroute", job.id, {"machine_id": "M-NOPE-01"}, 422)
    world.refuse("machine.explode", mid, {}, 422, "unknown_action")
    with pytest.raises(SimCommandError) as err:
        world.sim.reroute_candidates("J-1")
    assert err.value.status == 404


def test_quality_numbers_in_range_and_consistent(world: World) -> None:
    world.run(3 * 3600, step=60.0)
    quality = world.sim.quality()
    scopes = {(qq.scope, qq.id) for qq in quality}
    assert ("cluster", world.sim.cluster_info().id) in scopes
    assert {("node", n.id) for n in world.sim.nodes()} <= scopes
    assert {("machine", m.id) for m in world.sim.machines()} <= scopes
    for qq in quality:
        for value in (qq.oee, qq.availability, qq.performance, qq.quality_rate, qq.first_pass_yield, qq.scrap_rate):
            assert 0.0 <= value <= 1.0
        assert qq.oee == pytest.approx(qq.availability * qq.performance * qq.quality_rate, abs=2e-4)
        assert qq.first_pass_yield <= qq.quality_rate + 1e-9
        assert qq.quality_rate + qq.scrap_rate == pytest.approx(1.0, abs=2e-4)
        if qq.scope == "machine":
            assert qq.spc
            for series in qq.spc:
                assert 5 <= len(series.values) <= 50
                assert series.lsl < series.usl and series.lcl < series.nominal < series.ucl
                assert set(series.violations) <= {"we1", "we2", "we3", "we4"}
    cluster = quality[0]
    assert 0.4 < cluster.oee < 0.99 and cluster.good_count > 0
    # some charts break rules (drift is real), not all of them
    machine_series = [s for qq in quality if qq.scope == "machine" for s in qq.spc]
    with_violations = sum(1 for s in machine_series if s.violations)
    assert 0 < with_violations < len(machine_series)


def test_reroute_to_a_paused_node_is_refused(world: World) -> None:
    sim = world.sim
    node = sim.nodes()[1]
    sim.execute("node.pause", node.id, {}, "carol")
    job = next(j for j in world.jobs("assigned") if j.node_id != node.id)
    world.refuse("job.reroute", job.id, {"node_id": node.id}, 409, "target_paused")
    world.refuse("job.reroute", job.id, {"node_id": "N-ATLANTIS"}, 422, "unknown_target")


def test_node_of_tells_where_objects_belong(world: World) -> None:
    sim = world.sim
    machine = sim.machines()[0]
    assert sim.node_of("machine", machine.id) == machine.node_id
    assert sim.node_of("node", machine.node_id) == machine.node_id
    job = world.jobs("running")[0]
    assert sim.node_of("job", job.id) == job.node_id
    entry = sim.execute("machine.pause", job.machine_id or "", {}, "alice")
    assert sim.node_of("audit", entry.id) == job.node_id
    assert sim.node_of("machine", "M-NOPE") is None and sim.node_of("cluster", "x") is None
    events = world.events[-3:]
    for event_type, payload in events:
        assert sim.node_of_event(event_type, payload) == job.node_id
    sim.execute("job.cancel", job.id, {}, "alice")
    world.run(3600, step=60.0)
    assert sim.job(job.id) is None
    assert sim.node_of("job", job.id) == job.node_id  # a removed job still answers its last node
    for alert in sim.alerts():
        if alert.source.kind == "machine":
            assert sim.node_of("alert", alert.id) == sim.node_of("machine", alert.source.id)
