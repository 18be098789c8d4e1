"""Benchmark 2, grid scaling: what a refresh costs after 1 % of the machines change, from 200 to 100,000 machines.

Three ways to show the machines, driven headless in one run (``App.run_test(size=(160, 48))``), on the same data and
the same sequence of changes:

* ``MachineGrid`` (``widgets.machine_grid``): the Line-API grid, used as the dashboard uses it: it reads machines
  from its owner's live mapping by id (the store's ``machines``), which the owner keeps current, and
  ``machines_changed(changed.keys())`` repaints the changed lines of visible machines only. Swapping the new
  versions into that mapping is the store's work, part of every event's apply in the ingest benchmark, so here it
  is done with the change set, outside the timing;
* a naive grid: one ``Static`` per machine in a CSS grid of tiles, ``Static.update`` on each changed machine;
* Textual's ``DataTable``: one row per machine, ``update_cell`` on the progress and telemetry cells of each change.

How a refresh is timed (per iteration): the change set is built first (outside the timing); then the clock starts,
the widget's update call runs, and the loop runs freely until the app has displayed the next frame (the bench app
hooks ``App._display``, which the screen's frame timer calls, and also turns the frame into terminal bytes with
``render_segments``, which the headless driver would skip, so the encoding cost is in). Two figures per iteration:

* **CPU** (``time.process_time``) from the update call to the frame: the work caused by the change (update, message
  handling, layout, compositor, rendering, encoding), without the wait for the 60 fps frame timer;
* **wall** time from the update call to the frame on screen (includes that frame-timer wait, up to ~17 ms).

If no frame comes within 60 ms (only possible for ``MachineGrid`` when no changed machine is on screen) the
iteration needed no repaint: CPU is counted up to the timeout (the update call and Textual's idle work; the idle
app's own CPU over such a window is measured too, ``idle_cpu_ms_per_window``), wall is the update call alone.
Figures are medians over the iterations.

Two change patterns: ``random`` (1 % of machines at random: at 20,000 machines most changes are off screen, which is
the point of a virtualised grid) and ``two_visible`` (1 % at random, always including two machines on screen), so
the on-screen work is the same at every size and only the cost of size shows. The scaling target is judged on both.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual._compositor import CompositorUpdate
from textual.app import App, ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Static

from benchmarks.fixtures import changed_versions, make_machines
from benchmarks.harness import Target, method_of, print_table, print_targets, write_result
from console.api.models import Machine
from themes import DEFAULT_THEME, VARIABLE_DEFAULTS, register_themes
from widgets.glyphs import kind_abbr, machine_state_look, telemetry_label
from widgets.machine_grid import MachineGrid, progress_bar

NAME = "grid"
SIZE = (160, 48)
FRAME_TIMEOUT = 0.06  # the frame timer runs at 60 fps: no frame 60 ms after an update means none was needed
VISIBLE_FIRST = 40  # the first machines: on screen at 160x48 (5 tiles a row, 9 full tile rows)


class BenchApp(App[None]):
    """Hosts one widget; records when each frame is displayed and how many bytes it would send to a terminal."""

    CSS = """
    #naive-grid { grid-size: 5; grid-gutter: 0 1; grid-rows: 4; height: auto; }
    #naive-grid > Static { height: 4; background: $surface; }
    """

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.target = widget
        self.frame_times: list[float] = []
        self.frame_bytes: list[int] = []
        self.frame_event = asyncio.Event()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return VARIABLE_DEFAULTS

    def compose(self) -> ComposeResult:
        yield self.target

    def on_mount(self) -> None:
        register_themes(self)
        self.theme = DEFAULT_THEME
        self.animation_level = "none"

    def _display(self, screen: Screen[Any], renderable: Any) -> None:
        super()._display(screen, renderable)
        if renderable is None or self._batch_count or not isinstance(renderable, CompositorUpdate):
            return
        self.frame_bytes.append(len(renderable.render_segments(self.console).encode()))
        self.frame_times.append(time.perf_counter())
        self.frame_event.set()


def tile_text(machine: Machine) -> str:
    """The naive grid's tile: the same facts as a MachineGrid tile, as plain text."""
    look = machine_state_look(machine.state)
    percent = "" if machine.progress is None else f"{round(machine.progress * 100)}%"
    return (
        f"{machine.name} {kind_abbr(machine.kind)}\n"
        f"{look.label} {progress_bar(machine.progress, 9)} {percent}\n"
        f"{machine.job_id or '—'} {telemetry_label(machine.kind, machine.telemetry)}\n"
        f"{machine.state_reason or ''}"
    )


