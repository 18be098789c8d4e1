"""The bootstrap cannot lose the race: the stream is opened before the snapshot and buffered while it loads.

Against the real simulator with a 50-event history, the clock is stepped far past that history while the snapshot is
being fetched (before the server builds it and after, while it "travels"): the classic order (snapshot, then events
after its seq) would get ``reset`` forever; this one must converge with every seq once, no snapshot but the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from console.api.client import ClusterClient
from console.api.models import Event, EventType
from console.sources.cluster import ClusterSource
from console.store import ApplyOutcome, SourceState
from tests.demo_server import test_config
from tests.sources.test_cluster_source_live import (
    BUSY,
    RecordingStore,
    assert_matches_fresh_snapshot,
    caught_up,
    feed_seq,
    wait_for,
)

HISTORY = 50


class StepWhileSnapshotLoads(httpx.AsyncHTTPTransport):
    """A real transport that, for the first ``times`` snapshots, steps the server's clock ``before`` times before
    forwarding the request and ``after`` times once the body is in (each step about 1 simulated second, fewer events
    than the history, with a pause so the server can stream them)."""

    def __init__(self, server: Any, *, before: int, after: int, times: int = 1) -> None:
        super().__init__()
        self.server = server
        self.before, self.after, self.times = before, after, times
        self.seqs: list[tuple[int, int, int]] = []
        """(feed seq when asked, when the body was in, when handed to the client) per stepped snapshot."""

    async def _steps(self, count: int) -> None:
        for _ in range(count):
            self.server.advance(1.0)
            await asyncio.sleep(0.01)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/snapshot" or self.times <= 0:
            return await super().handle_async_request(request)
        self.times -= 1
        asked = feed_seq(self.server)
        await self._steps(self.before)
        response = await super().handle_async_request(request)
        body = await response.aread()
        served = feed_seq(self.server)
        await self._steps(self.after)
        self.seqs.append((asked, served, feed_seq(self.server)))
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-encoding", "content-length")}
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)


async def run_source(url: str, store: RecordingStore, transport: httpx.AsyncBaseTransport, **kw: Any) -> Any:
    client = ClusterClient(url, transport=transport)
    source = ClusterSource("c", client, store, backoff_base=0.01, backoff_max=0.05, **kw)
    return client, source, asyncio.create_task(source.run())


async def stop(client: ClusterClient, source: ClusterSource, task: asyncio.Task[None]) -> None:
    source.stop()
    await task
    await client.aclose()


async def test_history_shorter_than_the_snapshot_fetch_loses_nothing(live_server: Callable[..., Any]) -> None:
    server = live_server(config=test_config(**BUSY), history=HISTORY)
    store = RecordingStore()
    transport = StepWhileSnapshotLoads(server, before=15, after=15)
    client, source, task = await run_source(server.url, store, transport)
    try:
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        (asked, served, handed) = transport.seqs[0]
        # The history was overrun while the snapshot loaded, on both sides of the moment it was taken:
        assert served - asked > HISTORY and handed - served > HISTORY
        for _ in range(10):  # and it stays live
            server.advance(1.0)
            await asyncio.sleep(0.01)
        final = await caught_up(server, store)
        await assert_matches_fresh_snapshot(store, client)
        status = store.sources["c"]
        assert source.resyncs == 0 and status.snapshots_total == 1, [line.message for line in status.log]
        assert status.malformed_total == 0
    finally:
        await stop(client, source, task)
    # Every event after the snapshot's seq exactly once, in order; nothing at or before it was applied twice.
    assert store.taken == list(range(served + 1, final + 1))
    log = [line.message for line in store.sources["c"].log]
    assert any(f"snapshot at seq {served}" in m and "buffered" in m for m in log), log


async def test_a_full_buffer_starts_over_and_then_converges(live_server: Callable[..., Any]) -> None:
    server = live_server(config=test_config(**BUSY), history=HISTORY)
    store = RecordingStore()
    transport = StepWhileSnapshotLoads(server, before=10, after=0)  # only the first snapshot is slow
    client, source, task = await run_source(server.url, store, transport, boot_buffer_events=20)
    try:
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        server.advance(1.0)
        final = await caught_up(server, store)
        await assert_matches_fresh_snapshot(store, client)
        assert source.resyncs == 1 and store.sources["c"].snapshots_total == 1
    finally:
        await stop(client, source, task)
    log = [line.message for line in store.sources["c"].log]
    assert any("bootstrap buffer full" in m for m in log), log
    assert store.taken == list(range(store.taken[0], final + 1))


async def test_a_server_without_get_cluster_gets_the_classic_order(live_server: Callable[..., Any]) -> None:
    server = live_server(config=test_config(**BUSY))

    class NoCluster(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/v1/cluster":
                return httpx.Response(404, json={"title": "Not Found", "status": 404}, request=request)
            return await super().handle_async_request(request)

    store = RecordingStore()
    client, source, task = await run_source(server.url, store, NoCluster())
    try:
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        server.advance(5.0)
        await caught_up(server, store)
        await assert_matches_fresh_snapshot(store, client)
        assert source.resyncs == 0 and store.sources["c"].snapshots_total == 1
    finally:
        await stop(client, source, task)
    assert not any("buffered" in line.message for line in store.sources["c"].log)


class SinglesStore(RecordingStore):
    """Remembers the events applied one at a time (``apply_event``), not in a batch."""

    def __init__(self) -> None:
        super().__init__()
        self.singles: list[Event] = []

    def apply_event(self, source_id: str, event: Event) -> ApplyOutcome:
        self.singles.append(event)
        return super().apply_event(source_id, event)


async def test_the_buffered_events_are_applied_in_batches(live_server: Callable[..., Any]) -> None:
    """What the stream buffered while the snapshot loaded goes the live path's way: runs of plain next events in one
    ``apply_events`` call; only what needs the per-item checks (``cluster.updated``) one at a time. One call per
    event cost the taps' and the source status's work per event, and a console starved of CPU fell behind the stream
    it was catching up with (issue 15)."""
    server = live_server(config=test_config(**BUSY), history=HISTORY)
    store = SinglesStore()
    transport = StepWhileSnapshotLoads(server, before=0, after=15)
    client, source, task = await run_source(server.url, store, transport)
    try:
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        (_, served, handed) = transport.seqs[0]
        assert handed - served > HISTORY  # events were buffered after the snapshot's seq
        final = await caught_up(server, store)
        assert source.resyncs == 0
    finally:
        await stop(client, source, task)
    assert store.taken == list(range(served + 1, final + 1))
    assert {event.type for event in store.singles} <= {EventType.CLUSTER_UPDATED}, len(store.singles)
