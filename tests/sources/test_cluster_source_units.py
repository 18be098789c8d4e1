"""ClusterSource over a scripted fake network (httpx.MockTransport): resume, resync, Retry-After, auth failure."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import httpx
import pytest

from console.api.client import ClusterClient
from console.sources.cluster import ClusterSource
from console.store import SourceState, Store
from tests.store import factories as f


def snapshot_json(seq: int, instance_id: str = "inst-1") -> str:
    snap = f.snapshot(seq, nodes=[f.node("N-1")], machines=[f.machine("M-1")], instance_id=instance_id)
    return snap.model_dump_json()


def sse(*frames: str) -> httpx.Response:
    return httpx.Response(200, content="".join(frames).encode(), headers={"Content-Type": "text/event-stream"})


def node_frame(seq: int, state: str) -> str:
    return f"id: {seq}\nevent: node.updated\ndata: {f.node('N-1', state=state).model_dump_json()}\n\n"


async def wait_for(predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not predicate():  # noqa: ASYNC110 - polls plain state that has no event to wait on
            await asyncio.sleep(0.005)


class Script:
    """A fake cluster API: answers from a list of stream bodies, recording what was asked."""

    def __init__(self, streams: list[httpx.Response], snapshot_seqs: list[int]) -> None:
        self.streams = streams
        self.snapshot_seqs = snapshot_seqs
        self.snapshots = 0
        self.resumes: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/whoami":
            return httpx.Response(200, json={"operator": "alice", "role": "operator"})
        if path == "/v1/snapshot":
            seq = self.snapshot_seqs[min(self.snapshots, len(self.snapshot_seqs) - 1)]
            self.snapshots += 1
            body = snapshot_json(seq).encode()
            return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})
        if path == "/v1/events":
            self.resumes.append(request.headers.get("Last-Event-ID"))
            if self.streams:
                return self.streams.pop(0)
            return httpx.Response(503, json={"title": "later"}, headers={"Retry-After": "60"})
        return httpx.Response(404)


def make_source(handler: Callable[[httpx.Request], httpx.Response], store: Store) -> ClusterSource:
    client = ClusterClient("http://cluster.test", transport=httpx.MockTransport(handler))
    return ClusterSource("c", client, store, backoff_base=0.001, backoff_max=0.01, rng=random.Random(1))


async def run_until(source: ClusterSource, predicate: Callable[[], bool]) -> None:
    task = asyncio.create_task(source.run())
    try:
        await wait_for(predicate)
    finally:
        source.stop()
        await task
        await source.client.aclose()


async def test_resumes_from_last_seq_after_a_drop_without_a_new_snapshot() -> None:
    store = Store()
    script = Script([sse(node_frame(11, "degraded"), node_frame(12, "offline")), sse(node_frame(13, "online"))], [10])
    source = make_source(script, store)
    await run_until(source, lambda: store.sources["c"].seq == 13)
    assert script.resumes[:2] == ["10", "12"]
    assert script.snapshots == 1 and source.resyncs == 0
    assert store.nodes["N-1"].state == "online"
    assert store.whoami is not None and store.whoami.operator == "alice"
    assert store.sources["c"].state == SourceState.STOPPED
    messages = [line.message for line in store.sources["c"].log]
    assert any(m.startswith("live") for m in messages) and any(m.startswith("reconnecting") for m in messages)


async def test_gap_and_reset_go_back_to_a_snapshot() -> None:
    store = Store()
    reset = 'event: reset\ndata: {"seq": 40, "instance_id": "inst-1"}\n\n'
    script = Script(
        [sse(node_frame(11, "degraded"), node_frame(13, "offline")), sse(reset), sse(node_frame(41, "paused"))],
        [10, 20, 40],
    )
    source = make_source(script, store)
    await run_until(source, lambda: store.sources["c"].seq == 41)
    assert script.snapshots == 3 and source.resyncs == 2
    assert script.resumes[:3] == ["10", "20", "40"]
    assert store.nodes["N-1"].state == "paused"


async def test_malformed_event_is_recorded_and_stepped_over() -> None:
    store = Store()
    bad = 'id: 11\nevent: node.updated\ndata: {"id": 5}\n\n'
    script = Script([sse(bad, node_frame(12, "offline"))], [10])
    source = make_source(script, store)
    await run_until(source, lambda: store.sources["c"].seq == 12)
    status = store.sources["c"]
    assert status.malformed_total == 1 and status.malformed[-1].seq == 11
    assert script.snapshots == 1 and store.nodes["N-1"].state == "offline"


async def test_retry_after_is_honoured() -> None:
    store = Store()
    script = Script([], [10])  # every stream request answers 503 with Retry-After: 60
    source = make_source(script, store)
    await run_until(source, lambda: store.sources["c"].state == SourceState.RECONNECTING and bool(script.resumes))
    # stopped while waiting: the scheduled retry was at least the server's 60 s away, not the 0.01 s backoff
    line = next(line for line in store.sources["c"].log if "Retry" in line.message or "retry in" in line.message)
    delay = float(line.message.rsplit("retry in ", 1)[1].split(" s")[0])
    assert delay >= 59.0
    assert len(script.resumes) == 1


async def test_unauthorized_fails_and_ends() -> None:
    store = Store()
    client = ClusterClient(
        "http://cluster.test",
        transport=httpx.MockTransport(lambda r: httpx.Response(401, json={"title": "Unauthorized", "status": 401})),
    )
    source = ClusterSource("c", client, store)
    await asyncio.wait_for(source.run(), 5)
    await client.aclose()
    status = store.sources["c"]
    assert status.state == SourceState.FAILED and "401" in (status.reason or "")


async def test_cancel_without_stop_propagates() -> None:
    store = Store()
    source = make_source(Script([], [10]), store)
    task = asyncio.create_task(source.run())
    await wait_for(lambda: "c" in store.sources and store.sources["c"].state == SourceState.RECONNECTING)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await source.client.aclose()
