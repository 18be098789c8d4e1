"""What the operator sees: every screen at 80x24 and 160x48, and each theme on the dashboard.

The simulator is seeded and runs on a stepped clock, the server clock does not move on its own and receipt times are
frozen, so each picture is the same on every run. Update after an intended change with ``pytest --snapshot-update``
and look at the SVGs (``tests/app/__snapshots__/``) before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.widgets import Input

from tests.app.conftest import settle, wait_for, wait_ready

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


def freeze(app: Any) -> None:
    """No blinking cursors, no animations."""
    app.animation_level = "none"
    for screen in app.screen_stack:
        for widget in screen.query(Input):
            widget.cursor_blink = False


def prepare(*keys: str, then: Callable[[Any], Awaitable[None]] | None = None) -> Callable[[Any], Awaitable[None]]:
    """A ``run_before`` that waits for the live console, presses ``keys`` and settles the screen."""

    async def run_before(pilot: Any) -> None:
        pilot.app.animation_level = "none"
        await wait_ready(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if then is not None:
            await then(pilot)
        await settle(pilot)
        freeze(pilot.app)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "screen_key",
    [
        pytest.param("1", id="dashboard"),
        pytest.param("2", id="jobs"),
        pytest.param("3", id="alerts"),
        pytest.param("4", id="quality"),
        pytest.param("5", id="nodes"),
    ],
)
def test_main_screens(snap_compare, make_app, screen_key: str, size: tuple[int, int]) -> None:
    app = make_app()
    assert snap_compare(app, terminal_size=size, run_before=prepare(screen_key))


@pytest.mark.parametrize("size", SIZES)
def test_machine_detail(snap_compare, make_app, size: tuple[int, int]) -> None:
    app = make_app()

    async def open_faulty(pilot: Any) -> None:
        from console.screens.machine_detail import MachineDetailScreen

        store = pilot.app.store
        machine = next(m for m in sorted(store.machines.values(), key=lambda m: m.id) if m.state == "blocked")
        pilot.app.push_screen(MachineDetailScreen(machine.id))
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MachineDetailScreen), what="the detail screen")

    assert snap_compare(app, terminal_size=size, run_before=prepare(then=open_faulty))


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, make_app, size: tuple[int, int]) -> None:
    app = make_app()
    assert snap_compare(app, terminal_size=size, run_before=prepare("question_mark"))


@pytest.mark.parametrize("size", SIZES)
def test_pause_confirmation(snap_compare, make_app, size: tuple[int, int]) -> None:
    app = make_app()

    async def pause_a_running_machine(pilot: Any) -> None:
        from console.screens.modals import ConfirmAction
        from widgets.machine_grid import MachineGrid

        store = pilot.app.store
        machine = next(m for m in sorted(store.machines.values(), key=lambda m: m.id) if m.state == "running")
        grid = pilot.app.screen.query_one("#grid", MachineGrid)
        grid.move_cursor_to(machine.id)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmAction), what="the confirmation")

    assert snap_compare(app, terminal_size=size, run_before=prepare(then=pause_a_running_machine))


@pytest.mark.parametrize("theme", ["factory-dark", "factory-light", "isa101", "mono"])
def test_dashboard_themes(snap_compare, make_app, theme: str) -> None:
    app = make_app(theme=theme)
    assert snap_compare(app, terminal_size=(160, 48), run_before=prepare())
