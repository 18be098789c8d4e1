"""The OctoPrint source against a real OctoPrint server and its virtual printer (one server for the session).

A G-code file of dwell commands (``G4 P100``: the virtual printer really waits 0.1 s for each) prints for about two
minutes, far longer than the test needs, so pause, resume and cancel always land on a running print; each command
goes through the console's own command service, and each is checked twice: in OctoPrint's own ``/api/job`` state
and in the store after the source's next pushed state.

The push socket: while it is up nothing is polled (every REST request the source makes is counted), and a print's
start, progress, pause, resume and cancel all arrive by push. When the socket is refused or dropped (a TCP relay in
front of it, which the test stops and starts; or a path that 404s), polling takes over, and the socket takes back
over when it returns. The push tests are in this file so they share its server (``make test`` hands whole files to
its workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from console.api.errors import Conflict
from console.command_service import Command, CommandService
from console.sources.octoprint import OctoPrintSource
from console.store import Store
from tests.octoprint.octoprint_server import OctoPrintServer
from tests.octoprint.relay import CountingClient, Relay

pytestmark = [pytest.mark.octoprint, pytest.mark.timeout(900)]  # the first test may install OctoPrint

MID = "OP-virtual"
SOURCE_ID = "octoprint:virtual"
GCODE = "\n".join(["; factory-console test print", "M104 S200", "M140 S60", "G28", *["G4 P100"] * 1200, "M104 S0"])


async def until(predicate: Callable[[], Any], what: str, within: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


async def octoprint_state(server: OctoPrintServer, expected: str, within: float = 20.0) -> None:
    """Wait until OctoPrint's own ``/api/job`` says ``expected``."""
    last: list[str] = []

    async def check() -> bool:
        last.append(await asyncio.to_thread(server.job_state))
        return last[-1] == expected

    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"OctoPrint state {last[-1]!r}, expected {expected!r}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def running_source(octoprint_server: OctoPrintServer) -> AsyncIterator[tuple[OctoPrintSource, Store]]:
    await asyncio.to_thread(octoprint_server.wait_operational)
    store = Store()
    source = OctoPrintSource(SOURCE_ID, "virtual", octoprint_server.url, octoprint_server.api_key, store)
    task = asyncio.create_task(source.run())
    try:
        await until(lambda: store.source_state(SOURCE_ID) == "live", "the source to go live")
        yield source, store
    finally:
        source.stop()
        await asyncio.wait_for(task, 10)


def service_for(source: OctoPrintSource) -> CommandService:
    """The console's command service, routed to this source as the app routes OctoPrint machines."""
    return CommandService(lambda command: (SOURCE_ID, source.command_client), role=lambda: "operator")


async def test_print_pause_resume_cancel(
    octoprint_server: OctoPrintServer, running_source: tuple[OctoPrintSource, Store]
) -> None:
    source, store = running_source
    service = service_for(source)
    assert store.machines[MID].state == "idle"
    assert store.machines[MID].model.startswith("OctoPrint ")
    assert store.machines[MID].envelope_mm[0] > 0

    await asyncio.to_thread(octoprint_server.upload, "console-test.gcode", GCODE, start=True)
    await octoprint_state(octoprint_server, "Printing")
    machine = await until(
        lambda: (m := store.machines[MID]).state == "running" and m.job_id and m, "the machine to run the print"
    )
    job_id = machine.job_id
    job = store.jobs[job_id]
    assert (job.status, job.part, job.machine_id) == ("running", "console-test.gcode", MID)

    # Pause the job: OctoPrint pauses, then the store shows it.
    outcome = await service.run(Command("job.pause", job_id, {"reason": "check first layer"}))
    assert outcome.ok, outcome
    await octoprint_state(octoprint_server, "Paused")
    await until(lambda: store.machines[MID].state == "paused" and store.jobs[job_id].status == "paused", "paused")

    # Resume with a key, then the same key again (a retry after a lost answer): the first answer comes back and
    # OctoPrint is not asked a second time (it would refuse: "not paused").
    key = str(uuid.uuid4())
    first = await source.command(f"/v1/machines/{MID}/resume", {}, key)
    await octoprint_state(octoprint_server, "Printing")
    again = await source.command(f"/v1/machines/{MID}/resume", {}, key)
    assert again == first
    await until(lambda: store.machines[MID].state == "running" and store.jobs[job_id].status == "running", "resumed")

    # Pause and resume the machine through the service.
    assert (await service.run(Command("machine.pause", MID, {}))).ok
    await octoprint_state(octoprint_server, "Paused")
    await until(lambda: store.machines[MID].state == "paused", "machine paused")
    assert (await service.run(Command("machine.resume", MID, {}))).ok
    await octoprint_state(octoprint_server, "Printing")
    await until(lambda: store.machines[MID].state == "running", "machine running again")
    assert store.machines[MID].job_id == job_id  # still the same print

    # Temperatures arrive as telemetry (the file set the nozzle to 200 °C).
    await until(lambda: store.machine_telemetry(MID).get("nozzle_target_c") == 200.0, "the nozzle target")
    assert store.machine_telemetry(MID)["bed_c"] > 0

    # Cancel: OctoPrint goes back to Operational; the job is cancelled and the machine idle.
    outcome = await service.run(Command("job.cancel", job_id, {}))
    assert outcome.ok, outcome
    await octoprint_state(octoprint_server, "Operational")
    await until(lambda: store.machines[MID].state == "idle", "the machine to be idle")
    assert store.jobs[job_id].status == "cancelled"
    assert store.machines[MID].job_id is None

    # Nothing to pause now: OctoPrint's 409 comes back as a Conflict with its own message.
    with pytest.raises(Conflict) as caught:
        await source.command(f"/v1/machines/{MID}/pause", {})
    assert caught.value.detail and "not" in caught.value.detail.lower()
    outcome = await service.run(Command("job.reroute", job_id, {"auto": True}))
    assert (outcome.outcome, outcome.code) == ("rejected", "not_supported")
    assert await asyncio.to_thread(octoprint_server.job_state) == "Operational"


