"""Pilot tests of DataGrid: column widths, virtualised rendering, targeted repaints, cursor and messages."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from tests.widgets.harness import WidgetApp, screen_lines, screen_segments
from widgets.data_grid import Column, DataGrid, RowData, column_widths

COLUMNS = [Column("id", "ID", 8), Column("msg", "MESSAGE"), Column("n", "COUNT", 6, align="right")]


def rows(n: int, prefix: str = "msg") -> list[RowData]:
    return [
        RowData(f"K-{i}", [f"K-{i}", f"{prefix} {i}", Text(str(i))], style="row-critical" if i % 5 == 0 else "")
        for i in range(n)
    ]


def test_column_widths_fit_and_respect_minimums() -> None:
    cols = [Column("a", "A", 10), Column("b", "B", flex=2), Column("c", "C", flex=1, min_width=5)]
    assert column_widths(cols, 40) == [10, 18, 10]
    assert sum(column_widths(cols, 40)) + 2 == 40
    assert column_widths(cols, 15) == [10, 6, 5]  # too narrow: minimums win (the line is then cropped)


async def test_renders_visible_rows_only_and_repaints_only_changed_visible_rows() -> None:
    grid = DataGrid(COLUMNS)
    app = WidgetApp(grid)
    async with app.run_test(size=(60, 12)) as pilot:
        grid.set_rows(rows(20_000))
        await pilot.pause()
        grid.rendered_lines = 0
        grid.refresh()
        await pilot.pause()
        assert 0 < grid.rendered_lines <= 2 * 12
        grid.refreshed_lines = 0
        grid.update_rows([RowData("K-15000", ["K-15000", "changed", ""]), RowData("K-nope", ["x"])])
        assert grid.refreshed_lines == 0
        grid.update_rows([RowData("K-3", ["K-3", "CHANGED THREE", Text("3")])])
        assert grid.refreshed_lines == 1
        await pilot.pause()
        assert "CHANGED THREE" in screen_lines(app)[4]


async def test_header_sort_indicator_cursor_and_messages() -> None:
    grid = DataGrid(COLUMNS)
    app = WidgetApp(grid)
    async with app.run_test(size=(60, 12)) as pilot:
        grid.set_rows(rows(100))
        grid.set_sort("n", reverse=True)
        grid.marked = {"K-1"}
        grid.focus()
        await pilot.pause()
        lines = screen_lines(app)
        assert lines[0].split() == ["ID", "MESSAGE", "COUNT▼"]
        assert lines[2].startswith("● K-1")
        await pilot.press("down", "j", "enter", "space", "end")
        await pilot.pause()
        assert grid.cursor_key == "K-99"
        assert [m.key for m in app.of_type(DataGrid.Highlighted)] == ["K-0", "K-1", "K-2", "K-99"]
        assert [m.key for m in app.of_type(DataGrid.Selected)] == ["K-2"]
        assert [m.key for m in app.of_type(DataGrid.MarkToggled)] == ["K-2"]
        assert "K-99" in "\n".join(screen_lines(app))
        # Re-sorted rows keep the cursor on its key.
        grid.set_rows(list(reversed(rows(100))))
        assert grid.cursor_key == "K-99" and grid.cursor_index == 0
        await pilot.click(DataGrid, offset=(12, 0))
        await pilot.pause()
        assert [m.column_key for m in app.of_type(DataGrid.HeaderClicked)] == ["msg"]
        await pilot.double_click(DataGrid, offset=(12, 3))
        await pilot.pause()
        assert grid.cursor_key == "K-97"
        assert [m.key for m in app.of_type(DataGrid.Selected)] == ["K-2", "K-97"]


async def test_empty_and_hostile_cells() -> None:
    grid = DataGrid(COLUMNS, empty_message="No alerts")
    app = WidgetApp(grid)
    async with app.run_test(size=(80, 8)) as pilot:
        grid.set_rows([])
        await pilot.pause()
        assert "No alerts" in screen_lines(app)[1]
        hostile = "[link=https://evil]x[/link] \x1b]52;c;QUFB\x07 [@click=app.quit]q"
        grid.set_rows([RowData("h", ["h", hostile, Content("[b]c[/b]")], style="row-no-such-style")])
        await pilot.pause()
        line = screen_lines(app)[1]
        assert "[link=https://evil]x[/link] ␛]52;c;QUFB␇" in line
        assert "[b]c[" in line
        for segment in screen_segments(app):
            if segment.style is not None:
                assert segment.style.link is None


async def test_lazy_rows_are_built_only_when_drawn_and_again_only_when_changed() -> None:
    built: list[str] = []
    labels = {f"K-{i}": "first" for i in range(100_000)}

    def row_of(key: str) -> RowData:
        built.append(key)
        return RowData(key, [key, labels[key], Text("1")])

    grid = DataGrid(COLUMNS)
    app = WidgetApp(grid)
    async with app.run_test(size=(60, 12)) as pilot:
        grid.set_keys(list(labels), row_of)
        await pilot.pause()
        assert grid.row_count == 100_000 and grid.keys[:2] == ["K-0", "K-1"]
        first_screen = len(built)
        assert 0 < first_screen <= 12  # the rows on screen, not 100,000
        assert "K-3" in "\n".join(screen_lines(app))
        # a change off screen builds nothing; a visible one is built again and repainted
        built.clear()
        labels["K-50000"] = labels["K-3"] = "second"
        grid.refreshed_lines = 0
        grid.rows_changed(["K-50000", "K-3"])
        await pilot.pause()
        assert built == ["K-3"] and grid.refreshed_lines == 1
        assert "second" in "\n".join(screen_lines(app))
        # a new order keeps the cursor on its key and builds only what is then on screen
        grid.move_cursor_to("K-5")
        built.clear()
        grid.set_keys(list(reversed(list(labels))), row_of)
        await pilot.pause()
        assert grid.cursor_key == "K-5" and grid.cursor_index == 99_994
        assert 0 < len(built) <= 12


def test_narrow_tables_leave_out_the_droppable_columns_first() -> None:
    from widgets.data_grid import Column, column_widths

    columns = [
        Column("name", "Node", min_width=10),
        Column("city", "City", min_width=8, drop=1),
        Column("location", "Lat, lon", width=16, drop=2),
        Column("state", "State", width=11),
        Column("source", "Source", min_width=8),
        Column("seen", "Seen", width=7),
    ]
    wide = column_widths(columns, 120)
    assert all(w > 0 for w in wide)
    narrow = column_widths(columns, 60)  # lat/lon goes first, the source and age stay
    assert narrow[2] == 0 and narrow[1] > 0 and narrow[4] >= 8 and narrow[5] == 7
    narrower = column_widths(columns, 45)  # then the city
    assert narrower[1] == 0 and narrower[2] == 0 and narrower[4] >= 8
    kept = [w for w in narrower if w]
    assert sum(kept) + len(kept) - 1 <= 45


def test_the_jobs_list_keeps_due_eta_and_risk_whole_at_60_and_every_column_at_80() -> None:
    """At 60 columns the Jobs list cut its Risk column off: Done, then Node, then P go first."""
    from console.screens.columns import JOB_COLUMNS, RISK_WIDTH
    from widgets.data_grid import column_widths

    keys = [c.key for c in JOB_COLUMNS]
    full = dict(zip(keys, column_widths(JOB_COLUMNS, 78), strict=True))  # 80 columns less the scrollbar
    assert all(full.values()), full
    narrow = dict(zip(keys, column_widths(JOB_COLUMNS, 58), strict=True))
    assert narrow["risk"] == RISK_WIDTH and narrow["due"] == 5 and narrow["eta"] == 5, narrow
    assert narrow["progress"] == 0 and narrow["id"] == 8 and narrow["machine"] >= 8
    kept = [w for w in narrow.values() if w]
    assert sum(kept) + len(kept) - 1 <= 58
