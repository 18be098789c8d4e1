"""SPC realism: over a long seeded run, a minority of machines break Western Electric rules at any moment (drift
episodes are occasional), most processes are capable, and pooled node/cluster charts behave alike. Bands, not exact
numbers: the point is "sometimes", neither "never" nor "most of the time"."""

from __future__ import annotations

import statistics

from console.demo.sim import SimConfig, Simulation, SteppedClock


def test_violations_are_occasional_and_processes_capable() -> None:
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=3), clock)
    machine_shares: list[float] = []
    pooled_shares: list[float] = []
    cpks: list[float] = []
    for _ in range(12):  # six hours, a look every half hour
        clock.advance(1800.0)
        sim.tick()
        quality = sim.quality()
        machines = [q for q in quality if q.scope == "machine" and q.spc]
        machine_shares.append(sum(1 for q in machines if any(s.violations for s in q.spc)) / len(machines))
        cpks += [s.cpk for q in machines for s in q.spc if s.cpk is not None]
        pooled = [s for q in quality if q.scope in ("node", "cluster") for s in q.spc]
        pooled_shares.append(sum(1 for s in pooled if s.violations) / len(pooled))
    assert 0.03 <= statistics.mean(machine_shares) <= 0.40, machine_shares
    assert max(machine_shares) <= 0.5, machine_shares
    assert 0.0 < statistics.mean(pooled_shares) <= 0.40, pooled_shares
    assert 1.1 <= statistics.median(cpks) <= 2.3
    poor = sum(1 for c in cpks if c < 1.0) / len(cpks)
    assert 0.0 < poor <= 0.25, poor  # a few poor machines, not many
