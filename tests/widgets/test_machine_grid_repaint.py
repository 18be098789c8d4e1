"""MachineGrid repaints only what changed: off-screen machines, per-line render keys, unchanged keys.

The render keys (``tile_line_keys``, ``table_row_key``) decide which lines an update repaints, so they must cover
every machine field a line shows: the last tests render old and new versions field by field and check that a line
whose pixels changed always has a changed key.
"""

from __future__ import annotations

from datetime import timedelta

from rich.segment import Segment

from console.api.models import Machine
from tests.widgets.harness import T0, WidgetApp, machine, machines, screen_lines
from widgets.machine_grid import MachineGrid, table_row_key, tile_line_keys
from widgets.machine_source import facts_of
from widgets.machine_table import table_row
from widgets.machine_tiles import tile_piece

# At 100 columns the tiles layout has 3 tiles per row (100 // 28); machine 5 is on tile row 1: lines 5-9.
SIZE = (100, 30)


def _counting(grid: MachineGrid) -> list[tuple[int, int]]:
    """Record every ``refresh_lines``/``refresh_line`` the grid asks for, as (first virtual line, count)."""
    calls: list[tuple[int, int]] = []
    refresh_lines, refresh_line = grid.refresh_lines, grid.refresh_line

    def lines(y: int, n: int = 1) -> None:
        calls.append((y, n))
        refresh_lines(y, n)

    def line(y: int) -> None:
        calls.append((y, 1))
        refresh_line(y)

    refresh_tile_lines = grid.refresh_tile_lines

    def tile_lines(column: int, y: int, n: int = 1) -> None:
        calls.append((y, n))
        refresh_tile_lines(column, y, n)

    grid.refresh_lines = lines  # type: ignore[method-assign]
    grid.refresh_line = line  # type: ignore[method-assign]
    grid.refresh_tile_lines = tile_lines  # type: ignore[method-assign]
    return calls


def _make(layout: str) -> tuple[WidgetApp, MachineGrid]:
    grid = MachineGrid(grid_layout=layout)  # type: ignore[arg-type]
    return WidgetApp(grid), grid


async def test_offscreen_updates_refresh_and_render_no_line_in_either_layout() -> None:
    for layout in ("tiles", "table"):
        app, grid = _make(layout)
        async with app.run_test(size=SIZE) as pilot:
            grid.set_machines(machines(5000))
            await pilot.pause()
            calls = _counting(grid)
            grid.refreshed_lines = grid.rendered_lines = 0
            grid.update_rows({f"M-{i:05d}": machine(i, state="fault", name="ZZ-CHANGED") for i in range(1000, 1200)})
            grid.refresh_ids([f"M-{i:05d}" for i in range(4000, 4100)])
            await pilot.pause()
            assert calls == [], layout
            assert grid.refreshed_lines == 0 and grid.rendered_lines == 0, layout
            # the rows were swapped in all the same: scrolling there shows the new version
            grid.move_cursor_to("M-01000")
            await pilot.pause()
            assert grid.get_machine("M-01000").name == "ZZ-CHANGED"  # type: ignore[union-attr]
            assert "ZZ-CHANGED" in "\n".join(screen_lines(app)), layout


async def test_telemetry_only_change_refreshes_only_the_telemetry_line_of_its_tile() -> None:
    app, grid = _make("tiles")
    async with app.run_test(size=SIZE) as pilot:
        rows = machines(60)
        grid.set_machines(rows)
        await pilot.pause()
        calls = _counting(grid)
        grid.refreshed_lines = grid.rendered_lines = 0
        old = rows[5]  # an fdm printer: its tile shows the nozzle temperature
        grid.update_rows({old.id: old.model_copy(update={"telemetry": {**old.telemetry, "nozzle_c": 231.0}})})
        assert calls == [(1 * MachineGrid.TILE_HEIGHT + 2, 1)]
        assert grid.refreshed_lines == 1
        await pilot.pause()
        assert grid.rendered_lines == 1
        assert "nozzle 231°C" in "\n".join(screen_lines(app))
        # progress only: the progress line (1) of that tile
        calls.clear()
        grid.update_rows({"M-00000": rows[0].model_copy(update={"progress": 0.99})})
        assert calls == [(1, 1)]


