"""The console itself driving a Klipper printer through a real Moonraker: keys on the dashboard, the stand-in's own
state checked. Actions Klipper cannot do (ready, node drain, reroute) are not offered on its machine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.screens.modals import ConfirmAction
from console.settings import Settings, SourceSpec
from tests.app.conftest import settle, wait_for
from tests.moonraker.conftest import Printer
from tests.moonraker.helpers import MID, NAME, SOURCE_ID
from widgets.machine_grid import MachineGrid

pytestmark = [pytest.mark.moonraker, pytest.mark.timeout(300)]


async def test_dashboard_keys_pause_resume_and_cancel_a_print(printer: Printer, tmp_path: Path) -> None:
    spec = SourceSpec(SOURCE_ID, "moonraker", printer.server.url, name=NAME)
    app = FactoryConsoleApp(
        Settings(sources=[spec], save_theme=False, refresh_ms=30),
        audit_log=AuditLog(tmp_path / "audit.jsonl"),
        install_signal_handlers=False,
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: MID in app.store.machines, 15, "the printer to appear")
        await asyncio.to_thread(printer.klippy.start_print, "keys.gcode")
        await wait_for(pilot, lambda: app.store.machines[MID].state == "running", 15, "the print to run")
        await settle(pilot)
        grid = app.screen.query_one("#grid", MachineGrid)
        grid.focus()
        assert grid.move_cursor_to(MID)
        await pilot.pause()
        actions = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "pause" in actions and "cancel_job" in actions
        assert not actions & {"ready", "node", "reroute"}, "Klipper cannot do these: not offered"

        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)
        assert app.screen.choices == [], "a printer can only pause now: no drain offered"
        await pilot.press(*"first", "space", *"layer")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[MID].state == "paused", 15, "the store to show paused")
        assert printer.klippy.state == "paused"

        await settle(pilot)
        await pilot.press("p")  # resume asks too
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)
        await pilot.press(*"checked")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[MID].state == "running", 15, "the store to show running")
        assert printer.klippy.state == "printing"

        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)
        await pilot.press(*"scrap")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[MID].state == "idle", 15, "the machine to be idle")
        assert printer.klippy.state == "cancelled"
