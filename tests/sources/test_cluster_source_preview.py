"""The preview of a big cluster (``console.sources.cluster_preview``) against the real simulator over loopback.

The simulator here is small (3 nodes x 6 machines), so the sources are told a cluster of 1 machine is big and a page
holds 4 machines: the preview is then a real part of the cluster. The snapshot is held back by the transport until
the test lets it go, so what is on show while it "loads" is exact; the server's clock is stepped meanwhile, so the
handover from the buffered stream to the snapshot is tested with events that arrive during the preview.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import httpx

from console.api.client import ClusterClient
from console.sources.cluster import ClusterSource
from console.store import SourceState
from console.store.preview import Loading, loading
from tests.demo_server import test_config
from tests.sources.test_cluster_source_live import (
    BUSY,
    RecordingStore,
    advance,
    assert_matches_fresh_snapshot,
    caught_up,
    feed_seq,
    wait_for,
)

MACHINES = 18
"""The test simulator's machines (3 nodes x 6)."""


class Gate(httpx.AsyncHTTPTransport):
    """A real transport that holds ``GET /v1/snapshot`` until :attr:`release` is set, then answers the paths in
    ``faults`` itself: a status code, ``"hang"`` (never, until cancelled) or raw bytes (a 200 with that body)."""

    def __init__(self, faults: dict[str, int | str | bytes] | None = None) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.faults = faults or {}
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(path)
        if path == "/v1/snapshot":
            await self.release.wait()
        fault = self.faults.get(path)
        if fault == "hang":
            await asyncio.Event().wait()
        if isinstance(fault, int):
            body = b'{"type":"about:blank","title":"no","status":%d,"code":"test"}' % fault
            headers = {"Content-Type": "application/problem+json"}
            return httpx.Response(fault, headers=headers, content=body, request=request)
        if isinstance(fault, bytes):
            return httpx.Response(200, headers={"Content-Type": "application/json"}, content=fault, request=request)
        return await super().handle_async_request(request)


class Source:
    """A ClusterSource with a preview threshold low enough for the test simulator, through ``transport``."""

    def __init__(self, url: str, store: RecordingStore, transport: httpx.AsyncBaseTransport, **kw: Any) -> None:
        self.client = ClusterClient(url, transport=transport)
        options: dict[str, Any] = {
            "backoff_base": 0.05,
            "backoff_max": 0.1,
            "rng": random.Random(3),
            "preview_min_machines": 1,
            "preview_machines": 4,
        } | kw
        self.source = ClusterSource("c", self.client, store, **options)

    async def __aenter__(self) -> Source:
        self.task = asyncio.create_task(self.source.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.source.stop()
        await self.task
        await self.client.aclose()


def _log(store: RecordingStore) -> str:
    return "\n".join(line.message for line in store.sources["c"].log)


async def test_the_preview_shows_at_once_and_the_snapshot_takes_over_without_loss(
    live_server: Callable[..., Any],
) -> None:
    server = live_server(config=test_config(telemetry_hz=BUSY["telemetry_hz"]))
    server.advance(60)
    last = max(server.call(lambda: [m.id for m in server.feed.state.machines.values()]))
    async with ClusterClient(server.url) as client:  # the last by id: not on the first page, on the abnormal one
        await client.send_command("machine.pause", last, {"reason": "test"})
    store = RecordingStore()
    gate = Gate()
    async with Source(server.url, store, gate) as running:
        await wait_for(lambda: "c" in loading(store))
        mark = loading(store)["c"]
        assert mark.machines_total == MACHINES and 4 <= mark.machines_shown < MACHINES and mark.alerts_complete
        assert len(store.machines) == mark.machines_shown and len(store.nodes) == 3
        status = store.sources["c"]
        assert status.state == SourceState.CONNECTING and status.seq is None and store.jobs == {}
        assert store.machines[last].state == "paused"  # the page of abnormal machines is in the preview
        await advance(server, 30)  # events while the preview is shown: buffered, applied after the snapshot
        during = feed_seq(server)
        gate.release.set()
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        assert loading(store) == {} and len(store.machines) == MACHINES
        await advance(server, 30)
        final = await caught_up(server, store)
        assert final > during
        await assert_matches_fresh_snapshot(store, running.client)
        assert store.sources["c"].snapshots_total == 1 and running.source.resyncs == 0
    first = store.taken[0]
    assert store.taken == list(range(first, final + 1))  # every seq once, none lost across the handover
    assert "preview: " in _log(store)


async def test_a_small_cluster_gets_no_preview(live_server: Callable[..., Any]) -> None:
    server = live_server()
    store = RecordingStore()
    gate = Gate()
    async with Source(server.url, store, gate, preview_min_machines=MACHINES + 1):
        await wait_for(lambda: "/v1/nodes" in gate.paths)
        await asyncio.sleep(0.1)
        assert store.machines == {} and loading(store) == {}
        assert "/v1/machines" not in gate.paths
        gate.release.set()
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        assert len(store.machines) == MACHINES


async def test_a_failing_preview_is_logged_and_the_snapshot_still_comes(live_server: Callable[..., Any]) -> None:
    server = live_server()
    store = RecordingStore()
    gate = Gate({"/v1/machines": 503})
    async with Source(server.url, store, gate):
        await wait_for(lambda: "preview not shown" in _log(store))
        assert store.machines == {} and loading(store) == {}
        gate.release.set()
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        assert len(store.machines) == MACHINES and loading(store) == {}
        assert "preview not shown" in _log(store) and store.sources["c"].snapshots_total == 1


async def test_a_hostile_preview_is_refused_calmly(live_server: Callable[..., Any]) -> None:
    server = live_server()
    store = RecordingStore()
    hostile = b'{"items": [{"id": "\\u001b[31m", "bogus": true}], "next_cursor": null}'
    gate = Gate({"/v1/machines": hostile})
    async with Source(server.url, store, gate):
        await wait_for(lambda: "preview not shown" in _log(store))
        gate.release.set()
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        assert len(store.machines) == MACHINES and "\x1b[31m" not in store.machines
        assert "preview not shown" in _log(store) and "invalid answer" in _log(store)


async def test_an_oversized_page_is_cut_to_the_size_asked_for(live_server: Callable[..., Any]) -> None:
    server = live_server()
    server.advance(60)
    store = RecordingStore()
    gate = Gate()
    async with Source(server.url, store, gate, preview_machines=2) as running:
        await wait_for(lambda: "c" in loading(store))
        page = await running.client.machines_page(2)
        assert len(page.items) == 2 and page.next_cursor  # asked for 2, and the server has more
        assert loading(store)["c"].machines_shown <= 4  # two pages of two, at most
        gate.release.set()
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)