async def test_unchanged_render_key_refreshes_nothing() -> None:
    for layout in ("tiles", "table"):
        app, grid = _make(layout)
        async with app.run_test(size=SIZE) as pilot:
            rows = machines(60)
            grid.set_machines(rows)
            await pilot.pause()
            calls = _counting(grid)
            grid.refreshed_lines = grid.rendered_lines = 0
            fdm = rows[0]  # shows nozzle_c, not bed_c; heartbeat fields are not drawn at all
            grid.update_rows(
                {
                    fdm.id: fdm.model_copy(update={"telemetry": {**fdm.telemetry, "bed_c": 65.0}}),
                    rows[1].id: rows[1].model_copy(update={"last_seen": T0 + timedelta(seconds=5)}),
                    rows[2].id: rows[2],  # the very same object
                    rows[5].id: rows[5].model_copy(update={"progress": rows[5].progress + 0.0001}),  # same bar, same %
                }
            )
            await pilot.pause()
            assert calls == [], layout
            assert grid.refreshed_lines == 0 and grid.rendered_lines == 0, layout


# --- a live mapping: the grid reads machines from its owner's dict (as the dashboard does with the store's) ---------


async def test_live_mapping_changes_repaint_only_visible_changed_lines() -> None:
    app, grid = _make("tiles")
    async with app.run_test(size=SIZE) as pilot:
        rows = machines(5000)
        live = {m.id: m for m in rows}
        grid.set_machines(rows, live)
        await pilot.pause()
        calls = _counting(grid)
        grid.refreshed_lines = grid.rendered_lines = 0
        # off screen: the owner swaps new versions in; the grid draws and asks for nothing
        for i in range(1000, 1200):
            live[f"M-{i:05d}"] = machine(i, state="fault", name="ZZ-CHANGED")
        grid.machines_changed(f"M-{i:05d}" for i in range(1000, 1200))
        await pilot.pause()
        assert calls == [] and grid.rendered_lines == 0
        # on screen, telemetry only: the first change of a tile with no painted keys repaints the whole tile once...
        fdm = live["M-00005"]
        live[fdm.id] = fdm.model_copy(update={"telemetry": {**fdm.telemetry, "nozzle_c": 231.0}})
        grid.machines_changed([fdm.id])
        assert calls == [(MachineGrid.TILE_HEIGHT, 4)]
        await pilot.pause()
        assert "nozzle 231°C" in "\n".join(screen_lines(app))
        # ...after that only its changed line
        calls.clear()
        live[fdm.id] = live[fdm.id].model_copy(update={"telemetry": {**fdm.telemetry, "nozzle_c": 232.0}})
        grid.machines_changed([fdm.id])
        assert calls == [(MachineGrid.TILE_HEIGHT + 2, 1)]
        await pilot.pause()
        assert "nozzle 232°C" in "\n".join(screen_lines(app))
        # the changed machines show their new version when scrolled to
        grid.move_cursor_to("M-01000")
        await pilot.pause()
        assert grid.get_machine("M-01000").name == "ZZ-CHANGED"  # type: ignore[union-attr]
        assert "ZZ-CHANGED" in "\n".join(screen_lines(app))


async def test_live_mapping_change_while_off_screen_is_not_compared_with_stale_keys() -> None:
    """Painted keys of a machine that changes while scrolled away are forgotten: back on screen, its next change
    repaints the whole tile, not just the lines that differ from a version the screen no longer shows."""
    app, grid = _make("tiles")
    async with app.run_test(size=SIZE) as pilot:
        rows = machines(3000)
        live = {m.id: m for m in rows}
        grid.set_machines(rows, live)
        await pilot.pause()
        first = live["M-00000"]
        live[first.id] = first.model_copy(update={"progress": 0.11})
        grid.machines_changed([first.id])  # painted keys now on record
        await pilot.pause()
        grid.move_cursor_to("M-02000")  # scroll away
        await pilot.pause()
        live[first.id] = first.model_copy(update={"progress": 0.55, "name": "Renamed-away"})
        grid.machines_changed([first.id])  # off screen
        grid.move_cursor_to("M-00000")  # back: drawn fresh, "Renamed-away" at 55 %
        await pilot.pause()
        assert "Renamed-away" in "\n".join(screen_lines(app))
        calls = _counting(grid)
        live[first.id] = live[first.id].model_copy(update={"progress": 0.11})  # back to the first progress
        grid.machines_changed([first.id])
        assert calls == [(0, 4)]  # the whole tile, since what is painted is not on record
        await pilot.pause()
        assert " 11%" in "\n".join(screen_lines(app))


async def test_live_mapping_machine_gone_before_the_owner_replaces_the_rows_draws_a_blank_tile() -> None:
    for layout in ("tiles", "table"):
        app, grid = _make(layout)
        async with app.run_test(size=SIZE) as pilot:
            rows = machines(10)
            live = {m.id: m for m in rows}
            grid.set_machines(rows, live)
            await pilot.pause()
            gone = live.pop("M-00001")
            grid.machines_changed([gone.id])
            await pilot.pause()
            assert gone.name not in "\n".join(screen_lines(app)), layout
            assert rows[2].name in "\n".join(screen_lines(app)), layout
            assert grid.get_machine(gone.id) is None