async def test_a_printer_error_raises_an_alert_that_clears_on_reconnect(
    octoprint_server: OctoPrintServer, running_source: tuple[OctoPrintSource, Store]
) -> None:
    _, store = running_source
    status, body = await asyncio.to_thread(
        octoprint_server.request, "POST", "/api/printer/command", {"commands": ["!!DEBUG:mintemp_error"]}
    )
    assert status == 204, body
    try:
        await until(lambda: store.machines[MID].state == "fault", "the machine to fault")
        [alert] = store.alerts_for("machine", MID)
        assert (alert.state, alert.code) == ("active_unacked", "printer_error")
        assert store.machines[MID].fault_code == "printer_error"
    finally:
        await asyncio.to_thread(octoprint_server.connect)
    await until(lambda: store.machines[MID].state == "idle", "the machine to be idle after reconnecting")
    [alert] = store.alerts_for("machine", MID)
    assert alert.state == "cleared_unacked"


async def test_a_wrong_api_key_fails_the_source(octoprint_server: OctoPrintServer) -> None:
    store = Store()
    source = OctoPrintSource("octoprint:bad", "bad", octoprint_server.url, "NOT-THE-KEY", store)
    await asyncio.wait_for(source.run(), 15)
    assert store.source_state("octoprint:bad") == "failed"
    assert store.machines["OP-bad"].state == "offline"


# --- the push socket -------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running(server: OctoPrintServer, **options: Any) -> AsyncIterator[tuple[OctoPrintSource, Store]]:
    await asyncio.to_thread(server.wait_operational)
    store = Store()
    source = OctoPrintSource(SOURCE_ID, "virtual", server.url, server.api_key, store, **options)
    task = asyncio.create_task(source.run())
    try:
        yield source, store
    finally:
        source.stop()
        await asyncio.wait_for(task, 10)


async def no_print_left(server: OctoPrintServer) -> None:
    """Cancel a print a failed test left running, so the next test starts on an idle printer."""
    if await asyncio.to_thread(server.job_state) != "Operational":
        await asyncio.to_thread(server.request, "POST", "/api/job", {"command": "cancel"})
        await octoprint_state(server, "Operational")


async def set_nozzle_target(server: OctoPrintServer, celsius: float) -> None:
    body = {"command": "target", "targets": {"tool0": celsius}}
    status, answer = await asyncio.to_thread(server.request, "POST", "/api/printer/tool", body)
    assert status == 204, answer


def settled(store: Store, state: str) -> bool:
    machine = store.machines[MID]
    return machine.state == state and machine.state_reason is None


def target_is(store: Store, celsius: float) -> Callable[[], bool]:
    return lambda: store.machine_telemetry(MID).get("nozzle_target_c") == celsius


