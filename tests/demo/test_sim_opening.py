"""The demo opens mid-shift: every state an operator handles is on screen at the first snapshot, deterministically."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from console.api.models import Alert, Job, Machine, Quality
from console.demo.embedded import start_demo
from console.demo.runner import make_simulation
from console.demo.sim import DEFAULT_START, SimConfig, Simulation, SteppedClock
from console.demo.sim.config import OPENING_WARMUP_S, WARMUP_MACHINE_S
from console.demo.sim.opening import OPERATORS

FINISHED = ("completed", "failed", "cancelled")


def _missing(
    machines: list[Machine], alerts: list[Alert], jobs: list[Job], quality: list[Quality], now: datetime
) -> list[str]:
    """What the opening scene promises and the snapshot lacks (empty: all there)."""
    missing: list[str] = []
    states = {m.state for m in machines}
    missing += [f"a machine in {state}" for state in ("fault", "blocked", "paused") if state not in states]
    if not any(m.state == "paused" and m.paused_by and m.state_reason and ":" in m.state_reason for m in machines):
        missing.append("a paused machine with its reason")
    active = [a for a in alerts if a.state in ("active_unacked", "active_acked")]
    if len({a.priority for a in active}) < 3:
        missing.append("active alerts of 3 priorities or more")
    if not any(a.state == "active_acked" and a.acked_by and a.ack_note for a in alerts):
        missing.append("an alert acked with a note")
    if not any(a.state == "active_unacked" for a in alerts):
        missing.append("an unacked alert")
    if not any(a.state == "shelved" and a.shelved_until is not None for a in alerts):
        missing.append("a shelved alert")
    if not any(
        a.state == "active_unacked" and a.source.kind == "machine" and a.priority in ("critical", "high")
        for a in alerts
    ):
        missing.append("a fault nobody has answered")
    open_jobs = [j for j in jobs if j.status not in FINISHED]
    if not any(j.due_at < now for j in open_jobs):
        missing.append("an overdue job")
    if not any(j.eta is not None and j.eta > j.due_at >= now for j in open_jobs):
        missing.append("a job at risk (not yet overdue)")
    if not any(j.machine_id is None and j.status == "queued" for j in open_jobs):
        missing.append("a backlog")
    if not any(s.violations for q in quality for s in q.spc):
        missing.append("an SPC series breaking a rule")
    return missing


def _sim(seed: int = 7, **options: Any) -> Simulation:
    return Simulation(SimConfig(seed=seed, opening_scene=True, **options), SteppedClock())


def test_default_demo_scenario_opens_mid_shift() -> None:
    """The default scenario as ``--demo`` and ``demo-server`` build it (a wall clock): everything at once."""
    started = time.perf_counter()
    sim = make_simulation(SimConfig())
    built_s = time.perf_counter() - started
    assert sim.config.opening_scene is True
    assert sim.now() >= DEFAULT_START  # the first snapshot is at ``start``: the history before it is simulated
    assert sim.start == DEFAULT_START - timedelta(seconds=OPENING_WARMUP_S)
    assert _missing(sim.machines(), sim.alerts(), sim.jobs(), sim.quality(), sim.now()) == []
    assert {m.state for m in sim.machines()} >= {"running", "idle", "fault", "blocked", "paused"}
    assert len({a.priority for a in sim.alerts() if a.state.startswith("active")}) == 4
    acted = {(e.operator, e.action) for e in sim.audit()}
    assert {(OPERATORS[0], "alert.ack"), (OPERATORS[1], "machine.pause"), (OPERATORS[2], "alert.shelve")} <= acted
    assert all(e.outcome == "applied" for e in sim.audit())
    assert built_s < 1.5, f"building the opening took {built_s:.2f} s (about 0.1 s expected)"


def test_first_snapshot_over_http_shows_it() -> None:
    """What the console reads first: ``GET /v1/snapshot`` of the embedded ``--demo`` server."""
    with start_demo(SimConfig()) as server:
        snapshot = httpx.get(f"{server.url}/v1/snapshot", timeout=10).json()
    machines = [Machine.model_validate(m) for m in snapshot["machines"]]
    alerts = [Alert.model_validate(a) for a in snapshot["alerts"]]
    jobs = [Job.model_validate(j) for j in snapshot["jobs"]]
    quality = [Quality.model_validate(q) for q in snapshot["quality"]]
    now = max(m.last_seen for m in machines if m.last_seen is not None)
    assert _missing(machines, alerts, jobs, quality, now) == []


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6, 8, 9])
def test_every_seed_opens_with_every_state(seed: int) -> None:
    sim = _sim(seed)
    assert _missing(sim.machines(), sim.alerts(), sim.jobs(), sim.quality(), sim.now()) == []


def test_the_worn_tool_breaks_western_electric_rules() -> None:
    sim = _sim()
    worn = [a for a in sim.alerts() if a.code == "tool_wear" and a.acked_by == OPERATORS[2]]
    assert len(worn) == 1 and worn[0].ack_note
    quality = next(q for q in sim.quality() if q.scope == "machine" and q.id == worn[0].source.id)
    assert all(s.violations for s in quality.spc), [(s.characteristic, s.values[-5:]) for s in quality.spc]


def test_off_on_a_callers_clock_unless_asked() -> None:
    """Tests, screenshots and benchmarks step their own clock: their story starts empty at ``start``, as before."""
    plain = Simulation(SimConfig(seed=7), SteppedClock())
    assert plain.start == DEFAULT_START and plain.alerts() == [] and plain.audit() == []
    assert {m.state for m in plain.machines()} <= {"running", "idle"}
    assert make_simulation(SimConfig(seed=7), SteppedClock()).alerts() == []
    assert make_simulation(SimConfig(seed=7, opening_scene=False)).alerts() == []
    assert make_simulation(SimConfig(seed=7, opening_scene=True), SteppedClock()).alerts() != []


def test_same_seed_same_opening_and_same_story_after() -> None:
    def run() -> list[str]:
        clock = SteppedClock()
        sim = Simulation(SimConfig(seed=7, opening_scene=True), clock)
        out = [m.model_dump_json() for m in sim.machines()] + [j.model_dump_json() for j in sim.jobs()]
        out += [a.model_dump_json() for a in sim.alerts()] + [e.model_dump_json() for e in sim.audit()]
        out += [q.model_dump_json() for q in sim.quality()]
        sim.subscribe(lambda t, p: out.append(t + p.model_dump_json()))
        for _ in range(30):
            clock.advance(20.0)
            sim.tick()
        return out

    first, second = run(), run()
    assert len(first) > 1000
    assert first == second
    assert _sim(8).jobs() != _sim(7).jobs()


_SCRIPT = """
import hashlib
from console.demo.sim import SimConfig, Simulation, SteppedClock
clock = SteppedClock()
sim = Simulation(SimConfig(seed=4, opening_scene=True), clock)
h = hashlib.sha256()
for m in (*sim.machines(), *sim.jobs(), *sim.alerts(), *sim.audit(), *sim.quality()):
    h.update(m.model_dump_json().encode())
