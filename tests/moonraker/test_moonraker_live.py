"""The Moonraker source against a real Moonraker (0.11) and the Klipper stand-in behind it (one pair per module).

Each command goes through the console's own command service and is checked twice: in the stand-in (what Klipper was
asked to do) and in the store (the effect came back through Moonraker's notifications).
"""

from __future__ import annotations

import asyncio

import pytest

from console.command_service import Command
from tests.moonraker.conftest import Printer
from tests.moonraker.helpers import MID, SOURCE_ID, running, service_for, until

pytestmark = [pytest.mark.moonraker, pytest.mark.timeout(300)]  # the first test may install Moonraker


async def test_a_print_updates_and_is_paused_resumed_and_cancelled_from_the_console(printer: Printer) -> None:
    async with running(printer.server.url) as (source, store):
        machine = store.machines[MID]
        assert (machine.state, machine.kind, machine.node_id) == ("idle", "fdm_printer", "moonraker")
        assert machine.model == "Klipper v0.12.0-standin"
        assert machine.envelope_mm == (235.0, 235.0, 250.0)
        assert store.nodes["moonraker"].name == "Klipper farm"
        assert store.machine_telemetry(MID)["nozzle_target_c"] == 0.0

        (printer.server.gcodes / "benchy.gcode").write_text("G28\n")
        await asyncio.to_thread(printer.server.post, "/printer/print/start", {"filename": "benchy.gcode"})
        machine = await until(lambda: (m := store.machines[MID]).state == "running" and m.job_id and m, "running")
        job_id = machine.job_id
        job = store.jobs[job_id]
        assert (job.status, job.part, job.design.file, job.machine_id) == (
            "running",
            "benchy.gcode",
            "benchy.gcode",
            MID,
        )
        # Progress and temperatures follow Klipper's status updates.
        first = store.jobs[job_id].progress
        await until(lambda: store.jobs[job_id].progress > first, "progress to advance")
        await until(lambda: store.machine_telemetry(MID).get("nozzle_c", 0) > 150, "the nozzle to heat")
        assert store.machine_telemetry(MID)["nozzle_target_c"] == 210.0
        assert store.machines[MID].progress == pytest.approx(store.jobs[job_id].progress, abs=0.01)

        service = service_for(source)
        outcome = await service.run(Command("job.pause", job_id, {"reason": "check first layer"}))
        assert outcome.ok, outcome
        assert printer.klippy.state == "paused"
        await until(lambda: store.machines[MID].state == "paused" and store.jobs[job_id].status == "paused", "paused")
        assert store.jobs[job_id].eta is None

        assert (await service.run(Command("machine.resume", MID, {"reason": "ok"}))).ok
        assert printer.klippy.state == "printing"
        await until(lambda: store.machines[MID].state == "running", "running again")
        assert store.machines[MID].job_id == job_id  # still the same print

        assert (await service.run(Command("machine.pause", MID, {"mode": "now"}))).ok
        await until(lambda: store.machines[MID].state == "paused", "machine paused")
        drain = await service.run(Command("machine.pause", MID, {"mode": "after_job"}))
        assert (drain.outcome, drain.code) == ("rejected", "not_supported")
        assert (await service.run(Command("job.resume", job_id, {}))).ok
        await until(lambda: store.machines[MID].state == "running", "running once more")

        outcome = await service.run(Command("job.cancel", job_id, {"reason": "scrap"}))
        assert outcome.ok, outcome
        assert printer.klippy.state == "cancelled"
        await until(lambda: store.jobs[job_id].status == "cancelled", "the job cancelled")
        assert store.machines[MID].state == "idle" and store.machines[MID].job_id is None
        assert store.machines[MID].state_reason == "print cancelled"
        methods = printer.klippy.methods()
        assert {"pause_resume/pause", "pause_resume/resume", "pause_resume/cancel"} <= set(methods)

        # Nothing to pause now: Moonraker's refusal comes back as a 409 with Klipper's own words.
        outcome = await service.run(Command("machine.pause", MID, {}))
        assert (outcome.outcome, outcome.status, outcome.code) == ("rejected", 409, "invalid_state")
        assert "not in progress" in (outcome.detail or "")
        outcome = await service.run(Command("job.reroute", job_id, {"auto": True}))
        assert (outcome.outcome, outcome.code) == ("rejected", "not_supported")
        assert store.sources[SOURCE_ID].malformed_total == 0


