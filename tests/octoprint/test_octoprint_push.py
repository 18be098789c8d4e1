"""The OctoPrint source on a scripted push socket: what a frame means, the same objects as polling, fallback and back.

The real socket (OctoPrint 1.11 and its virtual printer) is tested in ``test_octoprint_live.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from console.sources.octoprint import OctoPrintSource
from console.sources.octoprint.push_socket import (
    Connected,
    Ignored,
    Malformed,
    PrinterEvent,
    PushClosed,
    PushedState,
    PushUnavailable,
    ReauthRequired,
    open_websocket,
    parse_message,
    socket_url,
)
from console.store import Store
from tests.octoprint import fixtures
from tests.octoprint.fake_octoprint import FakeOctoPrint
from tests.octoprint.octoprint_server import free_port
from tests.octoprint.test_octoprint_source import MID, Clock

SID = "octoprint:mk3"


async def until(predicate: Callable[[], Any], what: str, within: float = 3.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while not (value := predicate()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.005)
    return value


def polls(fake: FakeOctoPrint) -> int:
    return fake.requests.count(("GET", "/api/printer"))


def current(fake: FakeOctoPrint, state: str, job: dict[str, Any] | None = None) -> None:
    """OctoPrint changes state and pushes it."""
    fake.set(state, job)
    fake.push_current()


@pytest.fixture
def fake() -> FakeOctoPrint:
    fake = FakeOctoPrint()
    fake.login_enabled = True
    return fake


@pytest.fixture
async def pushing(fake: FakeOctoPrint) -> AsyncIterator[tuple[OctoPrintSource, Store]]:
    store = Store()
    async with fake.client() as http:
        source = OctoPrintSource(
            SID,
            "mk3",
            "http://printer.local",
            "KEY",
            store,
            http_client=http,
            clock=Clock(),
            push_opener=fake.open_socket,
            push_retry_base=0.05,
            push_retry_max=0.1,
        )
        task = asyncio.create_task(source.run())
        try:
            await until(lambda: source.transport == "push", "the push socket to feed the store")
            yield source, store
        finally:
            source.stop()
            await asyncio.wait_for(task, 5)
    assert store.source_state(SID) == "stopped" and fake.socket.closed


# --- frames -----------------------------------------------------------------------------------------------------


def test_socket_url_keeps_a_path_prefix_and_the_scheme() -> None:
    assert socket_url("http://10.0.4.21") == "ws://10.0.4.21/sockjs/websocket"
    assert socket_url("https://farm.example/ender/") == "wss://farm.example/ender/sockjs/websocket"


def test_a_pushed_state_is_the_two_rest_answers() -> None:
    fake = FakeOctoPrint()
    fake.set("Printing", fixtures.job("Printing", completion=25.0))
    message = parse_message(json.dumps({"current": fake.current_payload()}))
    assert isinstance(message, PushedState)
    assert message.printer is not None and message.printer["state"]["text"] == "Printing"
    assert message.printer["temperature"]["tool0"]["actual"] == pytest.approx(214.8821)
    assert message.job == {"job": fake.job["job"], "progress": fake.job["progress"], "state": "Printing"}

    fake.set("Error", fixtures.job("Error", completion=None))
    message = parse_message(json.dumps({"history": fake.current_payload()}))
    assert isinstance(message, PushedState)
    assert message.printer is None  # not operational: OctoPrint's /api/printer would answer 409
    assert (message.job["state"], message.job["error"]) == ("Error", "MINTEMP triggered!")


@pytest.mark.parametrize(
    "frame",
    [
        "{",
        "[1, 2]",
        '{"current": {}, "event": {}}',
        b"\x00\x01",
        '{"current": 5}',
        '{"current": {"state": {"text": "Printing"}}}',
        '{"current": {"state": {"text": 7, "flags": {}}}}',
        '{"current": {"state": {"text": "x", "flags": {}}, "temps": 5}}',
        '{"current": {"state": {"text": "x", "flags": {}}, "job": "file"}}',
        '{"event": {"payload": {}}}',
        '{"event": {"type": "PrintDone", "payload": 3}}',
        '{"connected": []}',
        "[" * 100_000,
        '{"current": ' + "1" * 5000 + "}",
    ],
)
def test_what_octoprint_does_not_send_is_malformed(frame: str | bytes) -> None:
    message = parse_message(frame)
    assert isinstance(message, Malformed)
    assert len(message.excerpt) <= 160 and message.excerpt.isprintable()


def test_other_messages() -> None:
    assert parse_message('{"connected": {"version": "1.11.8"}}') == Connected("1.11.8")
    assert parse_message('{"reauthRequired": {"reason": "stale"}}') == ReauthRequired("stale")
    assert parse_message('{"event": {"type": "PrintDone", "payload": {"name": "a"}}}') == PrinterEvent("PrintDone")
    assert parse_message('{"plugin": {"plugin": "x", "data": 1}}') == Ignored("plugin")
    assert parse_message('{"timelapse": null}') == Ignored("timelapse")
    assert parse_message('{"somethingNew": {}}') == Ignored("somethingNew")


# --- the source on the socket -----------------------------------------------------------------------------------


async def test_push_feeds_the_store_and_nothing_is_polled(
    pushing: tuple[OctoPrintSource, Store], fake: FakeOctoPrint
) -> None:
    source, store = pushing
    status = store.sources[SID]
    assert status.state == "live" and status.reason == "push ws://printer.local/sockjs/websocket"
    assert [next(iter(m)) for m in fake.socket.sent] == ["subscribe", "throttle", "auth"]
    assert fake.socket.sent[2] == {"auth": "admin:S1"}
    assert "PrintDone" in fake.socket.sent[0]["subscribe"]["events"]
    assert store.machines[MID].state == "idle" and store.machines[MID].model == "OctoPrint 1.11.8"

    current(fake, "Printing", fixtures.job("Printing", completion=25.0))
    await until(lambda: store.machines[MID].state == "running", "the print to show")
    assert store.jobs[store.machines[MID].job_id or ""].progress == 0.25
    current(fake, "Paused", fixtures.job("Paused", completion=25.0))
    await until(lambda: store.machines[MID].state == "paused", "the pause to show")
    assert polls(fake) == 0 and source.polls == 0
    assert ("POST", "/api/login") in fake.requests


async def test_the_store_sees_the_same_objects_whichever_transport(fake: FakeOctoPrint) -> None:
    fake.strict = True  # /api/printer answers 409 while not operational, as OctoPrint does
    clock = Clock()
    polled, pushed = Store(), Store()
    async with fake.client() as http:
        poller = OctoPrintSource(SID, "mk3", "http://p", "KEY", polled, http_client=http, clock=clock, push=False)
        pusher = OctoPrintSource(
            SID, "mk3", "http://p", "KEY", pushed, http_client=http, clock=clock, push_opener=fake.open_socket
        )
        pusher.push.min_interval = 0.0  # every pushed state, as every poll
        await poller.poll_once()
        task = asyncio.create_task(pusher.run())
        try:
            await until(lambda: pusher.transport == "push", "push")
            steps = [
                ("Printing", fixtures.job("Printing", path="a.gcode", completion=25.0, print_time=60)),
                ("Printing", fixtures.job("Printing", path="a.gcode", completion=26.0, print_time=70)),
                ("Pausing", fixtures.job("Pausing", path="a.gcode", completion=26.0, print_time=71)),
                ("Paused", fixtures.job("Paused", path="a.gcode", completion=26.0, print_time=72)),
                ("Printing", fixtures.job("Printing", path="a.gcode", completion=30.0, print_time=80)),
                ("Cancelling", fixtures.job("Cancelling", path="a.gcode", completion=30.0)),
                ("Operational", fixtures.job("Operational", path="a.gcode", completion=None, left=None)),
                ("Printing", fixtures.job("Printing", path="b.gcode", completion=99.0, print_time=600)),
                ("Operational", fixtures.job("Operational", path="b.gcode", completion=100.0, left=0)),
                ("Error", fixtures.job("Error", path="b.gcode", completion=None, error="MINTEMP triggered!")),
                ("Offline", fixtures.job("Offline", path="b.gcode", completion=None)),
                ("Operational", fixtures.job("Operational", path="b.gcode", completion=None)),
            ]
            for state, job in steps:
                clock.advance(10)
                fake.set(state, job)
                await poller.poll_once()
                fake.push_current()
                await until(lambda: pushed.sources[SID].seq == polled.sources[SID].seq, f"the push of {state}")
                assert pushed.machines[MID] == polled.machines[MID], state
                assert pushed.jobs == polled.jobs and pushed.alerts == polled.alerts, state
        finally:
            pusher.stop()
            await asyncio.wait_for(task, 5)
    assert polled.sources[SID].seq == pushed.sources[SID].seq > len(steps)
    assert {j.status for j in pushed.jobs.values()} == {"completed"}
    assert [a.state for a in pushed.alerts.values()] == ["cleared_unacked"]


async def test_progress_is_held_to_the_poll_pace_but_a_state_change_goes_at_once(
    pushing: tuple[OctoPrintSource, Store], fake: FakeOctoPrint
) -> None:
    source, store = pushing
    source.push.min_interval = 0.5
    current(fake, "Printing", fixtures.job("Printing", completion=10.0))
    job_id = await until(lambda: store.machines[MID].job_id, "the print")
    current(fake, "Printing", fixtures.job("Printing", completion=11.0))
    await asyncio.sleep(0.05)
    assert store.jobs[job_id].progress == 0.1  # held back: OctoPrint pushes twice a second, the console takes one
    await until(lambda: store.jobs[job_id].progress == 0.11, "the held-back progress", within=1.0)
    current(fake, "Printing", fixtures.job("Printing", completion=12.0))
    current(fake, "Paused", fixtures.job("Paused", completion=12.0))
    await until(lambda: store.machines[MID].state == "paused", "the pause", within=0.2)  # at once
    assert store.jobs[job_id].progress == 0.12


async def test_malformed_frames_are_counted_and_the_stream_goes_on(
    pushing: tuple[OctoPrintSource, Store], fake: FakeOctoPrint
) -> None:
    source, store = pushing
    for frame in ["not json \x1b[31m", b"\xff", '{"current": {"state": 1}}', "[]", '{"event": {}}']:
        fake.socket.frame(frame)
    fake.socket.frame({"plugin": {"plugin": "pi_support", "data": {}}})
    current(fake, "Printing", fixtures.job("Printing"))
    await until(lambda: store.machines[MID].state == "running", "the state after the bad frames")
    status = store.sources[SID]
    assert status.malformed_total == 5 and source.push.ignored == 1
    assert all(record.excerpt.isprintable() for record in status.malformed)
    assert source.transport == "push" and status.state == "live"


async def test_a_dropped_socket_falls_back_to_polling_and_push_returns(
    pushing: tuple[OctoPrintSource, Store], fake: FakeOctoPrint
) -> None:
    source, store = pushing
    fake.socket_refused = True
    fake.socket.drop("a message over 1024 KiB", oversized=True)  # the socket ends, and it counts as malformed
    await until(lambda: source.transport == "poll", "polling")
    status = store.sources[SID]
    assert status.state == "live" and status.malformed_total == 1
    assert status.reason == "polling http://printer.local (push socket: a message over 1024 KiB)"
    log = [line.message for line in status.log]
    assert any(m.startswith("push socket closed: a message over 1024 KiB; polling") for m in log)

    current_job = fixtures.job("Printing", completion=5.0)
    fake.set("Printing", current_job)
    await until(lambda: store.machines[MID].state == "running", "a change seen by polling")
    await until(
        lambda: any(
            "push socket unavailable: the socket was refused (HTTP 404)" in line.message
            for line in store.sources[SID].log
        ),
        "a refused retry",
    )
    fake.socket_refused = False
    await until(lambda: source.transport == "push", "the socket to be back", within=5.0)
    assert store.sources[SID].reason == "push ws://printer.local/sockjs/websocket"
    seen = polls(fake)
    await asyncio.sleep(1.2)
    assert polls(fake) == seen  # polling stopped
    current(fake, "Paused", fixtures.job("Paused", completion=5.0))
    await until(lambda: store.machines[MID].state == "paused", "a change by push again")


async def test_a_refused_socket_means_polling_from_the_start(fake: FakeOctoPrint) -> None:
    fake.socket_refused = True
    store = Store()
    async with fake.client() as http:
        source = OctoPrintSource(SID, "mk3", "http://p", "KEY", store, http_client=http, push_opener=fake.open_socket)
        task = asyncio.create_task(source.run())
        try:
            await until(lambda: source.transport == "poll", "polling")
            assert store.sources[SID].reason == "polling http://p (push socket: the socket was refused (HTTP 404))"
            assert store.machines[MID].state == "idle"
        finally:
            source.stop()
            await asyncio.wait_for(task, 5)


async def test_without_a_state_on_the_socket_the_source_polls(fake: FakeOctoPrint) -> None:
    fake.status = False  # the key's user may not see the state: OctoPrint says nothing after the login
    store = Store()
    async with fake.client() as http:
        source = OctoPrintSource(SID, "mk3", "http://p", "KEY", store, http_client=http, push_opener=fake.open_socket)
        source.push.first_state_timeout = 0.1
        task = asyncio.create_task(source.run())
        try:
            await until(lambda: source.transport == "poll", "polling")
            assert "no printer state within" in (store.sources[SID].reason or "")
        finally:
            source.stop()
            await asyncio.wait_for(task, 5)


async def test_reauth_required_logs_in_again_on_the_same_socket(
    pushing: tuple[OctoPrintSource, Store], fake: FakeOctoPrint
) -> None:
    source, store = pushing
    source.push.reauth_every = 0.2
    await asyncio.sleep(0.2)
    fake.session = "S2"
    fake.socket.frame({"reauthRequired": {"reason": "stale"}})
    await until(lambda: {"auth": "admin:S2"} in fake.socket.sent, "a new auth")
    assert len(fake.sockets) == 1 and fake.requests.count(("POST", "/api/login")) == 2
    current(fake, "Printing", fixtures.job("Printing"))
    await until(lambda: store.machines[MID].state == "running", "the state after the new login")
    assert source.transport == "push"

    # Asked again at once: no login storm, the socket is given up (polling until the next try).
    fake.socket_refused = True
    fake.socket.frame({"reauthRequired": {"reason": "modified"}})
    await until(lambda: source.transport == "poll", "polling")
    assert "push socket: OctoPrint refused the socket's session (modified)" in (store.sources[SID].reason or "")
    assert fake.requests.count(("POST", "/api/login")) == 2


async def test_a_cancel_event_makes_the_ending_print_cancelled(
    pushing: tuple[OctoPrintSource, Store], fake: FakeOctoPrint
) -> None:
    _, store = pushing
    current(fake, "Printing", fixtures.job("Printing", completion=99.9))
    job_id = await until(lambda: store.machines[MID].job_id, "the print")
    fake.socket.frame({"event": {"type": "PrintCancelled", "payload": {"name": "whistle_v2.gcode"}}})
    current(fake, "Operational", fixtures.job("Operational", completion=100.0, left=0))
    await until(lambda: store.jobs[job_id].status != "running", "the end of the print")
    assert store.jobs[job_id].status == "cancelled"


async def test_an_acknowledgement_goes_out_without_a_poll(
    pushing: tuple[OctoPrintSource, Store], fake: FakeOctoPrint
) -> None:
    source, store = pushing
    current(fake, "Error", fixtures.job("Error", completion=None, error="MINTEMP triggered!"))
    [alert] = await until(lambda: store.alerts_for("machine", MID), "the alert")
    await source.command(f"/v1/alerts/{alert.id}/ack", {"note": "on it"})
    await until(lambda: store.alerts[alert.id].state == "active_acked", "the acknowledgement")
    assert polls(fake) == 0


async def test_the_websocket_refusals_caps_and_closes() -> None:
    """The real websocket client (``open_websocket``) against a small websocket server."""
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.http11 import Request, Response

    async def handler(connection: ServerConnection) -> None:
        if await connection.recv() == "big":
            await connection.send("x" * 2048)
        else:
            await connection.close(1001, "going away\x1b[2J")

    def only_the_socket_path(connection: ServerConnection, request: Request) -> Response | None:
        return None if request.path == "/sockjs/websocket" else connection.respond(404, "Not found\n")

    async with serve(handler, "127.0.0.1", 0, process_request=only_the_socket_path) as server:
        base = f"ws://127.0.0.1:{next(iter(server.sockets)).getsockname()[1]}"
        with pytest.raises(PushUnavailable, match=r"the socket was refused \(HTTP 404\)"):
            await open_websocket(f"{base}/sockjs/nothere")
        connection = await open_websocket(f"{base}/sockjs/websocket", max_bytes=1024)
        await connection.send("big")
        with pytest.raises(PushClosed) as caught:
            await connection.recv()
        assert caught.value.oversized and str(caught.value) == "a message over 1 KiB"
        await connection.close()
        connection = await open_websocket(f"{base}/sockjs/websocket")
        await connection.send("bye")
        with pytest.raises(PushClosed) as caught:
            await connection.recv()
        assert not caught.value.oversized and str(caught.value).startswith("closed (1001: going away")
        assert str(caught.value).isprintable()
        await connection.close()
    with pytest.raises(PushUnavailable, match="cannot open the socket: ConnectionRefusedError"):
        await open_websocket(f"ws://127.0.0.1:{free_port()}/sockjs/websocket")
