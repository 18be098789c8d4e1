"""ClusterSource and ClusterClient against the real simulator over loopback HTTP (no mocks).

Time passes only when a test advances the server's SteppedClock, so "caught up" is exact: the store's ``seq`` equals
the feed's, and a fresh ``/v1/snapshot`` taken then is at that same ``seq``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from console.api.client import ClusterClient
from console.api.errors import Conflict, ConnectionFailed, Forbidden, NotFound, Unauthorized
from console.api.models import Event
from console.api.sse import MalformedEvent, Reset
from console.sources.cluster import ClusterSource
from console.store import ApplyOutcome, SourceState, Store
from tests.demo_server import test_config

BUSY = {"telemetry_hz": 40.0}
"""Enough telemetry that a few simulated minutes make thousands of events."""


class RecordingStore(Store):
    """A real store that also remembers every seq it took, to check "no loss, no repeats"."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: list[int] = []

    def apply_event(self, source_id: str, event: Event) -> ApplyOutcome:
        outcome = super().apply_event(source_id, event)
        if outcome in (ApplyOutcome.APPLIED, ApplyOutcome.IGNORED):
            self.taken.append(event.seq)
        return outcome

    def apply_events(self, source_id: str, items: list[Any], start: int = 0) -> int:
        end = super().apply_events(source_id, items, start)
        self.taken.extend(item.seq for item in items[start:end])
        return end

    def record_malformed(self, source_id: str, item: MalformedEvent) -> ApplyOutcome:
        outcome = super().record_malformed(source_id, item)
        if outcome is ApplyOutcome.IGNORED and item.seq is not None:
            self.taken.append(item.seq)
        return outcome


