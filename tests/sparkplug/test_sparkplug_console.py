"""The console itself following a real broker: a Sparkplug device's machine on the dashboard, pause offered only where
the device declared it, and the key reaching the device as a DCMD; the machine shows paused when the device says so."""

from __future__ import annotations

from pathlib import Path

from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.screens.modals import ConfirmAction
from console.settings import Settings, SourceSpec
from tests.app.conftest import settle, wait_for
from tests.sparkplug.edge import device_metrics
from widgets.machine_grid import MachineGrid

MID = "Plant1/cell-a/mill-1"
MID2 = "Plant1/cell-a/mill-2"


async def test_dashboard_pause_reaches_the_device_that_declared_it(broker, edges, tmp_path: Path) -> None:
    spec = SourceSpec("sparkplug", "sparkplug", broker.url, options={"host_id": "console-app", "groups": ["Plant1"]})
    app = FactoryConsoleApp(
        Settings(sources=[spec], save_theme=False, refresh_ms=30),
        audit_log=AuditLog(tmp_path / "audit.jsonl"),
        install_signal_handlers=False,
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.store.sources["sparkplug"].state == "live", 20, "the source live")
        edge = await edges("Plant1", "cell-a")
        mill = edge.add_device("mill-1", device_metrics(state="running"))
        edge.add_device("mill-2", device_metrics(state="running", commands=()))
        await edge.birth()
        await wait_for(pilot, lambda: MID2 in app.store.machines, 20, "the machines")
        await settle(pilot)
        grid = app.screen.query_one("#grid", MachineGrid)
        grid.focus()

        assert grid.move_cursor_to(MID2)
        await settle(pilot)
        actions = {b.binding.action for b in app.screen.active_bindings.values()}
        assert not actions & {"pause", "cancel_job", "ready", "reroute"}, "mill-2 declared no command"

        assert grid.move_cursor_to(MID)
        await settle(pilot)
        actions = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "pause" in actions and "cancel_job" in actions
        assert not actions & {"ready", "reroute"}

        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)
        assert app.screen.choices == [], "a printer can only pause now: no drain offered"
        await pilot.press(*"jam")
        await pilot.press("enter")
        await wait_for(pilot, lambda: mill.commands == [("Command/Pause", True)], 20, "the DCMD at the device")
        await edge.data("mill-1", {"State": "Paused"})
        await wait_for(pilot, lambda: app.store.machines[MID].state == "paused", 20, "the device's paused state")
