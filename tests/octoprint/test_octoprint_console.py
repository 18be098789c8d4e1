"""The console itself driving a real OctoPrint (virtual printer): keys on the dashboard, OctoPrint's own state checked.

Actions OctoPrint cannot do (ready, node drain, reroute) are not offered on its machine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.screens.modals import ConfirmAction
from console.settings import Settings, SourceSpec
from tests.app.conftest import settle, wait_for
from tests.octoprint.octoprint_server import OctoPrintServer
from tests.octoprint.test_octoprint_live import GCODE, MID, octoprint_state
from widgets.machine_grid import MachineGrid

pytestmark = [pytest.mark.octoprint, pytest.mark.timeout(900)]


async def test_dashboard_keys_pause_resume_and_cancel_a_real_print(octoprint_server: OctoPrintServer, tmp_path: Path):
    await asyncio.to_thread(octoprint_server.wait_operational)
    spec = SourceSpec(
        "octoprint:virtual", "octoprint", octoprint_server.url, token=octoprint_server.api_key, name="virtual"
    )
    app = FactoryConsoleApp(
        Settings(sources=[spec], save_theme=False, refresh_ms=30),
        audit_log=AuditLog(tmp_path / "audit.jsonl"),
        install_signal_handlers=False,
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: MID in app.store.machines, 30, "the printer to appear")
        await asyncio.to_thread(octoprint_server.upload, "console-keys.gcode", GCODE, start=True)
        await octoprint_state(octoprint_server, "Printing")
        await wait_for(pilot, lambda: app.store.machines[MID].state == "running", 30, "the print to run")
        await settle(pilot)
        grid = app.screen.query_one("#grid", MachineGrid)
        grid.focus()
        assert grid.move_cursor_to(MID)
        await pilot.pause()
        actions = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "pause" in actions and "cancel_job" in actions
        assert not actions & {"ready", "node", "reroute"}, "OctoPrint cannot do these: not offered"

        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)
        await pilot.press(*"first", "space", *"layer")
        await pilot.press("enter")
        await octoprint_state(octoprint_server, "Paused")
        await wait_for(pilot, lambda: app.store.machines[MID].state == "paused", 20, "the store to show paused")

        await settle(pilot)
        await pilot.press("p")  # resume asks too, with a reason
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)
        await pilot.press(*"checked")
        await pilot.press("enter")
        await octoprint_state(octoprint_server, "Printing")
        await wait_for(pilot, lambda: app.store.machines[MID].state == "running", 20, "the store to show running")

        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)
        await pilot.press(*"scrap")
        await pilot.press("enter")
        await octoprint_state(octoprint_server, "Operational")
        await wait_for(pilot, lambda: app.store.machines[MID].state == "idle", 20, "the machine to be idle")
