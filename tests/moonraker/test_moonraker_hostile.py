"""The Moonraker source against a scripted, hostile peer on loopback: whatever arrives is counted malformed and
skipped, and the source goes on (a message over the size cap ends that connection; the source reconnects)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.moonraker.helpers import MID, SOURCE_ID, running, until

READY = {
    "server.connection.identify": {"connection_id": 1},
    "server.info": {"klippy_connected": True, "klippy_state": "ready"},
    "printer.info": {"state": "ready", "state_message": "Printer is ready", "software_version": "v0.12.0"},
    "printer.objects.subscribe": {
        "eventtime": 1.0,
        "status": {"print_stats": {"state": "standby", "filename": ""}, "extruder": {"temperature": 20.0, "target": 0}},
    },
    "server.job_queue.status": {"queued_jobs": [], "queue_state": "ready"},
}

HOSTILE: list[str | bytes] = [
    "not json at all {",
    "[1, 2, 3]",
    '"a string"',
    '{"jsonrpc": "2.0", "method": 42}',
    '{"jsonrpc": "2.0", "method": "notify_status_update", "params": "not a list"}',
    '{"jsonrpc": "2.0", "method": "notify_status_update", "params": [{"extruder": "hot"}, 1.0]}',
    '{"jsonrpc": "2.0", "method": "notify_job_queue_changed", "params": [{"updated_queue": {"a": 1}}]}',
    '{"jsonrpc": "2.0", "method": "notify_history_changed", "params": [[]]}',
    '{"jsonrpc": "2.0", "result": "an answer to nothing"}',
    b"\xff\xfe\x00binary",
    '{"jsonrpc": "2.0", "id": 999, "result": {}}',  # an answer after its time: ignored, not malformed
    '{"jsonrpc": "2.0", "method": "notify_unknown_thing", "params": [1]}',  # unknown: ignored
]
MALFORMED = 10


class Peer:
    """A scripted Moonraker: answers what the source asks at the start, then sends what a test queues."""

    def __init__(self) -> None:
        self.outbox: asyncio.Queue[str | bytes] = asyncio.Queue()
        self.connections = 0

    async def serve(self, ws: ServerConnection) -> None:
        self.connections += 1
        sender = asyncio.create_task(self._send(ws))
        try:
            async for frame in ws:
                message: dict[str, Any] = json.loads(frame)
                result = READY.get(message["method"], {})
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}))
        finally:
            sender.cancel()

    async def _send(self, ws: ServerConnection) -> None:
        while True:
            await ws.send(await self.outbox.get())


@pytest.fixture
async def peer() -> AsyncIterator[tuple[Peer, str]]:
    script = Peer()
    async with serve(script.serve, "127.0.0.1", 0, max_size=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield script, f"http://127.0.0.1:{port}"


async def test_hostile_messages_are_counted_and_the_source_goes_on(peer: tuple[Peer, str]) -> None:
    script, url = peer
    async with running(url, max_message_bytes=64 * 1024) as (source, store):
        assert store.machines[MID].state == "idle"
        for frame in HOSTILE:
            script.outbox.put_nowait(frame)
        good = {"jsonrpc": "2.0", "method": "notify_status_update", "params": [{"extruder": {"target": 215.0}}, 2.0]}
        script.outbox.put_nowait(json.dumps(good))
        await until(lambda: store.machine_telemetry(MID).get("nozzle_target_c") == 215.0, "the good update")
        status = store.sources[SOURCE_ID]
        assert status.malformed_total == MALFORMED
        assert status.state == "live" and source.connections == 1
        assert all("\n" not in record.excerpt for record in status.malformed)

        # A message over the cap: websockets refuses it and ends the connection; counted, and the source reconnects.
        script.outbox.put_nowait("x" * (65 * 1024))
        await until(lambda: source.connections == 2 and store.source_state(SOURCE_ID) == "live", "reconnected")
        assert store.sources[SOURCE_ID].malformed_total == MALFORMED + 1


async def test_a_silent_connection_is_shown_stale(peer: tuple[Peer, str]) -> None:
    _, url = peer
    async with running(url, stale_after=0.4) as (_, store):
        await until(lambda: store.source_state(SOURCE_ID) == "stale", "stale")
        assert store.machines[MID].state == "idle"
