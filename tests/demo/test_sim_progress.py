"""What moves is sent: progress steps of running jobs, heartbeats of nodes and machines, quality refreshes."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from console.demo.sim import SimConfig, Simulation, SteppedClock


def _run(minutes: int, **options: Any) -> list[tuple[float, str, Any]]:
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=11, nodes=3, machines_per_node=8, telemetry_hz=0.0, **options), clock)
    start = clock.now()
    events: list[tuple[float, str, Any]] = []
    sim.subscribe(lambda t, p: events.append(((clock.now() - start).total_seconds(), t, p)))
    for _ in range(minutes * 6):
        clock.advance(10.0)
        sim.tick()
    return events


def test_running_jobs_send_progress_in_small_steps() -> None:
    step = 0.04
    events = _run(60, progress_step=step)
    last: dict[str, float] = {}
    climbs = 0
    for _, type_, payload in events:
        if type_ != "job.updated":
            continue
        if payload.status == "running" and payload.id in last:
            assert payload.progress - last[payload.id] <= step + 0.002, payload.id  # no silent big jump
            climbs += payload.progress > last[payload.id]
        last[payload.id] = payload.progress if payload.status == "running" else -1.0
        if payload.status != "running":
            last.pop(payload.id)
    assert climbs > 50


def test_progress_step_zero_sends_only_batches() -> None:
    with_steps = sum(t == "job.updated" for _, t, _ in _run(30, progress_step=0.05))
    without = sum(t == "job.updated" for _, t, _ in _run(30, progress_step=0.0))
    assert without < with_steps


def test_machine_updates_carry_progress_of_their_job() -> None:
    jobs: dict[str, float] = {}
    for _, type_, payload in _run(20):
        if type_ == "job.updated":
            jobs[payload.id] = payload.progress
        elif type_ == "machine.updated" and payload.state == "running" and payload.job_id in jobs:
            assert payload.progress is not None


def test_heartbeats_keep_last_seen_fresh() -> None:
    heartbeat = 120.0
    events = _run(30, heartbeat_s=heartbeat)
    seen: dict[tuple[str, str], list[float]] = defaultdict(list)
    for at, type_, payload in events:
        if type_ in ("node.updated", "machine.updated"):
            seen[(type_, payload.id)].append(at)
    nodes = [k for k in seen if k[0] == "node.updated"]
    machines = [k for k in seen if k[0] == "machine.updated"]
    assert len(nodes) == 3 and len(machines) == 24
    for key, times in seen.items():
        gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
        assert max(gaps) <= heartbeat + 60 + 10, key  # checked once a minute, ticked every 10 s


def test_quality_records_are_refreshed() -> None:
    events = _run(40, quality_refresh_s=600.0)
    machines = {p.id for _, t, p in events if t == "quality.updated" and p.scope == "machine"}
    assert len(machines) == 24