class Driver:
    """One way of showing machines: builds the widget, loads the machines, applies a change set."""

    label: ClassVar[str] = ""

    def widget(self) -> Widget:
        raise NotImplementedError

    async def load(self, app: BenchApp, machines: Sequence[Machine]) -> None:
        raise NotImplementedError

    def store(self, changed: dict[str, Machine]) -> None:
        """What the store does with a change set before any view hears of it (outside the timing)."""

    def update(self, changed: dict[str, Machine]) -> None:
        raise NotImplementedError

    def stats(self) -> dict[str, int]:
        return {}


class MachineGridDriver(Driver):
    label = "MachineGrid (Line API)"

    def widget(self) -> Widget:
        self.grid = MachineGrid(id="grid")
        return self.grid

    async def load(self, app: BenchApp, machines: Sequence[Machine]) -> None:
        self.live = {m.id: m for m in machines}  # stands for the store's ``machines``
        self.grid.set_machines(machines, self.live)
        self.grid.focus()

    def store(self, changed: dict[str, Machine]) -> None:
        self.live.update(changed)

    def update(self, changed: dict[str, Machine]) -> None:
        self.grid.machines_changed(changed.keys())

    def stats(self) -> dict[str, int]:
        return {"rendered_lines": self.grid.rendered_lines, "refreshed_lines": self.grid.refreshed_lines}


class NaiveDriver(Driver):
    label = "naive (a Static per machine)"

    def widget(self) -> Widget:
        self.grid = Grid(id="naive-grid")
        return VerticalScroll(self.grid)

    async def load(self, app: BenchApp, machines: Sequence[Machine]) -> None:
        self.tiles = {m.id: Static(Content(tile_text(m))) for m in machines}
        await self.grid.mount_all(self.tiles.values())

    def update(self, changed: dict[str, Machine]) -> None:
        tiles = self.tiles
        for machine_id, machine in changed.items():
            tiles[machine_id].update(Content(tile_text(machine)))


class DataTableDriver(Driver):
    label = "Textual DataTable"

    def widget(self) -> Widget:
        self.table: DataTable[Any] = DataTable(cursor_type="row")
        return self.table

    async def load(self, app: BenchApp, machines: Sequence[Machine]) -> None:
        table = self.table
        for key, label in (("name", "NAME"), ("kind", "KIND"), ("state", "STATE"), ("progress", "PROGRESS")):
            table.add_column(label, key=key)
        table.add_column("JOB", key="job")
        table.add_column("TELEMETRY", key="telemetry")
        for m in machines:
            table.add_row(
                Text(m.name),
                kind_abbr(m.kind),
                machine_state_look(m.state).label,
                self._progress(m),
                m.job_id or "—",
                telemetry_label(m.kind, m.telemetry),
                key=m.id,
            )
        table.focus()

    @staticmethod
    def _progress(m: Machine) -> str:
        return "–" if m.progress is None else f"{round(m.progress * 100)}%"

    def update(self, changed: dict[str, Machine]) -> None:
        table = self.table
        for machine_id, m in changed.items():
            table.update_cell(machine_id, "progress", self._progress(m))
            table.update_cell(machine_id, "telemetry", telemetry_label(m.kind, m.telemetry))


DRIVERS: dict[str, type[Driver]] = {
    "machine_grid": MachineGridDriver,
    "naive": NaiveDriver,
    "data_table": DataTableDriver,
}


def _changes(machines: list[Machine], rng: random.Random, pattern: str) -> dict[str, Machine]:
    changed = changed_versions(machines, 0.01, rng)
    if pattern == "two_visible":
        on_screen = [m for m in machines[:VISIBLE_FIRST] if m.id not in changed]
        forced = changed_versions(rng.sample(on_screen, min(2, len(on_screen))), 1.0, rng)
        # keep the total at 1 %: drop as many of the random ones as were forced in
        for machine_id in list(changed)[: len(forced)]:
            if len(changed) > 1 or not forced:
                del changed[machine_id]
        changed.update(forced)
    return changed


