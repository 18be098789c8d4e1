"""Pilot tests of MachineGrid: virtualised rendering, targeted repaints, cursor, messages, layouts, hostile text."""

from __future__ import annotations

from rich.segment import Segment

from tests.widgets.harness import WidgetApp, job, machine, machines, screen_lines, screen_segments
from widgets.machine_grid import MachineGrid, progress_bar
from widgets.machine_source import MachineRows


def make(n: int = 40, layout: str = "tiles") -> tuple[WidgetApp, MachineGrid]:
    grid = MachineGrid(grid_layout=layout)  # type: ignore[arg-type]
    app = WidgetApp(grid)
    return app, grid


async def test_renders_only_visible_rows_of_20000() -> None:
    app, grid = make(layout="table")
    async with app.run_test(size=(100, 30)) as pilot:
        grid.set_machines(machines(20_000))
        grid.focus()
        await pilot.pause()
        grid.rendered_lines = 0
        grid.refresh()
        await pilot.pause()
        assert 0 < grid.rendered_lines <= 2 * 30
        grid.rendered_lines = 0
        await pilot.press("end")
        await pilot.pause()
        assert grid.cursor_id == "M-19999"
        assert grid.rendered_lines <= 3 * 30
        assert any("19999" in line for line in screen_lines(app))


async def test_offscreen_update_repaints_nothing_and_visible_update_repaints_its_lines() -> None:
    app, grid = make(layout="tiles")
    async with app.run_test(size=(100, 30)) as pilot:
        grid.set_machines(machines(5000))
        await pilot.pause()
        calls: list[tuple[int, int]] = []
        original = grid.refresh_lines

        def counting(y: int, n: int = 1) -> None:
            calls.append((y, n))
            original(y, n)

        original_tile = grid.refresh_tile_lines

        def counting_tile(column: int, y: int, n: int = 1) -> None:
            calls.append((y, n))
            original_tile(column, y, n)

        grid.refresh_lines = counting  # type: ignore[method-assign]
        grid.refresh_tile_lines = counting_tile  # type: ignore[method-assign]
        grid.refreshed_lines = 0
        grid.update_rows({"M-04000": machine(4000, state="fault"), "M-99999": machine(99999)})
        assert calls == []
        assert grid.refreshed_lines == 0
        # A visible machine: only the lines of its tile that show a changed field are repainted (name: line 0;
        # state: the state line 1 and the detail line 3; not the telemetry line 2 nor the separator).
        grid.update_rows({"M-00001": machine(1, state="fault", name="CHANGED-1")})
        assert calls == [(0, 2), (3, 1)]
        assert grid.refreshed_lines == 3
        await pilot.pause()
        assert "CHANGED-1" in "\n".join(screen_lines(app))


async def test_cursor_moves_and_posts_messages_in_both_layouts() -> None:
    app, grid = make(layout="tiles")
    async with app.run_test(size=(90, 30)) as pilot:  # 3 tiles per row
        grid.set_machines(machines(100))
        grid.focus()
        await pilot.pause()
        assert grid.cursor_id == "M-00000"
        await pilot.press("right", "down")
        await pilot.pause()
        assert grid.cursor_id == "M-00004"
        await pilot.press("h", "k")
        await pilot.pause()
        assert grid.cursor_id == "M-00000"
        await pilot.press("enter", "space")
        await pilot.pause()
        ids = [m.machine_id for m in app.of_type(MachineGrid.Highlighted)]
        assert ids == ["M-00000", "M-00001", "M-00004", "M-00003", "M-00000"]  # the first from set_machines
        assert [m.machine_id for m in app.of_type(MachineGrid.Selected)] == ["M-00000"]
        assert [m.machine_id for m in app.of_type(MachineGrid.MarkToggled)] == ["M-00000"]
        grid.grid_layout = "table"
        await pilot.pause()
        await pilot.press("down", "down", "pagedown", "home")
        await pilot.pause()
        assert grid.cursor_id == "M-00000"
        await pilot.press("pagedown")
        await pilot.pause()
        assert grid.cursor_index == 29  # one body height: 30 lines minus the header


async def test_click_highlights_and_double_click_selects() -> None:
    app, grid = make(layout="table")
    async with app.run_test(size=(100, 20)) as pilot:
        grid.set_machines(machines(30))
        await pilot.pause()
        await pilot.click(MachineGrid, offset=(5, 3))  # header is line 0: row 2
        await pilot.pause()
        assert grid.cursor_id == "M-00002"
        await pilot.double_click(MachineGrid, offset=(5, 4))
        await pilot.pause()
        assert [m.machine_id for m in app.of_type(MachineGrid.Selected)] == ["M-00003"]