# --- the keys cover what is drawn ----------------------------------------------------------------------------------

_VARIANTS: list[dict[str, object]] = [
    {"name": "Renamed-1"},
    {"kind": "cnc_mill"},
    {"kind": "quantum_weaver"},
    {"model": "Y2"},
    {"node_id": "N-9"},
    {"state": "fault"},
    {"state": "idle", "job_id": None, "progress": None},
    {"state": "blocked", "state_reason": "bed not clear"},
    {"state": "teleporting"},
    {"progress": 0.5},
    {"progress": 0.995},
    {"progress": None},
    {"job_id": "J-9999"},
    {"job_id": None},
    {"telemetry": {"nozzle_c": 230.0, "bed_c": 60.0}},
    {"telemetry": {"nozzle_c": 215.0, "bed_c": 70.0}},
    {"telemetry": {}},
    {"state_reason": "door open"},
    {"fault_code": "E-99"},
    {"state": "fault", "fault_code": "E-99", "state_reason": "jam"},
    {"draining": True},
    {"paused_by": "op-1"},
    {"last_seen": T0 + timedelta(minutes=1)},
    {"materials": ["ABS"]},
]


def _tile_lines(grid: MachineGrid, m: Machine) -> list[list[Segment]]:
    styles = grid._styles()
    facts = facts_of(grid.source, m, marked=False)
    return [tile_piece(m, m.telemetry, facts, within, 31, styles, at_cursor=True) for within in range(4)]


def _table_line(grid: MachineGrid, m: Machine) -> list[Segment]:
    facts = facts_of(grid.source, m, marked=False)
    return list(table_row(m, m.telemetry, facts, 120, grid._styles(), at_cursor=True))


async def test_render_keys_change_whenever_a_drawn_line_changes() -> None:
    base = machine(0)  # running fdm printer with a job and progress
    app, grid = _make("tiles")
    async with app.run_test(size=SIZE) as pilot:
        grid.set_machines([base])
        await pilot.pause()
        before_tiles, before_table = _tile_lines(grid, base), _table_line(grid, base)
        for variant in _VARIANTS:
            new = base.model_copy(update=variant)
            tiles = _tile_lines(grid, new)
            old_keys, new_keys = tile_line_keys(base), tile_line_keys(new)
            for within in range(4):
                if tiles[within] != before_tiles[within]:
                    assert old_keys[within] != new_keys[within], (variant, within)
            if _table_line(grid, new) != before_table:
                assert table_row_key(base) != table_row_key(new), variant
        # and the keys are not trivially always different: a heartbeat changes none
        heartbeat = base.model_copy(update={"last_seen": T0 + timedelta(minutes=1)})
        assert tile_line_keys(base) == tile_line_keys(heartbeat)
        assert table_row_key(base) == table_row_key(heartbeat)


async def test_set_view_that_moves_machines_only_off_screen_repaints_nothing() -> None:
    """The dashboard's placement moves a few machines each flush at 20,000 machines; when none of the moves touches
    what is on screen (the same machines in the same places, the cursor where it was) the grid repaints nothing,
    and scrolling there shows the new order. A move on screen repaints as before."""
    app, grid = _make("tiles")
    async with app.run_test(size=SIZE) as pilot:
        rows = machines(5000)
        live = {m.id: m for m in rows}
        grid.set_machines(rows, live)
        await pilot.pause()
        ids = grid.machine_ids
        grid.refreshed_lines = grid.rendered_lines = 0
        moved = [*ids[:1000], ids[4000], *ids[1000:4000], *ids[4001:]]  # M-04000 moves to index 1000
        grid.set_view(moved, grid.source)
        await pilot.pause()
        assert grid.rendered_lines == 0 and grid.refreshed_lines == 0
        assert grid.machine_ids == moved and grid.cursor_key == ids[0]
        grid.move_cursor_to("M-04000")
        await pilot.pause()
        assert grid.cursor_index == 1000
        grid.move_cursor_to(ids[0])
        await pilot.pause()
        grid.rendered_lines = 0
        on_screen = [ids[0], ids[2], ids[1], *ids[3:]]  # two visible tiles swap places
        grid.set_view(on_screen, grid.source)
        await pilot.pause()
        assert grid.rendered_lines > 0
        assert grid.machine_ids == on_screen