async def _measure_one(kind: str, n: int, iterations: int, pattern: str, seed: int = 5) -> dict[str, Any]:
    driver = DRIVERS[kind]()
    app = BenchApp(driver.widget())
    machines = make_machines(n)
    position = {m.id: i for i, m in enumerate(machines)}
    rng = random.Random(seed)
    cpu_ms: list[float] = []
    wall_ms: list[float] = []
    update_ms: list[float] = []
    bytes_per_frame: list[int] = []
    frames = 0
    async with app.run_test(size=SIZE, notifications=False) as pilot:
        start = time.perf_counter()
        await driver.load(app, machines)
        await pilot.pause()
        load_s = time.perf_counter() - start
        await asyncio.sleep(0.05)
        idle: list[float] = []
        for _ in range(5):
            c0 = time.process_time()
            await asyncio.sleep(FRAME_TIMEOUT)
            idle.append((time.process_time() - c0) * 1e3)
        before = driver.stats()
        for _ in range(iterations):
            changed = _changes(machines, rng, pattern)
            for machine_id, machine in changed.items():
                machines[position[machine_id]] = machine
            driver.store(changed)
            await asyncio.sleep(0.02)  # let the previous iteration's trailing work finish
            app.frame_event.clear()
            seen = len(app.frame_times)
            c0, t0 = time.process_time(), time.perf_counter()
            driver.update(changed)
            t_update = time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(app.frame_event.wait(), FRAME_TIMEOUT)
            c1 = time.process_time()
            update_ms.append((t_update - t0) * 1e3)
            cpu_ms.append((c1 - c0) * 1e3)
            if len(app.frame_times) > seen:
                frames += 1
                wall_ms.append((app.frame_times[seen] - t0) * 1e3)
                bytes_per_frame.append(app.frame_bytes[seen])
            else:
                wall_ms.append((t_update - t0) * 1e3)
        after = driver.stats()
    result: dict[str, Any] = {
        "widget": kind,
        "machines": n,
        "pattern": pattern,
        "iterations": iterations,
        "changed_per_iteration": max(1, round(n * 0.01)),
        "load_s": round(load_s, 3),
        "cpu_ms_median": statistics.median(cpu_ms),
        "cpu_ms_max": max(cpu_ms),
        "wall_ms_median": statistics.median(wall_ms),
        "update_call_ms_median": statistics.median(update_ms),
        "iterations_with_frame": frames,
        "idle_cpu_ms_per_window": statistics.median(idle),
        "bytes_per_frame_median": statistics.median(bytes_per_frame) if bytes_per_frame else 0,
    }
    for key, value in after.items():
        result[f"{key}_per_iteration"] = (value - before.get(key, 0)) / iterations
    return result


def measure(
    plan: dict[str, Sequence[int]], iterations: int, patterns: Sequence[str] = ("random", "two_visible")
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for pattern in patterns:
        for kind, sizes in plan.items():
            for n in sizes:
                rows.append(asyncio.run(_measure_one(kind, n, iterations, pattern)))

    def cost(kind: str, n: int, pattern: str) -> float | None:
        for r in rows:
            if r["widget"] == kind and r["machines"] == n and r["pattern"] == pattern:
                return float(r["cpu_ms_median"])
        return None

    targets: list[Target] = []
    for pattern in patterns:
        small, large = cost("machine_grid", 200, pattern), cost("machine_grid", 20_000, pattern)
        ratio = large / small if small and large is not None else None
        targets.append(Target(f"MachineGrid cost 20,000 / 200 ({pattern})", 1.2, ratio, "x"))
        naive, grid = cost("naive", 3_000, pattern), cost("machine_grid", 3_000, pattern)
        speedup = naive / grid if naive is not None and grid else None
        targets.append(Target(f"naive / MachineGrid at 3,000 ({pattern})", 20, speedup, "x", higher_is_better=True))
    return {
        "method": method_of(__doc__),
        "terminal_size": list(SIZE),
        "results": rows,
        "targets": targets,
    }


def report(result: dict[str, Any]) -> None:
    table = [
        [
            r["pattern"],
            DRIVERS[r["widget"]].label,
            r["machines"],
            r["changed_per_iteration"],
            round(r["cpu_ms_median"], 2),
            round(r["wall_ms_median"], 2),
            f"{r['iterations_with_frame']}/{r['iterations']}",
            r["bytes_per_frame_median"],
            r["load_s"],
        ]
        for r in result["results"]
    ]
    print_table(
        "grid refresh after 1 % of machines change (headless 160x48; medians)",
        ["pattern", "widget", "machines", "changed", "CPU ms", "wall ms", "frames", "bytes/frame", "load s"],
        table,
    )
    print_targets(result["targets"])


FULL_PLAN: dict[str, Sequence[int]] = {
    "machine_grid": (200, 2_000, 3_000, 20_000, 100_000),
    "naive": (200, 2_000, 3_000),
    "data_table": (200, 2_000, 3_000, 20_000),
}
QUICK_PLAN: dict[str, Sequence[int]] = {
    "machine_grid": (200, 3_000, 20_000, 100_000),
    "naive": (200, 3_000),
    "data_table": (200, 3_000),
}


def run(quick: bool = False) -> dict[str, Any]:
    result = measure(QUICK_PLAN if quick else FULL_PLAN, iterations=5 if quick else 40)
    report(result)
    write_result(NAME, result, quick=quick)
    return result


if __name__ == "__main__":
    run()
