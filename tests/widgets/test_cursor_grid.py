"""The shared cursor rules (widgets.cursor_grid) and the line cache (widgets.line_cache), through DataGrid.

MachineGrid runs on the same base; its own tests (test_machine_grid*.py) check tiles (several items per row).
"""

from __future__ import annotations

from rich.text import Text

from tests.widgets.harness import WidgetApp, machines, screen_lines
from widgets.data_grid import Column, DataGrid, RowData
from widgets.line_cache import LineCache
from widgets.machine_grid import MachineGrid

COLUMNS = [Column("id", "ID", 8), Column("msg", "MESSAGE")]


def rows(n: int, text: str = "msg") -> list[RowData]:
    return [RowData(f"K-{i}", [f"K-{i}", f"{text} {i}"]) for i in range(n)]


async def test_cursor_clamps_pages_and_keeps_its_key() -> None:
    grid = DataGrid(COLUMNS)
    app = WidgetApp(grid)
    async with app.run_test(size=(40, 12)) as pilot:  # 12 lines: a header and 11 rows
        grid.set_rows(rows(100))
        grid.focus()
        await pilot.pause()
        await pilot.press("up")  # at the top: stays
        assert grid.cursor_index == 0
        await pilot.press("pagedown")
        assert grid.cursor_index == 11
        assert grid.scroll_offset.y == 1  # just enough to show the cursor row
        await pilot.press("pageup", "pageup")
        assert grid.cursor_index == 0 and grid.scroll_offset.y == 0
        await pilot.press("end", "down")
        assert grid.cursor_key == "K-99"
        assert grid.scroll_offset.y == 100 - 11
        await pilot.press("home")
        assert grid.cursor_key == "K-0"
        assert grid.move_cursor_to("K-50") and grid.cursor_index == 50
        assert not grid.move_cursor_to("nope") and grid.cursor_index == 50
        grid.set_rows(list(reversed(rows(100))))  # the cursor follows its key
        assert grid.cursor_key == "K-50" and grid.cursor_index == 49
        grid.set_rows(rows(10))  # its key is gone: it stays in range
        assert grid.cursor_index == 9
        grid.set_rows([])
        assert grid.cursor_key is None
        await pilot.press("down", "enter", "space")  # nothing to move to, open or mark
        await pilot.pause()
        highlighted = [m.key for m in app.of_type(DataGrid.Highlighted)]
        assert highlighted[-1] is None
        assert app.of_type(DataGrid.Selected) == [] and app.of_type(DataGrid.MarkToggled) == []


async def test_click_moves_the_cursor_and_a_header_click_is_its_own_message() -> None:
    grid = DataGrid(COLUMNS)
    app = WidgetApp(grid)
    async with app.run_test(size=(40, 12)) as pilot:
        grid.set_rows(rows(30))
        await pilot.pause()
        await pilot.click(DataGrid, offset=(12, 4))  # header on line 0: row 3
        assert grid.cursor_key == "K-3"
        await pilot.click(DataGrid, offset=(3, 0))
        await pilot.pause()
        assert [m.column_key for m in app.of_type(DataGrid.HeaderClicked)] == ["id"]  # type: ignore[attr-defined]
        assert grid.cursor_key == "K-3"


async def test_a_changed_row_is_drawn_again_and_an_unchanged_one_comes_from_the_cache() -> None:
    grid = DataGrid(COLUMNS)
    app = WidgetApp(grid)
    async with app.run_test(size=(40, 12)) as pilot:
        grid.set_rows(rows(20))
        await pilot.pause()
        cache = grid.line_cache
        misses = cache.misses
        grid.refresh()
        await pilot.pause()
        assert cache.misses == misses and cache.hits > 0  # nothing changed: every row from the cache
        grid.set_rows([*rows(2), RowData("K-2", ["K-2", "NEW TEXT"]), *rows(20)[3:]])
        await pilot.pause()
        assert "NEW TEXT" in screen_lines(app)[3]
        assert cache.misses == misses + 1
        # Text cells: same words, another style is another line
        grid.set_rows([RowData("K-0", ["K-0", Text("styled", style="bold")])])
        await pilot.pause()
        first = grid.render_line(1)
        grid.set_rows([RowData("K-0", ["K-0", Text("styled", style="italic")])])
        second = grid.render_line(1)
        assert first is not second and first.text == second.text