async def test_a_print_that_completes(printer: Printer) -> None:
    async with running(printer.server.url) as (_, store):
        await asyncio.to_thread(printer.klippy.start_print, "short.gcode", 1.0)
        job_id = await until(lambda: store.machines[MID].job_id, "the print")
        await until(lambda: store.jobs[job_id].status == "completed", "the print to complete")
        assert store.jobs[job_id].progress == 1.0 and store.jobs[job_id].done_qty == 1
        machine = store.machines[MID]
        assert (machine.state, machine.state_reason, machine.job_id) == ("idle", "print complete", None)


async def test_the_job_queue_is_the_machines_queue(printer: Printer) -> None:
    for name in ("a.gcode", "b.gcode"):
        (printer.server.gcodes / name).write_text("G28\n")
    async with running(printer.server.url) as (source, store):
        await asyncio.to_thread(printer.server.post, "/server/job_queue/job", {"filenames": ["a.gcode", "b.gcode"]})
        queued = await until(lambda: sorted((j.queue_position, j.part, j.status) for j in store.jobs.values()), "queue")
        assert queued == [(1, "a.gcode", "assigned"), (2, "b.gcode", "assigned")]
        first = next(j for j in store.jobs.values() if j.part == "a.gcode")
        assert first.machine_id == MID and first.id.startswith(f"{MID}-Q-")

        # Cancelling a queued job takes it out of Moonraker's queue; the console shows it cancelled.
        outcome = await service_for(source).run(Command("job.cancel", first.id, {}))
        assert outcome.ok, outcome
        status = await asyncio.to_thread(printer.server.get, "/server/job_queue/status")
        assert [entry["filename"] for entry in status["queued_jobs"]] == ["b.gcode"]
        await until(lambda: store.jobs[first.id].status == "cancelled", "the queued job cancelled")
        await until(lambda: [j.queue_position for j in store.jobs.values() if j.status == "assigned"] == [1], "b next")
        pause = await service_for(source).run(Command("job.pause", f"{MID}-Q-nothing", {}))
        assert (pause.outcome, pause.status) == ("rejected", 404)

        # Moonraker's queue starts b.gcode: it leaves the queue and prints.
        await asyncio.to_thread(printer.server.post, "/server/job_queue/start")
        await until(lambda: store.machines[MID].state == "running", "the queued file to print")
        await until(lambda: not [j for j in store.jobs.values() if j.status == "assigned"], "the queue to empty")
        assert store.jobs[store.machines[MID].job_id].part == "b.gcode"


async def test_an_error_shows_as_a_fault_with_its_reason_and_clears(printer: Printer) -> None:
    async with running(printer.server.url) as (_, store):
        await asyncio.to_thread(printer.klippy.start_print, "err.gcode")
        job_id = await until(lambda: store.machines[MID].job_id, "the print")
        await asyncio.to_thread(printer.klippy.print_error, "Must home axis first: 120.000 0.000 0.200 [0.000]")
        machine = await until(lambda: (m := store.machines[MID]).state == "fault" and m, "the fault")
        assert machine.state_reason == "Must home axis first: 120.000 0.000 0.200 [0.000]"
        assert machine.fault_code == "print_error"
        assert store.jobs[job_id].status == "failed"
        [alert] = store.alerts_for("machine", MID)
        assert (alert.state, alert.code, alert.priority) == ("active_unacked", "print_error", "high")

        # Klipper shuts down (an MCU error): still a fault, with Klipper's message.
        await asyncio.to_thread(printer.klippy.shutdown, "MCU 'mcu' shutdown: Timer too close")
        machine = await until(lambda: (m := store.machines[MID]).fault_code == "klipper_shutdown" and m, "shutdown")
        assert (machine.state, machine.state_reason) == ("fault", "MCU 'mcu' shutdown: Timer too close")

        # FIRMWARE_RESTART: Klipper comes back ready; the fault clears (the alert waits for an acknowledgement).
        await asyncio.to_thread(printer.klippy.firmware_restart)
        await until(lambda: store.machines[MID].state == "idle", "idle after the restart", 15)
        [alert] = store.alerts_for("machine", MID)
        assert alert.state == "cleared_unacked"


