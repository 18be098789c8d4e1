"""The console itself with an OPC UA server: its machines on the dashboard with only what OPC UA can carry offered,
and an alarm acknowledged with a note from the Alerts screen, the server's condition checked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.screens.alerts import AlertsScreen
from console.screens.modals import NoteDialog
from console.settings import Settings, SourceSpec
from tests.app.conftest import settle, wait_for
from tests.opcua.opcua_server import PlantServer
from widgets.data_grid import DataGrid
from widgets.machine_grid import MachineGrid

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRESS = "UA-plant-Press-1"


async def test_dashboard_and_alerts_keys_with_an_opcua_server(plant: PlantServer, tmp_path: Path) -> None:
    spec = SourceSpec("opcua:plant", "opcua", plant.url, name="plant")
    app = FactoryConsoleApp(
        Settings(sources=[spec], save_theme=False, refresh_ms=30),
        audit_log=AuditLog(tmp_path / "audit.jsonl"),
        install_signal_handlers=False,
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: PRESS in app.store.machines, 10, "the machines to appear")
        await wait_for(pilot, lambda: app.store.machines[PRESS].state == "running", 10, "the press to run")
        await settle(pilot)
        grid = app.screen.query_one("#grid", MachineGrid)
        grid.focus()
        assert grid.move_cursor_to(PRESS)
        await pilot.pause()
        actions = {b.binding.action for b in app.screen.active_bindings.values()}
        assert not actions & {"pause", "ready", "node", "reroute", "cancel_job"}, "OPC UA cannot do these"

        await plant.raise_alarm(severity=900, message="Guard door open")
        await wait_for(pilot, lambda: any(a.code == "oil_over_temperature" for a in app.store.alerts.values()), 10)
        (alert,) = [a for a in app.store.alerts.values() if a.code == "oil_over_temperature"]
        assert (alert.priority, alert.state) == ("critical", "active_unacked")
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.ready, what="the Alerts")
        await settle(pilot)
        screen = app.screen
        alerts = screen.query_one("#list", DataGrid)
        alerts.focus()
        assert alerts.cursor_key == alert.id
        actions = {b.binding.action for b in screen.active_bindings.values()}
        assert "ack" in actions and "shelve" not in actions, "acknowledge yes, shelve not: OPC UA carries only ack"
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteDialog), what="the ack dialog")
        await pilot.press(*"door", "space", *"closed")
        await pilot.press("enter")
        condition = plant.condition
        assert condition is not None
        await wait_for(pilot, lambda: condition.acks == ["door closed"], 10, "the server's condition acked")
        await wait_for(pilot, lambda: app.store.alerts[alert.id].state == "active_acked", 10, "the ack to come back")
        assert app.store.alerts[alert.id].ack_note == "door closed"
        await plant.clear_alarm()
        await wait_for(pilot, lambda: alert.id not in app.store.alerts, 10, "the alarm to clear")
        await asyncio.sleep(0)
