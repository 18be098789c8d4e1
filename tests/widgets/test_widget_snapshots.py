"""Snapshot tests (pytest-textual-snapshot): the grid in both layouts, the SPC chart, and every theme.

Deterministic data only (tests.widgets.harness), no clock, no blinking cursor. Update with ``--snapshot-update``
after an intended visual change, and look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest

from tests.widgets.harness import WidgetApp, job, machine, machines
from tests.widgets.test_small_widgets import COUNTS, NODES, QUALITY, SERIES
from themes import THEMES
from widgets.machine_grid import MachineGrid
from widgets.machine_source import MachineRows
from widgets.node_strip import NodeStrip
from widgets.quality_strip import QualityStrip
from widgets.spc_chart import SpcChart


def _rows() -> list:
    rows = machines(60)
    rows[4] = machine(4, state="teleporting", kind="quantum_weaver", name="[bold red]evil[/] \x1b[31m")
    return rows


class GridApp(WidgetApp):
    """The machine grid with marks, alerts, a stale machine and jobs; optionally the strips around it."""

    def __init__(self, layout: str = "tiles", theme: str = "factory-dark", dashboard: bool = False) -> None:
        self.grid = MachineGrid(grid_layout=layout)  # type: ignore[arg-type]
        widgets: list = []
        if dashboard:
            widgets += [NodeStrip(), QualityStrip()]
        super().__init__(*widgets, self.grid, theme=theme)
        self.dashboard = dashboard

    def on_mount(self) -> None:
        super().on_mount()
        grid = self.grid
        rows = _rows()
        grid.marked = {"M-00001", "M-00007"}
        source = MachineRows(
            machines={m.id: m for m in rows},
            jobs={"J-2000": job("J-2000", part="gearbox lid"), "J-2002": job("J-2002", part="hinge")},
            alert_counts={"M-00003": 2, "M-00005": 1},
            stale_ids={"M-00006"},
        )
        grid.set_view([m.id for m in rows], source)
        grid.move_cursor_to("M-00002")
        grid.focus()
        if self.dashboard:
            self.query_one(NodeStrip).set_nodes(NODES, COUNTS, {"N-0": 3})
            self.query_one(QualityStrip).set_quality(QUALITY, [0.6, 0.65, 0.7, 0.72, 0.5, 0.58])


@pytest.mark.parametrize("layout", ["tiles", "table"])
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_machine_grid_snapshot(snap_compare, layout: str, size: tuple[int, int]) -> None:
    assert snap_compare(GridApp(layout), terminal_size=size)


def test_machine_grid_after_keys_snapshot(snap_compare) -> None:
    assert snap_compare(GridApp("table"), press=["down", "down", "down", "space"], terminal_size=(80, 24))


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_theme_snapshot(snap_compare, theme: str) -> None:
    assert snap_compare(GridApp("table", theme=theme, dashboard=True), terminal_size=(100, 30))


@pytest.mark.parametrize("size", [(40, 8), (80, 24)])
def test_spc_chart_snapshot(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(WidgetApp(SpcChart(SERIES)), terminal_size=size)