async def test_cursor_stays_on_machine_when_rows_are_reset() -> None:
    app, grid = make()
    async with app.run_test(size=(100, 30)) as pilot:
        rows = machines(50)
        grid.set_machines(rows)
        grid.move_cursor_to("M-00042")
        await pilot.pause()
        grid.set_machines(list(reversed(rows)))
        assert grid.cursor_id == "M-00042"
        assert grid.cursor_index == 7
        grid.set_machines(rows[:10])  # the machine is filtered out: the cursor stays in range
        assert grid.cursor_id is not None
        assert grid.cursor_index <= 9


async def test_layout_toggle_marks_unknown_values_and_extras_are_drawn() -> None:
    app, grid = make(layout="tiles")
    async with app.run_test(size=(100, 30)) as pilot:
        rows = machines(6)
        rows[2] = machine(2, state="teleporting", kind="quantum_weaver")
        grid.marked = {"M-00001"}
        source = MachineRows(
            machines={m.id: m for m in rows},
            jobs={"J-2000": job("J-2000", part="gearbox lid")},
            alert_counts={"M-00003": 4},
            stale_ids={"M-00004"},
        )
        grid.set_view([m.id for m in rows], source)
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "? teleporting" in text
        assert "quantum…" in text
        assert "●" in text
        assert "!4" in text
        assert "stale" in text
        assert "gearbox lid 12/40" in text
        assert "E-17 spindle overload" in text
        assert "✖ fault" in text and "▶ running" in text
        grid.grid_layout = "table"
        await pilot.pause()
        lines = screen_lines(app)
        assert lines[0].split()[:3] == ["NAME", "KIND", "STATE"]
        assert lines[1].startswith("  M-00000 FDM-00000")  # the id beside the name: alike names stay apart
        assert lines[2].startswith("● M-00001 CNC-00001")
        assert "? teleporting" in lines[3] and "quantum…"[:3] in lines[3]


async def test_empty_grid_says_so() -> None:
    app, grid = make(layout="table")
    async with app.run_test(size=(80, 10)) as pilot:
        grid.set_machines([])
        await pilot.pause()
        assert "No machines match the filter" in screen_lines(app)[1]
        assert grid.cursor_id is None
        await pilot.press("down", "enter")


async def test_hostile_strings_are_drawn_literally_without_styles_or_links() -> None:
    hostile_name = "[bold red]X[/][link=https://evil.example]L[/link][@click=app.quit]Q\x1b]8;;http://e\x07\x1b[2J"
    app, grid = make(layout="table")
    async with app.run_test(size=(220, 10)) as pilot:  # wide enough for the whole name beside the id
        grid.set_machines(
            [machine(0, name=hostile_name, state="\x1b[5mblink", state_reason="\u202eevil", job_id="J-\x9b1m")]
        )
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "[bold red]X[/][link=https://evil.example]L[/link][@click=app.quit]Q" in text
        assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
        assert "Q␛]8;;http://" in text
        assert "J-<U+009B" in text
        assert "? ␛[5mblink" in text
        for segment in screen_segments(app):
            assert isinstance(segment, Segment)
            if segment.style is not None:
                assert segment.style.link is None
                assert not (segment.style.meta or {}).get("@click")
        assert "app.quit" in app.export_screenshot()


def test_progress_bar_widths() -> None:
    assert progress_bar(None, 4) == "····"
    assert progress_bar(0.0, 4) == "░░░░"
    assert progress_bar(1.0, 4) == "████"
    assert progress_bar(0.5, 4) == "██░░"
    assert len(progress_bar(0.33, 9)) == 9


async def test_a_60_column_table_keeps_whole_ids_and_the_alerts_column() -> None:
    """At 60x20 the table showed ``M-0…01`` (ids of different nodes read alike) and cut the alerts column off: below
    about 70 columns the progress column goes first."""
    app, grid = make(layout="table")
    async with app.run_test(size=(60, 10)) as pilot:
        rows = machines(4)
        source = MachineRows(machines={m.id: m for m in rows}, alert_counts={"M-00001": 2})
        grid.set_view([m.id for m in rows], source)
        await pilot.pause()
        lines = screen_lines(app)
        assert "PROGRESS" not in lines[0] and lines[0].rstrip().endswith("AL"), lines[0]
        assert lines[2].startswith("  M-00001 "), lines[2]
        assert lines[2].rstrip().endswith("!2"), lines[2]
    app, grid = make(layout="table")
    async with app.run_test(size=(80, 10)) as pilot:
        grid.set_view([m.id for m in rows], source)
        await pilot.pause()
        assert "PROGRESS" in screen_lines(app)[0]  # 80 columns keep it
    for width in (56, 58):  # 60 columns less a scrollbar: the telemetry column narrows so the id stays whole
        app, grid = make(layout="table")
        async with app.run_test(size=(width, 10)) as pilot:
            grid.set_view([m.id for m in rows], source)
            await pilot.pause()
            lines = screen_lines(app)
            assert lines[2].startswith("  M-00001 "), (width, lines[2])
            assert lines[2].rstrip().endswith("!2") and len(lines[0].rstrip()) <= width, (width, lines[0])