async def test_cursor_and_mark_are_part_of_the_line_key() -> None:
    grid = DataGrid(COLUMNS)
    app = WidgetApp(grid)
    async with app.run_test(size=(40, 12)) as pilot:
        grid.set_rows(rows(5))
        grid.focus()
        await pilot.pause()
        on_cursor = grid.render_line(1)
        await pilot.press("down")
        off_cursor = grid.render_line(1)
        assert on_cursor.text == off_cursor.text and on_cursor is not off_cursor
        assert on_cursor != off_cursor  # the cursor's style
        grid.marked = {"K-0"}
        grid.refresh_keys(["K-0"])
        await pilot.pause()
        assert screen_lines(app)[1].startswith("● K-0")
        focused = grid.render_line(2)  # the cursor's row
        grid.blur()
        await pilot.pause()
        assert grid.render_line(2) is not focused  # a blurred cursor is drawn in its own colours


async def test_a_theme_change_empties_the_cache() -> None:
    grid = DataGrid(COLUMNS)
    app = WidgetApp(grid)
    async with app.run_test(size=(40, 12)) as pilot:
        grid.set_rows(rows(5))
        await pilot.pause()
        cache = grid.line_cache
        before = grid.render_line(1)
        assert len(cache) > 0
        clears = cache.clears
        app.theme = "mono"
        await pilot.pause()
        assert cache.clears > clears
        after = grid.render_line(1)
        assert after is not before and after.text == before.text


def test_line_cache_is_bounded_and_keyed() -> None:
    cache: LineCache[str] = LineCache(maxsize=2)
    made: list[str] = []

    def render(text: str) -> str:
        made.append(text)
        return text

    assert cache.get(("a", 10), lambda: render("a")) == "a"
    assert cache.get(("a", 10), lambda: render("x")) == "a"  # from the cache
    cache.get(("a", 20), lambda: render("a20"))  # another width: another line
    cache.get(("b", 10), lambda: render("b"))  # over the bound: the least recently used goes
    assert len(cache) == 2
    cache.set_theme("dark")
    assert len(cache) == 0
    cache.get(("b", 10), lambda: render("b"))
    cache.set_theme("dark")  # the same theme keeps the lines
    assert len(cache) == 1
    assert made == ["a", "a20", "b", "b"]


def test_a_new_size_starts_the_line_cache_afresh_and_the_same_keeps_it() -> None:
    cache: LineCache[str] = LineCache(maxsize=4)
    cache.get("a", lambda: "a")
    cache.fit(4)
    assert len(cache) == 1, "the same size keeps the lines"
    cache.fit(8)
    assert len(cache) == 0 and cache.maxsize == 8
    for key in "abcdefghij":
        cache.get(key, str)
    assert len(cache) == 8


async def test_the_line_cache_holds_a_few_screenfuls_of_lines_or_tile_pieces() -> None:
    """Not a fixed few thousand lines: with live data most remembered lines are never asked for again, and each
    is walked by every full garbage collection (issue 15). At least ``LINE_CACHE_SIZE``; ``LINE_CACHE_SCREENS``
    screenfuls of lines, or of tile pieces (a line of tiles is a piece per tile)."""
    grid = DataGrid(COLUMNS)
    app = WidgetApp(grid)
    async with app.run_test(size=(40, 12)) as pilot:
        grid.set_rows(rows(100))
        await pilot.pause()
        assert grid.line_cache.maxsize == DataGrid.LINE_CACHE_SIZE == 256  # 4 x 12 lines is less
    tiles = MachineGrid(grid_layout="tiles")
    app = WidgetApp(tiles)
    async with app.run_test(size=(200, 60)) as pilot:
        tiles.set_machines(machines(400))
        await pilot.pause()
        region = tiles.scrollable_content_region
        cols = region.width // MachineGrid.TILE_MIN_WIDTH
        assert cols > 1
        assert tiles.line_cache.maxsize == MachineGrid.LINE_CACHE_SCREENS * cols * region.height
        tiles.grid_layout = "table"
        await pilot.pause()
        assert tiles.line_cache.maxsize == max(256, MachineGrid.LINE_CACHE_SCREENS * region.height)