async def test_a_klipper_disconnect_shows_offline_and_recovers(printer: Printer) -> None:
    async with running(printer.server.url) as (_, store):
        await asyncio.to_thread(printer.klippy.start_print, "lost.gcode")
        job_id = await until(lambda: store.machines[MID].job_id, "the print")
        await asyncio.to_thread(printer.klippy.disconnect)
        machine = await until(lambda: (m := store.machines[MID]).state == "offline" and m, "offline")
        assert machine.state_reason == "Klipper disconnected"
        assert store.jobs[job_id].status == "failed"  # Klipper's print cannot outlive Klipper
        assert store.source_state(SOURCE_ID) == "live"  # Moonraker is there; Klipper is not
        await asyncio.to_thread(printer.klippy.reconnect)
        await until(lambda: store.machines[MID].state == "idle", "idle again", 15)


async def test_a_moonraker_restart_reconnects(printer: Printer) -> None:
    async with running(printer.server.url) as (source, store):
        await asyncio.to_thread(printer.klippy.start_print, "long.gcode")
        job_id = await until(lambda: store.machines[MID].job_id, "the print")
        await asyncio.to_thread(printer.server.stop)
        await until(lambda: store.source_state(SOURCE_ID) == "reconnecting", "reconnecting")
        assert store.machines[MID].state == "running"  # not offline yet: it was heard a moment ago
        await asyncio.to_thread(printer.server.start)
        await until(lambda: store.source_state(SOURCE_ID) == "live" and source.connections == 2, "live again", 15)
        await until(lambda: store.machines[MID].state == "running", "running")
        assert store.machines[MID].job_id == job_id  # the same print, followed again
        assert store.jobs[job_id].status == "running"


async def test_moonraker_down_long_enough_shows_offline(printer: Printer) -> None:
    async with running(printer.server.url, offline_after=0.3, stale_after=0.6) as (_, store):
        await asyncio.to_thread(printer.server.stop)
        machine = await until(lambda: (m := store.machines[MID]).state == "offline" and m, "offline")
        assert machine.state_reason is not None and machine.state_reason.startswith("Moonraker unreachable")
        await until(lambda: store.source_state(SOURCE_ID) == "stale", "stale")
        await asyncio.to_thread(printer.server.start)
        await until(lambda: store.source_state(SOURCE_ID) == "live", "live", 15)
        await until(lambda: store.machines[MID].state == "idle", "idle")


async def test_hostile_values_from_klipper_are_plain_text_and_counted(printer: Printer) -> None:
    async with running(printer.server.url) as (_, store):
        await asyncio.to_thread(printer.klippy.start_print, "ok.gcode")
        await asyncio.to_thread(printer.klippy.pause)  # a paused print stands still: nothing moves but the test
        await until(lambda: store.machines[MID].state == "paused", "paused")
        hostile = {
            "display_status": {"message": "[bold red]pwned[/]\x1b[2J\x07 " + "x" * 5000, "progress": 7.5},
            "extruder": {"temperature": "hot", "target": 1e308 * 10},
            "heater_bed": {"temperature": True},
            "print_stats": {"print_duration": -5},
        }
        await asyncio.to_thread(printer.klippy.update, hostile)
        reason = await until(lambda: store.machines[MID].state_reason, "the display message")
        assert "\x1b" not in reason and "\x07" not in reason and len(reason) <= 200
        assert reason.startswith("[bold red]pwned[/]")  # kept as plain text: never rendered as markup
        await until(lambda: store.sources[SOURCE_ID].malformed_total >= 1, "the odd values counted")
        telemetry = store.machine_telemetry(MID)
        assert isinstance(telemetry.get("nozzle_c"), float)  # the last good reading stays
        job_id = store.machines[MID].job_id
        await until(lambda: store.jobs[job_id].progress == 1.0, "the progress clamped")
        assert store.source_state(SOURCE_ID) == "live"


async def test_the_api_key(printer: Printer) -> None:
    key = await asyncio.to_thread(printer.server.api_key)
    async with running(printer.server.url, api_key=key) as (_, store):
        assert store.source_state(SOURCE_ID) == "live"
        assert store.machines[MID].state == "idle"
    async with running(printer.server.url, api_key="not-the-key") as (source, store):
        await until(lambda: store.source_state(SOURCE_ID) == "failed", "failed")
        assert store.machines[MID].state == "offline"
        assert store.machines[MID].state_reason == "Moonraker refused the API key"
        assert source.connections == 0