sim.subscribe(lambda t, p: h.update((t + p.model_dump_json()).encode()))
for _ in range(20):
    clock.advance(30.0)
    sim.tick()
print(h.hexdigest())
"""


def test_opening_independent_of_string_hash_seed() -> None:
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_the_live_story_takes_over() -> None:
    """Events flow from the first tick, and no machine stopped at the start is still stopped since then after 75 min
    (the scene's conditions clear 20-45 simulated minutes in: a minute or two of the demo)."""
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=7, opening_scene=True), clock)
    events: list[str] = []
    sim.subscribe(lambda t, p: events.append(t))
    clock.advance(1.0)
    sim.tick()
    assert events, "nothing happened in the first simulated second"
    for _ in range(75):
        clock.advance(60.0)
        sim.tick()
    stuck = [m.id for m in sim.machines() if m.state in ("fault", "blocked") and m.state_since <= DEFAULT_START]
    assert stuck == []


def test_a_big_cluster_warms_up_for_less() -> None:
    sim = _sim(3, nodes=25, machines_per_node=20, telemetry_hz=0.0)
    assert sim._s.warmup_s == pytest.approx(min(OPENING_WARMUP_S, WARMUP_MACHINE_S / 500))
    assert sim.now() == DEFAULT_START
    assert {"fault", "blocked", "paused"} <= {m.state for m in sim.machines()}


def test_machine_pause_reason_is_shown_until_resumed() -> None:
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=7), clock)
    clock.advance(60.0)
    sim.tick()
    machine = next(m for m in sim.machines() if m.state == "running")
    sim.execute("machine.pause", machine.id, {"mode": "now", "reason": "operator check"}, "alice")
    paused = sim.machine(machine.id)
    assert paused is not None and paused.state_reason == "paused by alice: operator check"
    sim.execute("machine.resume", machine.id, {}, "alice")
    resumed = sim.machine(machine.id)
    assert resumed is not None and resumed.state_reason != paused.state_reason
    sim.execute("machine.pause", machine.id, {"mode": "now"}, "bob")
    again = sim.machine(machine.id)
    assert again is not None and again.state_reason == "paused by bob"