async def wait_for(predicate: Callable[[], bool], timeout_s: float = 20.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110 - polls plain state that has no event to wait on
            await asyncio.sleep(0.01)


def feed_seq(server: Any) -> int:
    return int(server.call(lambda: server.feed.seq))


async def caught_up(server: Any, store: Store) -> int:
    target = feed_seq(server)
    await wait_for(lambda: store.sources["c"].seq == target)
    return target


async def assert_matches_fresh_snapshot(store: Store, client: ClusterClient) -> None:
    snapshot = await client.snapshot()
    assert snapshot.seq == store.sources["c"].seq
    reference = Store()
    reference.apply_snapshot("ref", snapshot)
    mine, theirs = store.tables_as_json(), reference.tables_as_json()
    # Every field: the server's snapshot is the fold of its own events (no field moves without an event).
    for table in ("nodes", "machines", "jobs", "alerts", "quality"):
        assert mine[table] == theirs[table], f"{table} differ"
    volatile = {"seq", "server_time"}  # the snapshot stamps the cluster with the time it was taken
    assert {k: v for k, v in mine["cluster"].items() if k not in volatile} == {
        k: v for k, v in theirs["cluster"].items() if k not in volatile
    }


async def advance(server: Any, seconds: float, step: float = 5.0) -> None:
    done = 0.0
    while done < seconds:
        server.advance(step)
        done += step
        await asyncio.sleep(0)


class Running:
    """A ClusterSource running in a task, stopped on exit."""

    def __init__(self, url: str, store: Store, **kw: Any) -> None:
        self.client = ClusterClient(url)
        options: dict[str, Any] = {"backoff_base": 0.05, "backoff_max": 0.2, "rng": random.Random(3)} | kw
        self.source = ClusterSource("c", self.client, store, **options)

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.source.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.source.stop()
        await self.task
        await self.client.aclose()


async def test_stream_keeps_the_store_equal_to_a_fresh_snapshot(live_server: Callable[..., Any]) -> None:
    server = live_server(config=test_config(**BUSY))
    store = RecordingStore()
    async with Running(server.url, store) as running:
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        await advance(server, 120)
        final = await caught_up(server, store)
        assert final >= 2000
        await assert_matches_fresh_snapshot(store, running.client)
        status = store.sources["c"]
        assert store.whoami is not None and store.whoami.operator == "demo"
        assert status.events_total == len(store.taken) and status.snapshots_total == 1
    first = store.taken[0]
    assert store.taken == list(range(first, final + 1))


async def test_drop_mid_way_resumes_without_loss_or_repeats(live_server: Callable[..., Any]) -> None:
    server = live_server(config=test_config(**BUSY))
    store = RecordingStore()
    async with Running(server.url, store) as running:
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        for _ in range(3):
            await advance(server, 20)
            assert server.drop_streams() >= 1
            await advance(server, 20)  # events while the source is away: it must get them on resume
            await caught_up(server, store)
        final = await caught_up(server, store)
        assert running.source.resyncs == 0 and store.sources["c"].snapshots_total == 1
        await assert_matches_fresh_snapshot(store, running.client)
    start = store.taken[0]
    assert store.taken == list(range(start, final + 1))
    log = [line.message for line in store.sources["c"].log]
    assert sum(m.startswith("live") for m in log) >= 4  # the first connection and three resumes


class SlowFirstRetry(random.Random):
    """Backoff jitter at its maximum, so the source stays away long enough for the server to forget it."""

    def uniform(self, a: float, b: float) -> float:
        return b


async def test_too_old_resume_point_resets_and_rebootstraps(live_server: Callable[..., Any]) -> None:
    server = live_server(config=test_config(**BUSY), history=50)
    store = RecordingStore()
    async with Running(server.url, store, backoff_base=1.5, backoff_max=1.5, rng=SlowFirstRetry()) as running:
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        server.advance(1)  # fewer events than the history, so the live stream itself never falls behind it
        before = await caught_up(server, store)
        assert running.source.resyncs == 0
        server.drop_streams()
        await advance(server, 60)  # far more than 50 events while the source waits 1.5 s
        assert feed_seq(server) > before + 50
        await caught_up(server, store)
        assert running.source.resyncs == 1 and store.sources["c"].snapshots_total == 2
        await assert_matches_fresh_snapshot(store, running.client)
    assert any("reset" in line.message for line in store.sources["c"].log)


async def test_client_sees_reset_for_a_seq_it_cannot_have(live_server: Callable[..., Any]) -> None:
    server = live_server()
    async with ClusterClient(server.url) as client:
        items = []
        async for item in client.events(after=10**9):
            items.append(item)
            break
    assert isinstance(items[0], Reset) and items[0].instance_id == server.feed.instance_id


def pick_command_targets(snapshot: Any) -> tuple[str, str, str]:
    """A machine to pause, and a (job, machine) pair whose processes do not match."""
    machine = next(m for m in snapshot.machines if m.state in ("idle", "running"))
    for job in snapshot.jobs:
        if job.status in ("queued", "assigned"):
            other = next((m for m in snapshot.machines if job.process not in m.processes), None)
            if other is not None:
                return machine.id, job.id, other.id
    raise AssertionError("no incompatible job/machine pair in the scenario")


async def test_commands_idempotency_and_problems(live_server: Callable[..., Any]) -> None:
    server = live_server(warmup_s=60)
    async with ClusterClient(server.url) as client:
        snapshot = await client.snapshot()
        machine_id, job_id, wrong_machine = pick_command_targets(snapshot)
        first = await client.send_command(
            "machine.pause", machine_id, {"reason": "check"}, idempotency_key="key-pause-1"
        )
        again = await client.send_command(
            "machine.pause", machine_id, {"reason": "check"}, idempotency_key="key-pause-1"
        )
        assert first == again and first.status == "applied"
        audit = await client.audit(limit=500)
        assert [e.idempotency_key for e in audit.items].count("key-pause-1") == 1

        with pytest.raises(Conflict) as caught:
            await client.send_command("job.reroute", job_id, {"machine_id": wrong_machine})
        assert caught.value.code == "incompatible_process" and caught.value.detail

        with pytest.raises(NotFound):
            await client.machine("M-does-not-exist")
        with pytest.raises(NotFound):
            await client.send_command("machine.resume", "M-does-not-exist")


class LoseFirstAnswer(httpx.AsyncHTTPTransport):
    """A real transport that forwards the first POST to the server, then throws its answer away."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST":
            self.posts.append(request.headers["Idempotency-Key"])
            if len(self.posts) == 1:
                await response.aread()
                await response.aclose()
                raise httpx.ReadError("answer lost on the way back", request=request)
        return response


async def test_lost_answer_is_retried_with_the_same_key(live_server: Callable[..., Any]) -> None:
    server = live_server(warmup_s=60)
    transport = LoseFirstAnswer()
    async with ClusterClient(server.url, transport=transport, retry_backoff=0.01) as client:
        snapshot = await client.snapshot()
        machine_id, _, _ = pick_command_targets(snapshot)
        result = await client.send_command("machine.pause", machine_id, {"mode": "after_job"})
        assert result.status == "applied"
        assert len(transport.posts) == 2 and transport.posts[0] == transport.posts[1]
        audit = await client.audit(limit=500)
        assert [e.idempotency_key for e in audit.items].count(transport.posts[0]) == 1


async def test_connection_refused_fails_fast(live_server: Callable[..., Any]) -> None:
    server = live_server()
    url = server.url
    server.stop()
    async with ClusterClient(url, timeout=2.0) as client:
        with pytest.raises(ConnectionFailed):
            await client.send_command("machine.pause", "M-1")


async def test_auth_failures_are_typed(live_server: Callable[..., Any]) -> None:
    server = live_server(tokens=["vic:viewer:view-secret"])
    async with ClusterClient(server.url) as anonymous:
        with pytest.raises(Unauthorized):
            await anonymous.snapshot()
    async with ClusterClient(server.url, token="view-secret") as viewer:
        snapshot = await viewer.snapshot()
        with pytest.raises(Forbidden) as caught:
            await viewer.send_command("machine.pause", snapshot.machines[0].id)
        assert "view-secret" not in str(caught.value)
    store = Store()
    async with ClusterClient(server.url, token="wrong") as client:
        await asyncio.wait_for(ClusterSource("c", client, store).run(), 10)
    assert store.sources["c"].state == SourceState.FAILED


async def test_a_long_backoff_ends_as_soon_as_the_server_answers_again(live_server: Callable[..., Any]) -> None:
    """After a long outage the backoff waits up to its 30 s ceiling; the console went on saying STALE that long
    after the cluster API was back (issue 12). While it waits it asks, now and then, whether the server is back,
    and reconnects when it is: here the backoff is 120 s and the source is live again well before."""
    server = live_server(config=test_config())
    store = RecordingStore()
    options = {"backoff_base": 120.0, "backoff_max": 120.0, "rng": SlowFirstRetry(), "probe_every_s": 0.1}
    async with Running(server.url, store, **options) as running:
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE)
        server.set_cluster_down(True)
        await wait_for(lambda: store.sources["c"].state != SourceState.LIVE)
        await asyncio.sleep(0.5)  # a few probes find it still down: the wait goes on
        status = store.sources["c"]
        assert status.state != SourceState.LIVE and status.retry_at is not None
        assert status.retry_at - time.monotonic() > 100  # the backoff alone would wait two minutes
        server.set_cluster_down(False)
        await wait_for(lambda: store.sources["c"].state == SourceState.LIVE, timeout_s=30.0)  # not 120 s
        await caught_up(server, store)
        await assert_matches_fresh_snapshot(store, running.client)
