"""Node and cluster quality carry pooled SPC series, comparable across nodes."""

from __future__ import annotations

from console.api.models import Quality
from console.demo.sim import SimConfig, Simulation, SteppedClock
from console.demo.sim.catalog import KINDS
from console.demo.sim.quality import SPC_POINTS, Measurements


def _sim(minutes: int) -> Simulation:
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=5, nodes=3, machines_per_node=12, telemetry_hz=0.0), clock)
    for _ in range(minutes):
        clock.advance(60.0)
        sim.tick()
    return sim


def test_node_and_cluster_quality_carry_one_series_per_characteristic_measured() -> None:
    sim = _sim(120)
    records = sim.quality()
    cluster = next(r for r in records if r.scope == "cluster")
    nodes = [r for r in records if r.scope == "node"]
    assert cluster.spc and all(n.spc for n in nodes)
    for record in (cluster, *nodes):
        names = [s.characteristic for s in record.spc]
        assert len(names) == len(set(names))
        for s in record.spc:
            assert 2 <= len(s.values) <= SPC_POINTS
            assert s.lcl < s.nominal < s.ucl and s.lsl <= s.nominal <= s.usl
            assert set(s.violations) <= {"we1", "we2", "we3", "we4"}
        Quality.model_validate_json(record.model_dump_json())
    # the same characteristic has the same unit, nominal and limits on every node: comparable side by side
    by_name: dict[str, set[tuple[str, float, float, float]]] = {}
    for record in nodes:
        for s in record.spc:
            by_name.setdefault(s.characteristic, set()).add((s.unit, s.nominal, s.lsl, s.usl))
    assert all(len(v) == 1 for v in by_name.values())
    assert len([name for name in by_name if sum(name in {x.characteristic for x in n.spc} for n in nodes) > 1]) > 0


def test_cluster_series_holds_the_newest_measurements_of_every_node() -> None:
    sim = _sim(60)
    records = {(r.scope, r.id): r for r in sim.quality()}
    cluster = records[("cluster", sim.cluster_info().id)]
    for series in cluster.spc:
        newest = series.values[-1]
        holders = [r for (scope, _), r in records.items() if scope == "node"]
        assert any(
            s.values and s.values[-1] == newest
            for r in holders
            for s in r.spc
            if s.characteristic == series.characteristic
        )


def test_measurements_keep_the_last_points_and_qualify_shared_names() -> None:
    fdm = KINDS["fdm_printer"]
    wall = next(c for c in fdm.characteristics if c.name == "wall thickness")
    other = next(
        k for k in KINDS.values() if k.process != fdm.process and any(c.name == wall.name for c in k.characteristics)
    )
    m = Measurements()
    for i in range(SPC_POINTS + 5):
        m.add(fdm.process, wall, wall.nominal + (0.01 if i % 2 else -0.01))
    m.add(other.process, next(c for c in other.characteristics if c.name == wall.name), 2.0)  # one value: no chart
    (series,) = m.spc()
    assert series.characteristic == f"wall thickness ({fdm.process})"
    assert len(series.values) == SPC_POINTS
    assert abs((series.ucl - series.nominal) - 3 * 0.02 / 1.128) < 1e-4  # sigma from the average moving range
    assert series.cpk is not None and series.violations == []
