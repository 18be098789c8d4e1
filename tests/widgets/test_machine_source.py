"""The machine grid's typed source (widgets.machine_source): facts, snapshots, and freezing the grid."""

from __future__ import annotations

from tests.widgets.harness import WidgetApp, job, machines, screen_lines
from widgets.glyphs import telemetry_label
from widgets.machine_grid import MachineGrid
from widgets.machine_source import MachineRows, facts_of, snapshot


def test_facts_come_from_the_source() -> None:
    rows = machines(3)
    source = MachineRows(
        machines={m.id: m for m in rows},
        jobs={"J-2000": job("J-2000", part="gear\x1b")},
        node_names={"N-0": "Leeds"},
        alert_counts={"M-00000": 2},
        stale_ids={"M-00001"},
    )
    first = facts_of(source, rows[0], marked=True)
    assert first == (True, False, 2, ("gear␛", 12, 40), "Leeds")
    assert facts_of(source, rows[1], marked=False).stale
    assert facts_of(source, rows[1], marked=False).node == "N-1"  # no name: the id
    assert facts_of(MachineRows(stale=True), rows[2], marked=False).stale  # everything stale


def test_a_snapshot_keeps_values_that_change_in_place() -> None:
    rows = machines(4)
    live_values = {m.id: dict(m.telemetry) for m in rows}
    source = MachineRows(
        machines={m.id: m for m in rows},
        jobs={"J-2000": job("J-2000")},
        alert_counts={"M-00000": 1, "M-00003": 5},
        stale_ids={"M-00003"},
        telemetry_values=live_values,
    )
    frozen = snapshot(source, ["M-00000", "M-00003"])
    live_values["M-00000"]["nozzle_c"] = 999.0  # the owner updates telemetry in place
    assert frozen.telemetry(rows[0])["nozzle_c"] == 215.0
    assert set(frozen.machines) == {"M-00000", "M-00003"}
    assert frozen.jobs == {"J-2000": source.jobs["J-2000"]}
    assert dict(frozen.alert_counts) == {"M-00000": 1, "M-00003": 5}
    assert frozen.stale_ids == {"M-00003"}


async def test_freezing_the_grid_swaps_in_a_snapshot_and_set_view_reattaches() -> None:
    rows = machines(6)
    live = {m.id: m for m in rows}
    values = {m.id: dict(m.telemetry) for m in rows}
    source = MachineRows(machines=live, telemetry_values=values)
    grid = MachineGrid(grid_layout="table")
    app = WidgetApp(grid)
    async with app.run_test(size=(120, 12)) as pilot:
        grid.set_view([m.id for m in rows], source)
        await pilot.pause()
        grid.freeze()
        assert grid.source is not source
        live["M-00000"] = rows[0].model_copy(update={"name": "RENAMED"})
        values["M-00000"]["nozzle_c"] = 300.0
        grid.machines_changed(["M-00000"])
        grid.refresh()
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "RENAMED" not in text and "nozzle 215°C" in text
        assert grid.telemetry_of(rows[0])["nozzle_c"] == 215.0
        grid.set_view(grid.machine_ids, source)  # unfrozen: the live source again
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "RENAMED" in text and telemetry_label("fdm_printer", values["M-00000"]) in text


async def test_a_changed_fact_is_drawn_after_refresh_ids_not_a_stale_cached_line() -> None:
    rows = machines(4)
    counts: dict[str, int] = {}
    source = MachineRows(machines={m.id: m for m in rows}, alert_counts=counts)
    grid = MachineGrid(grid_layout="tiles")
    app = WidgetApp(grid)
    async with app.run_test(size=(120, 12)) as pilot:
        grid.set_view([m.id for m in rows], source)
        await pilot.pause()
        assert "!7" not in "\n".join(screen_lines(app))
        counts["M-00001"] = 7
        grid.refresh_ids(["M-00001"])
        await pilot.pause()
        assert "!7" in "\n".join(screen_lines(app))