async def test_a_slow_preview_holds_the_snapshot_back_only_so_long(live_server: Callable[..., Any]) -> None:
    server = live_server()
    store = RecordingStore()
    gate = Gate({"/v1/alerts": "hang"})
    gate.release.set()
    async with Source(server.url, store, gate, preview_timeout_s=0.3):
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        assert len(store.machines) == MACHINES and loading(store) == {}
        assert "preview not shown (the snapshot came first)" in _log(store)
        assert gate.paths.index("/v1/snapshot") > gate.paths.index("/v1/alerts")  # the preview's reads go first


async def test_a_failed_snapshot_keeps_the_preview_marked_and_the_retry_replaces_it(
    live_server: Callable[..., Any],
) -> None:
    server = live_server()
    server.advance(60)
    store = RecordingStore()
    gate = Gate({"/v1/snapshot": 503})
    async with Source(server.url, store, gate):
        await wait_for(lambda: "c" in loading(store))
        gate.release.set()
        await wait_for(lambda: store.sources["c"].state == SourceState.RECONNECTING)
        assert loading(store)["c"] == Loading(loading(store)["c"].machines_shown, MACHINES, True)
        assert store.sources["c"].snapshots_total == 0
        del gate.faults["/v1/snapshot"]
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        assert loading(store) == {} and len(store.machines) == MACHINES


async def test_a_reset_after_the_first_snapshot_shows_no_preview(live_server: Callable[..., Any]) -> None:
    """Reconnects and resets keep the old data until the new snapshot replaces it, as before there were previews."""
    server = live_server(config=test_config(telemetry_hz=BUSY["telemetry_hz"]), history=50)
    store = RecordingStore()
    gate = Gate()
    gate.release.set()
    async with Source(server.url, store, gate, backoff_base=1.0, backoff_max=1.0) as running:
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        server.advance(1)
        await caught_up(server, store)
        gate.release.clear()  # the next snapshot is held back: what shows meanwhile is the old, whole data
        server.drop_streams()
        await advance(server, 60)  # past the 50-event history: the resume gets reset
        await wait_for(lambda: gate.paths.count("/v1/snapshot") == 2)
        await asyncio.sleep(0.1)
        assert len(store.machines) == MACHINES and loading(store) == {}
        assert gate.paths.count("/v1/nodes") == 1  # only the first bootstrap began a preview
        gate.release.set()
        await caught_up(server, store)
        assert running.source.resyncs == 1 and store.sources["c"].snapshots_total == 2
        await assert_matches_fresh_snapshot(store, running.client)


async def test_a_big_snapshot_waits_for_the_preview_to_be_taken(monkeypatch: Any) -> None:
    """The parse (which holds the GIL) waits until the app has taken the preview, not for the cap."""
    from console.sources import cluster_preview
    from console.store import Store
    from console.store.preview import Preview
    from tests.store.factories import cluster, machine, node

    monkeypatch.setattr(cluster_preview, "DRAWN_WAIT_S", 60.0)
    monkeypatch.setattr(cluster_preview, "PAINT_S", 0.0)
    store = Store()
    store.register_source("c")
    reader = cluster_preview.PreviewReader("c", None, store, cluster(), None)  # type: ignore[arg-type]
    reader.shown = store.apply_preview("c", Preview(cluster(), [node()], [machine()], []))
    waiting = asyncio.create_task(reader.wait_drawn())
    await asyncio.sleep(0.05)
    assert not waiting.done() and store.dirty  # nobody took the preview yet
    store.take_changes()  # what the app's flush does
    async with asyncio.timeout(10):
        await waiting
