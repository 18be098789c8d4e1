"""The OctoPrint source against a scripted OctoPrint: what it puts in the store, when, and how commands map.

These tests poll (``push=False`` where the loop runs: no socket is opened); the push socket has its own,
``test_octoprint_push.py``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console.api.errors import Conflict, ConnectionFailed, NotFound, Unprocessable
from console.sources.octoprint import SUPPORTED_ACTIONS, OctoPrintSource, machine_id_for, resolve_api_key
from console.store import Store
from tests.octoprint import fixtures
from tests.octoprint.fake_octoprint import FakeOctoPrint

MID = "OP-mk3"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def fake() -> FakeOctoPrint:
    return FakeOctoPrint()


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def source(fake: FakeOctoPrint, store: Store, clock: Clock) -> AsyncIterator[OctoPrintSource]:
    http = fake.client()
    src = OctoPrintSource(
        "octoprint:mk3", "mk3", "http://printer.local", "KEY", store, http_client=http, clock=clock, farm_size=3
    )
    yield src
    await http.aclose()


def events_of(store: Store, source_id: str = "octoprint:mk3") -> int:
    return store.sources[source_id].seq or 0


async def test_idle_printer_becomes_an_idle_machine_of_the_synthetic_node(
    source: OctoPrintSource, store: Store
) -> None:
    await source.poll_once()
    machine = store.machines[MID]
    assert machine.state == "idle" and machine.kind == "fdm_printer" and machine.node_id == "octoprint"
    assert machine.model == "OctoPrint 1.11.8"
    assert machine.envelope_mm == (200.0, 210.0, 200.0)
    assert machine.telemetry["nozzle_c"] == pytest.approx(214.8821)
    assert machine.telemetry["bed_target_c"] == 70.0
    assert machine.job_id is None and machine.progress is None
    node = store.nodes["octoprint"]
    assert (node.name, node.machine_count, node.state) == ("OctoPrint farm", 3, "online")
    assert store.source_state("octoprint:mk3") == "live"
    assert store.owner("machines", MID) == "octoprint:mk3"


async def test_a_key_without_the_profile_permission_still_works(
    source: OctoPrintSource, store: Store, fake: FakeOctoPrint
) -> None:
    fake.profiles_forbidden = True
    await source.poll_once()
    assert store.machines[MID].state == "idle" and store.machines[MID].envelope_mm == (0.0, 0.0, 0.0)


async def test_nothing_new_means_no_event(source: OctoPrintSource, store: Store) -> None:
    await source.poll_once()
    seq = events_of(store)
    await source.poll_once()
    assert events_of(store) == seq


async def test_a_temperature_change_is_a_telemetry_event_only(
    source: OctoPrintSource, store: Store, fake: FakeOctoPrint
) -> None:
    await source.poll_once()
    seq = events_of(store)
    before = store.machines[MID]
    temperature = fixtures.printer("Operational")["temperature"]
    temperature["bed"]["actual"] = 55.5
    fake.set("Operational", temperature=temperature)
    await source.poll_once()
    assert events_of(store) == seq + 1
    after = store.machines[MID]
    assert store.machine_telemetry(MID)["bed_c"] == 55.5 and after.state_since == before.state_since
    assert store.telemetry_series(MID, "bed_c")[-1] == 55.5


async def test_heartbeat_refreshes_last_seen(fake: FakeOctoPrint, store: Store, clock: Clock) -> None:
    async with fake.client() as http:
        src = OctoPrintSource("s", "mk3", "http://p", "KEY", store, http_client=http, clock=clock, heartbeat=0.0)
        await src.poll_once()
        clock.advance(30)
        await src.poll_once()
    assert store.machines[MID].last_seen == clock.now


async def test_a_print_is_a_job_through_pause_resume_and_cancel(
    source: OctoPrintSource, store: Store, fake: FakeOctoPrint, clock: Clock
) -> None:
    await source.poll_once()
    fake.set("Printing", fixtures.job("Printing", path="parts/bracket v2.gcode", completion=25.0, print_time=60))
    await source.poll_once()
    machine = store.machines[MID]
    assert machine.state == "running"
    job = store.jobs[machine.job_id or ""]
    assert job.id == "OP-mk3-20261125T115900-bracket_v2.gcode"  # the start: now - printTime
    assert (job.status, job.progress, job.part, job.design.file) == (
        "running",
        0.25,
        "bracket v2.gcode",
        "parts/bracket v2.gcode",
    )
    assert job.machine_id == MID and job.node_id == "octoprint"
    assert job.eta == clock.now + timedelta(seconds=912)
    assert machine.progress == 0.25
    assert store.jobs_for_machine(MID) == [job]

    fake.set("Pausing", fixtures.job("Pausing", path="parts/bracket v2.gcode", completion=26.0, print_time=61))
    await source.poll_once()
    assert store.machines[MID].state == "paused" and store.machines[MID].state_reason == "pausing"
    fake.set("Paused", fixtures.job("Paused", path="parts/bracket v2.gcode", completion=26.0, print_time=62))
    await source.poll_once()
    assert store.machines[MID].state == "paused" and store.jobs[job.id].status == "paused"

    fake.set("Printing", fixtures.job("Printing", path="parts/bracket v2.gcode", completion=30.0, print_time=70))
    await source.poll_once()
    assert store.jobs[job.id].status == "running" and store.jobs[job.id].progress == 0.3
    assert store.machines[MID].job_id == job.id  # the same job, not a new one

    fake.set("Cancelling", fixtures.job("Cancelling", path="parts/bracket v2.gcode", completion=30.0))
    await source.poll_once()
    assert store.machines[MID].state == "running" and store.machines[MID].state_reason == "cancelling"
    fake.set("Operational", fixtures.job("Operational", path="parts/bracket v2.gcode", completion=None, left=None))
    await source.poll_once()
    machine = store.machines[MID]
    assert machine.state == "idle" and machine.job_id is None and machine.progress is None
    assert store.jobs[job.id].status == "cancelled" and store.jobs[job.id].eta is None


async def test_a_cancel_no_poll_saw_is_still_a_cancel(
    source: OctoPrintSource, store: Store, fake: FakeOctoPrint
) -> None:
    fake.set("Printing", fixtures.job("Printing", completion=40.0))
    await source.poll_once()
    job_id = store.machines[MID].job_id or ""
    fake.set("Operational", fixtures.job("Operational", completion=None, print_time=None, left=None))
    await source.poll_once()
    assert store.jobs[job_id].status == "cancelled"


async def test_a_finished_print_is_completed_and_the_next_print_replaces_it(
    source: OctoPrintSource, store: Store, fake: FakeOctoPrint, clock: Clock
) -> None:
    fake.set("Printing", fixtures.job("Printing", completion=99.0))
    await source.poll_once()
    first = store.machines[MID].job_id or ""
    fake.set("Operational", fixtures.job("Operational", completion=100.0, left=0))
    await source.poll_once()
    assert store.jobs[first].status == "completed" and store.jobs[first].done_qty == 1
    assert store.jobs[first].progress == 1.0

    clock.advance(600)
    fake.set("Printing", fixtures.job("Printing", completion=1.0, print_time=5))
    await source.poll_once()
    second = store.machines[MID].job_id or ""
    assert second != first and store.jobs[second].status == "running"
    assert first not in store.jobs  # one finished job is kept per printer, until the next print


async def test_a_printer_error_faults_the_machine_fails_the_job_and_raises_an_alert(
    source: OctoPrintSource, store: Store, fake: FakeOctoPrint
) -> None:
    fake.set("Printing", fixtures.job("Printing"))
    await source.poll_once()
    job_id = store.machines[MID].job_id or ""
    fake.set("Error", fixtures.job("Error: MINTEMP triggered!", completion=None))
    await source.poll_once()
    machine = store.machines[MID]
    assert (machine.state, machine.fault_code, machine.state_reason) == ("fault", "printer_error", "MINTEMP triggered!")
    assert store.jobs[job_id].status == "failed"
    [alert] = store.alerts_for("machine", MID)
    assert (alert.state, alert.priority, alert.code, alert.message) == (
        "active_unacked",
        "high",
        "printer_error",
        "MINTEMP triggered!",
    )

    # The port closes after the error: /api/printer answers 409, /api/job still says why.
    fake.printer = None
    fake.job = fixtures.job("Offline after error", completion=None)
    await source.poll_once()
    assert store.machines[MID].state == "fault"
    assert store.alerts_for("machine", MID)[0].message == "Offline after error"

    fake.set("Operational", fixtures.JOB_NONE)
    await source.poll_once()
    assert store.machines[MID].state == "idle"
    [alert] = store.alerts_for("machine", MID)
    assert alert.state == "cleared_unacked" and alert.count == 1

    # The same error again before anyone acknowledged: the alert counts up.
    fake.set("Error", fixtures.JOB_NONE)
    await source.poll_once()
    [again] = store.alerts_for("machine", MID)
    assert (again.id, again.state, again.count) == (alert.id, "active_unacked", 2)

    # Acknowledged in the console (OctoPrint has no alarms), then cleared: resolved and gone.
    # The acknowledgement reaches the store through the next poll's events, like every effect of a command.
    await source.command(f"/v1/alerts/{again.id}/ack", {"note": "reseated thermistor"})
    assert store.alerts[again.id].state == "active_unacked"
    await source.poll_once()
    acked = store.alerts[again.id]
    assert (acked.state, acked.ack_note) == ("active_acked", "reseated thermistor")
    fake.set("Operational", fixtures.JOB_NONE)
    await source.poll_once()
    assert store.alerts_for("machine", MID) == []


async def test_commands_map_to_the_job_endpoint(source: OctoPrintSource, store: Store, fake: FakeOctoPrint) -> None:
    fake.set("Printing", fixtures.job("Printing"))
    await source.poll_once()
    job_id = store.machines[MID].job_id or ""
    for path in (
        f"/v1/jobs/{job_id}/pause",
        f"/v1/jobs/{job_id}/resume",
        f"/v1/machines/{MID}/pause",
        f"/v1/machines/{MID}/resume",
        f"/v1/jobs/{job_id}/cancel",
    ):
        result = await source.command(path, {"reason": "test"})
        assert result.status == "applied" and result.command_id
    assert fake.job_commands == [
        {"command": "pause", "action": "pause"},
        {"command": "pause", "action": "resume"},
        {"command": "pause", "action": "pause"},
        {"command": "pause", "action": "resume"},
        {"command": "cancel"},
    ]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"/v1/machines/{MID}/ready", {}),
        ("/v1/nodes/octoprint/pause", {}),
        ("/v1/jobs/J/reroute", {"auto": True}),
        ("/v1/alerts/A/shelve", {}),
        (f"/v1/machines/{MID}/pause", {"mode": "after_job"}),
        ("/v2/whatever", {}),
    ],
)
async def test_what_octoprint_cannot_do_is_refused(
    source: OctoPrintSource, fake: FakeOctoPrint, path: str, body: dict[str, Any]
) -> None:
    with pytest.raises(Unprocessable) as caught:
        await source.command(path, body, "key-1")
    assert caught.value.code == "not_supported" and caught.value.status == 422
    assert fake.job_commands == []


async def test_other_targets_are_not_found(source: OctoPrintSource, fake: FakeOctoPrint, store: Store) -> None:
    await source.poll_once()
    with pytest.raises(NotFound):
        await source.command("/v1/machines/OP-other/pause", {})
    with pytest.raises(NotFound):
        await source.command("/v1/jobs/OP-mk3-nope/cancel", {})
    assert fake.job_commands == []


async def test_a_finished_job_cannot_be_commanded(source: OctoPrintSource, fake: FakeOctoPrint, store: Store) -> None:
    fake.set("Printing", fixtures.job("Printing"))
    await source.poll_once()
    job_id = store.machines[MID].job_id or ""
    fake.set("Operational", fixtures.job("Operational", completion=None))
    await source.poll_once()
    with pytest.raises(Conflict) as caught:
        await source.command(f"/v1/jobs/{job_id}/pause", {})
    assert caught.value.code == "job_finished"


async def test_octoprint_409_is_a_conflict_with_its_message(source: OctoPrintSource, fake: FakeOctoPrint) -> None:
    fake.job_command_status = 409
    fake.job_command_error = "Printer is neither printing nor paused, 'cancel' command cannot be performed"
    with pytest.raises(Conflict) as caught:
        await source.command(f"/v1/machines/{MID}/pause", {})
    assert caught.value.detail == fake.job_command_error
    assert caught.value.code == "invalid_state"


async def test_a_repeated_idempotency_key_does_not_act_twice(source: OctoPrintSource, fake: FakeOctoPrint) -> None:
    first = await source.command(f"/v1/machines/{MID}/pause", {}, "same-key")
    again = await source.command(f"/v1/machines/{MID}/pause", {}, "same-key")
    assert again == first and len(fake.job_commands) == 1
    both = await asyncio.gather(
        source.command(f"/v1/machines/{MID}/resume", {}, "k2"), source.command(f"/v1/machines/{MID}/resume", {}, "k2")
    )
    assert both[0] == both[1] and len(fake.job_commands) == 2
    # A refusal is an answer too: the same key gets the same refusal, without asking OctoPrint again.
    fake.job_command_status = 409
    for _ in range(2):
        with pytest.raises(Conflict):
            await source.command(f"/v1/machines/{MID}/pause", {}, "k3")
    assert len(fake.job_commands) == 3


async def test_a_command_to_an_unreachable_printer_was_not_sent(source: OctoPrintSource, fake: FakeOctoPrint) -> None:
    fake.down = True
    with pytest.raises(ConnectionFailed):
        await source.command(f"/v1/machines/{MID}/pause", {}, "k")
    fake.down = False
    await source.command(f"/v1/machines/{MID}/pause", {}, "k")  # not cached: nothing happened the first time
    assert len(fake.job_commands) == 1


async def test_unreachable_printer_goes_offline_and_the_source_retries(fake: FakeOctoPrint, store: Store) -> None:
    fake.down = True
    async with fake.client() as http:
        src = OctoPrintSource("s", "mk3", "http://p", "KEY", store, http_client=http, push=False)
        task = asyncio.create_task(src.run())
        for _ in range(100):
            await asyncio.sleep(0.01)
            if store.source_state("s") == "reconnecting":
                break
        assert store.source_state("s") == "reconnecting"
        status = store.sources["s"]
        assert status.retry_at is not None and "cannot reach http://p" in (status.reason or "")
        machine = store.machines[MID]
        assert machine.state == "offline" and "unreachable" in (machine.state_reason or "")
        src.stop()
        await asyncio.wait_for(task, 5)
    assert store.source_state("s") == "stopped"


async def test_a_refused_api_key_fails_the_source(fake: FakeOctoPrint, store: Store) -> None:
    async with fake.client() as http:
        src = OctoPrintSource("s", "mk3", "http://p", "WRONG", store, http_client=http)
        await asyncio.wait_for(src.run(), 5)  # returns: retrying a wrong key is pointless
    assert store.source_state("s") == "failed"
    assert store.machines[MID].state_reason == "OctoPrint refused the API key"
    assert "WRONG" not in " ".join(line.message for line in store.sources["s"].log)


async def test_the_loop_polls_and_goes_live(fake: FakeOctoPrint, store: Store) -> None:
    async with fake.client() as http:
        src = OctoPrintSource("s", "mk3", "http://p", "KEY", store, http_client=http, poll_interval=0.01, push=False)
        assert src.poll_interval == 1.0  # never faster than once a second
        task = asyncio.create_task(src.run())
        for _ in range(200):
            await asyncio.sleep(0.01)
            if store.source_state("s") == "live":
                break
        assert store.source_state("s") == "live" and store.machines[MID].state == "idle"
        src.stop()
        await asyncio.wait_for(task, 5)
    polls = [r for r in fake.requests if r == ("GET", "/api/printer")]
    assert len(polls) == 1


async def test_a_store_reset_is_recovered_by_a_new_snapshot(
    source: OctoPrintSource, store: Store, fake: FakeOctoPrint
) -> None:
    fake.set("Printing", fixtures.job("Printing"))
    await source.poll_once()
    store.forget_source("octoprint:mk3")
    assert MID not in store.machines
    await source.poll_once()
    assert store.machines[MID].state == "running" and store.machines[MID].job_id in store.jobs


async def test_several_printers_share_one_node_without_churn(fake: FakeOctoPrint, store: Store) -> None:
    async with fake.client() as http:
        a = OctoPrintSource("op:a", "a", "http://a", "KEY", store, http_client=http, farm_size=2)
        b = OctoPrintSource("op:b", "b", "http://b", "KEY", store, http_client=http, farm_size=2)
        await a.poll_once()
        node = store.nodes["octoprint"]
        store.take_changes()
        await b.poll_once()
        assert store.nodes["octoprint"] == node
        assert "octoprint" not in store.take_changes().nodes
    assert {m.id for m in store.machines_by_node("octoprint")} == {"OP-a", "OP-b"}


def test_ids_and_keys() -> None:
    assert machine_id_for("mk3") == "OP-mk3"
    assert {"job.pause", "job.resume", "job.cancel", "machine.pause", "machine.resume"} == SUPPORTED_ACTIONS
    assert resolve_api_key("a", {"a": "K1"}, {"OCTOPRINT_API_KEY": "K0"}) == "K1"
    assert resolve_api_key("b", {"a": "K1"}, {"OCTOPRINT_API_KEY": "K0"}) == "K0"
    assert resolve_api_key("b", None, {}) is None
    with pytest.raises(ValueError):
        OctoPrintSource("s", "bad name", "http://p", None, Store())


async def test_a_command_brings_the_next_poll_forward(fake: FakeOctoPrint, store: Store) -> None:
    async with fake.client() as http:
        src = OctoPrintSource("s", "mk3", "http://p", "KEY", store, http_client=http, poll_interval=60.0, push=False)
        task = asyncio.create_task(src.run())
        try:
            for _ in range(200):
                await asyncio.sleep(0.01)
                if store.source_state("s") == "live":
                    break
            await src.command(f"/v1/machines/{MID}/pause", {})
            for _ in range(500):  # one second after the last poll, not sixty
                await asyncio.sleep(0.01)
                if fake.requests.count(("GET", "/api/printer")) == 2:
                    break
            assert fake.requests.count(("GET", "/api/printer")) == 2
        finally:
            src.stop()
            await asyncio.wait_for(task, 5)