async def test_a_print_and_its_commands_arrive_by_push_without_polling(octoprint_server: OctoPrintServer) -> None:
    client = CountingClient()
    try:
        async with running(octoprint_server, http_client=client.http) as (source, store):
            await until(lambda: source.transport == "push", "the push socket")
            assert (
                store.sources[SOURCE_ID].reason == f"push ws://{urlsplit(octoprint_server.url).netloc}/sockjs/websocket"
            )
            assert store.machines[MID].state == "idle" and store.machines[MID].model.startswith("OctoPrint ")
            service = CommandService(lambda command: (SOURCE_ID, source.command_client), role=lambda: "operator")

            await asyncio.to_thread(octoprint_server.upload, "push-test.gcode", GCODE, start=True)
            job_id = await until(lambda: store.machines[MID].state == "running" and store.machines[MID].job_id, "run")
            first = store.jobs[job_id].progress
            await until(lambda: store.jobs[job_id].progress > first, "the progress to move on")

            # Each step waits for the settled state (the push shows "pausing" first, and OctoPrint ignores a resume
            # until it has paused).
            assert (await service.run(Command("job.pause", job_id, {"reason": "look"}))).ok
            await until(lambda: settled(store, "paused") and store.jobs[job_id].status == "paused", "the pause")
            assert (await service.run(Command("job.resume", job_id, {}))).ok
            await until(lambda: settled(store, "running"), "the print to resume")
            assert (await service.run(Command("job.cancel", job_id, {}))).ok
            await until(lambda: store.machines[MID].state == "idle", "the machine to be idle")
            assert store.jobs[job_id].status == "cancelled" and store.machines[MID].job_id is None

            assert client.polls == 0 and source.polls == 0, client.counts
            assert client.counts["POST /api/job"] == 3 and client.counts["POST /api/login"] == 1
            assert source.push.states > 0 and store.sources[SOURCE_ID].malformed_total == 0
    finally:
        await client.http.aclose()
        await no_print_left(octoprint_server)


async def test_polling_takes_over_while_the_socket_is_refused_or_dropped(octoprint_server: OctoPrintServer) -> None:
    relay = Relay(urlsplit(octoprint_server.url).port or 80)
    options = {
        "push_url": f"ws://127.0.0.1:{relay.port}/sockjs/websocket",
        "push_retry_base": 0.2,
        "push_retry_max": 0.4,
    }
    try:
        async with running(octoprint_server, **options) as (source, store):
            # Refused: nothing listens there. Polling feeds the store and says why.
            await until(lambda: source.transport == "poll", "polling")
            assert "push socket: cannot open the socket" in (store.sources[SOURCE_ID].reason or "")
            await set_nozzle_target(octoprint_server, 41.0)
            await until(target_is(store, 41.0), "a change seen by polling")

            # The socket comes: polling stops, changes arrive by push.
            await relay.start()
            await until(lambda: source.transport == "push", "the socket", within=10)
            polls = source.polls
            await set_nozzle_target(octoprint_server, 42.0)
            await until(target_is(store, 42.0), "a change seen by push")
            await asyncio.sleep(1.5)
            assert source.polls == polls

            # Dropped: polling again at once, then the socket again.
            await relay.stop()
            await until(lambda: source.transport == "poll", "polling after the drop", within=5)
            log = [line.message for line in store.sources[SOURCE_ID].log]
            assert any(line.startswith("push socket closed:") for line in log), log
            await set_nozzle_target(octoprint_server, 43.0)
            await until(target_is(store, 43.0), "a change seen by polling after the drop")
            await relay.start()
            await until(lambda: source.transport == "push", "the socket back", within=10)
            await set_nozzle_target(octoprint_server, 44.0)
            await until(target_is(store, 44.0), "a change by push after the drop")
    finally:
        await relay.stop()
        await set_nozzle_target(octoprint_server, 0.0)


async def test_a_socket_path_that_404s_means_polling(octoprint_server: OctoPrintServer) -> None:
    url = octoprint_server.url.replace("http://", "ws://")
    async with running(octoprint_server, push_url=f"{url}/sockjs/nothere", push_retry_base=0.2) as (source, store):
        await until(lambda: source.transport == "poll", "polling")
        assert store.sources[SOURCE_ID].reason == (
            f"polling {octoprint_server.url} (push socket: the socket was refused (HTTP 404))"
        )
        source.push_url = f"{url}/sockjs/websocket"
        await until(lambda: source.transport == "push", "the socket at the right path", within=10)
