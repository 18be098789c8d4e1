"""In every theme the cursor row can be read: every character drawn on it stands out from its background.

Drawn, not computed: the grids are rendered in each theme and each segment of the cursor row is checked with the
colours the terminal would show (reverse swaps them). The row under test is marked and has cells with colours of
their own (a white state word, a red fault), the case that went white-on-light-grey in ``mono``.
"""

from __future__ import annotations

import pytest
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color

from tests.widgets.harness import WidgetApp, machines
from tests.widgets.test_themes_contrast import TEXT, contrast
from themes import THEMES
from widgets.data_grid import Column, DataGrid, RowData
from widgets.machine_grid import MachineGrid

COLUMNS = [Column("id", "ID", 8), Column("state", "STATE", 12), Column("msg", "MESSAGE")]


def _rows() -> list[RowData]:
    states = [Text("▶ running", style="bold #ffffff"), Text("✖ FAULT", style="bold #ff0000"), Text("paused")]
    styles = ["", "row-critical", "row-paused"]
    return [RowData(f"K-{i}", [f"K-{i}", states[i % 3], f"message {i}"], style=styles[i % 3]) for i in range(12)]


def _colours(style: Style | None) -> tuple[Color, Color] | None:
    """(foreground, background) as the terminal shows them, or ``None`` when either is the terminal's own."""
    if style is None or style.color is None or style.bgcolor is None:
        return None
    fg = Color.from_rich_color(style.color)
    bg = Color.from_rich_color(style.bgcolor)
    return (bg, fg) if style.reverse else (fg, bg)


def _unreadable(segments: list[Segment]) -> list[str]:
    found = []
    for segment in segments:
        if not segment.text.strip():
            continue
        colours = _colours(segment.style)
        assert colours is not None, f"{segment.text!r} has no colours of its own"
        ratio = contrast(*colours)
        if ratio < TEXT:
            found.append(f"{segment.text!r}: {colours[0].hex} on {colours[1].hex} is {ratio:.2f}:1")
    return found


@pytest.mark.parametrize("theme", sorted(THEMES))
@pytest.mark.parametrize("focused", [True, False])
async def test_data_grid_cursor_row_marked_and_coloured_cells_are_readable(theme: str, focused: bool) -> None:
    grid = DataGrid(COLUMNS)
    app = WidgetApp(grid, theme=theme)
    async with app.run_test(size=(60, 10)) as pilot:
        grid.set_rows(_rows())
        for index in range(3):  # the cursor on a normal, a critical and a paused row, each marked
            grid.marked = {f"K-{index}"}
            grid.move_cursor_to(f"K-{index}")
            if focused:
                grid.focus()
            else:
                app.set_focus(None)
            await pilot.pause()
            line = list(app.screen._compositor.render_strips()[1 + index])
            assert line[0].text == "●" or line[0].text == "*"
            bad = _unreadable(line)
            assert not bad, f"{theme}, cursor on row {index} ({'focused' if focused else 'blurred'}): {bad}"


@pytest.mark.parametrize("theme", sorted(THEMES))
async def test_machine_grid_cursor_tile_is_readable(theme: str) -> None:
    grid = MachineGrid()
    app = WidgetApp(grid, theme=theme)
    async with app.run_test(size=(100, 20)) as pilot:
        grid.set_machines(machines(12))
        grid.marked = {"M-00003"}
        grid.focus()
        for key in ("M-00000", "M-00003", "M-00006"):  # running, fault, paused
            grid.move_cursor_to(key)
            await pilot.pause()
            strips = app.screen._compositor.render_strips()
            cols, height, header = grid._layout(grid.scrollable_content_region.width)
            top = header + (grid.cursor_index // cols) * height
            cursor = grid._styles()["cursor"]

            def on_cursor(segment: Segment, cursor: Style = cursor) -> bool:
                style = segment.style
                return style is not None and style.bgcolor == cursor.bgcolor and style.reverse == cursor.reverse

            drawn = [s for y in range(top, top + height - 1) for s in strips[y] if on_cursor(s)]
            assert sum(len(s.text) for s in drawn) >= 4 * 20, f"{theme}: the cursor tile was not found"
            bad = _unreadable(drawn)
            assert not bad, f"{theme}, cursor on {key}: {bad}"
