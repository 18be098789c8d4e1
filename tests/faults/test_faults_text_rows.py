"""Hostile text in the line a screen draws: every hostile string, in every field a screen shows, without the app.

The lower level of ``test_faults_console_text`` (which boots the whole console for a representative subset). Here
each string of ``test_faults_text.HOSTILE`` goes into each field that reaches a screen, through the code that screen
draws it with: the machine tile of the dashboard (``widgets.machine_tiles.tile_piece``) and the table rows of Jobs,
Alerts and Nodes (``console.screens.columns``) drawn by the grid's own cell drawing (``DataGrid._cell``) at the column
widths of a 160-cell terminal. The drawn line must hold the cleaned text (its distinctive prefix, as on screen), and
no control, escape, bidi character, link or click action (``terminal_bytes``'s rules). That the store keeps the
string intact is ``test_faults_text``; that the screens use these very functions, repaint on an event and still
handle keys is ``test_faults_console_text``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from rich.segment import Segment
from rich.style import Style

from console.api.models import Alert, Job, Machine, Node
from console.screens.columns import (
    ALERT_COLUMNS,
    COMPACT_ALERT_COLUMNS,
    JOB_COLUMNS,
    NODE_COLUMNS,
    QUEUE_COLUMNS,
    alert_row,
    job_row,
    node_row,
)
from tests.faults.hostile_server import T0, base_tables
from tests.faults.terminal_bytes import assert_segments_inert
from tests.faults.test_faults_text import HOSTILE
from widgets.data_grid import Column, DataGrid, RowData, column_widths
from widgets.machine_grid import MachineGrid
from widgets.machine_source import MachineFacts
from widgets.machine_tiles import tile_piece
from widgets.safe_text import clean

WIDTH = 160
"""The terminal width of the app-level cases (``console_harness.SIZE``)."""

TABLES = base_tables()
TILE_WIDTH = WIDTH // (WIDTH // MachineGrid.TILE_MIN_WIDTH)
STYLES: dict[str, Style] = defaultdict(Style)
"""Every part style plain: what is checked here is the text and the links, not the theme's colours."""


def _grid_line(row: RowData, columns: list[Column]) -> list[Segment]:
    """The row as the grid draws it (each cell through ``DataGrid._cell``) at the columns' widths in 160 cells."""
    grid = DataGrid(columns)
    segments: list[Segment] = []
    for column, width, cell in zip(columns, column_widths(columns, WIDTH - 4), row.cells, strict=True):
        segments.extend(grid._cell(cell, width, column.align, Style()))
        segments.append(Segment(" "))
    return segments


def _tile(machine: Machine, *lines: int) -> list[Segment]:
    facts = MachineFacts(marked=False, stale=False, alerts=0, job=None, node="N-1")
    segments: list[Segment] = []
    for within in lines:
        segments.extend(tile_piece(machine, machine.telemetry, facts, within, TILE_WIDTH, STYLES, at_cursor=False))
    return segments


def _machine(**fields: Any) -> Machine:
    return Machine.model_validate({**TABLES["machines"]["M-101"], **fields})


def _job(**fields: Any) -> Job:
    return Job.model_validate({**TABLES["jobs"]["J-101"], **fields})


def _alert(**fields: Any) -> Alert:
    return Alert.model_validate({**TABLES["alerts"]["A-1"], **fields})


def _node(**fields: Any) -> Node:
    return Node.model_validate({**TABLES["nodes"]["N-1"], **fields})


def _nodes_row(node: Node) -> RowData:
    return node_row(node, {"idle": 3}, 1, 1, "cluster", T0)


# (kind.field, where) -> the drawn line of an object whose field is ``text``.
DRAWN: dict[tuple[str, str], Callable[[str], list[Segment]]] = {
    ("machine.name", "dashboard tile"): lambda t: _tile(_machine(name=t), 0),
    # The fourth tile line shows the reason and fault code only for a machine that needs attention.
    ("machine.state_reason", "dashboard tile"): lambda t: _tile(_machine(state="fault", state_reason=t), 3),
    ("machine.fault_code", "dashboard tile"): lambda t: _tile(_machine(state="fault", fault_code=t), 3),
    ("job.part", "jobs table"): lambda t: _grid_line(job_row(_job(part=t), {}, {}), JOB_COLUMNS),
    ("job.part", "dashboard queue"): lambda t: _grid_line(job_row(_job(part=t), {}, {}, queue=True), QUEUE_COLUMNS),
    ("alert.message", "alerts table"): lambda t: _grid_line(alert_row(_alert(message=t), T0), ALERT_COLUMNS),
    ("alert.message", "dashboard alert list"): lambda t: _grid_line(
        alert_row(_alert(message=t), T0, compact=True), COMPACT_ALERT_COLUMNS
    ),
    ("alert.code", "alerts table"): lambda t: _grid_line(alert_row(_alert(code=t), T0), ALERT_COLUMNS),
    ("node.name", "nodes table"): lambda t: _grid_line(_nodes_row(_node(name=t)), NODE_COLUMNS),
    ("node.city", "nodes table"): lambda t: _grid_line(_nodes_row(_node(city=t)), NODE_COLUMNS),
}


@pytest.mark.parametrize(("field", "where"), DRAWN, ids=[f"{f}@{w.replace(' ', '-')}" for f, w in DRAWN])
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_in_the_line_a_screen_draws(text: str, field: str, where: str) -> None:
    segments = DRAWN[(field, where)](text)
    drawn = "".join(segment.text for segment in segments)
    head = clean(text)[:8].strip()
    assert head, f"nothing visible to look for in {text!r}"
    assert head in drawn, f"{head!r} (from {clean(text)!r}) not in the {where} line {drawn!r}"
    assert_segments_inert(segments, f"{field} on the {where}")


def test_every_field_the_app_level_cases_show_is_drawn_here() -> None:
    """The app-level subset (``test_faults_console_text.SCREENS``) names no field this suite does not draw."""
    from tests.faults.test_faults_console_text import SCREENS

    assert {f"{kind}.{field}" for kind, field in SCREENS} <= {field for field, _ in DRAWN}
