"""What a server cannot make the console spend: memory on a bomb, CPU on a giant event, a false "live", snapshots.

Each test is one of issue 10's findings, against the hostile server over loopback:

* a gzip snapshot that inflates far past ``max_response_mb`` is refused after reading the cap, with the reason shown;
* an event past ``max_event_kb`` is dropped as it streams in, recorded as malformed, and the stream goes on;
* an open stream that says nothing is stale after ``stale_after_s`` (not live until the 45 s silence timeout);
* a server that answers every stream with ``reset`` gets fewer and fewer snapshots, not one per stream.
"""

from __future__ import annotations

import gzip
import json
import time
import tracemalloc
from typing import Any

import httpx
import pytest

from console.api.body import PIECE_BYTES, ResponseTooLarge, read_capped
from tests.faults.harness import publish_timeline, running_source, wait_for
from tests.faults.hostile_server import HostileServer, Pause, Raw, Replay, Reply, Send, Silence, frame

MIB = 1024 * 1024


async def prepared(hostile: Any, events: int = 6) -> HostileServer:
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, events)
    return server


def bomb(decoded_mib: int) -> bytes:
    """A gzip body of ``decoded_mib`` MiB of zeros (about a thousandth of that on the wire)."""
    return gzip.compress(b"\0" * (decoded_mib * MIB), compresslevel=9)


async def test_a_gzip_bomb_snapshot_is_refused_at_the_cap_with_the_reason_shown(hostile: Any) -> None:
    server = await prepared(hostile)
    body = bomb(64)
    assert len(body) < MIB // 8
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    server.fail("/v1/snapshot", *[Reply(200, dict(headers), body) for _ in range(50)])
    async with running_source(server.url, max_response_bytes=8 * MIB) as run:
        await wait_for(lambda: "larger than 8 MiB (max_response_mb)" in (run.status.reason or ""), what="refusal")
        run.assert_alive()
        assert run.status.state in ("reconnecting", "stale", "connecting")


async def test_reading_a_bomb_holds_the_cap_not_the_bomb(hostile: Any) -> None:
    """Memory while refusing a 256 MiB bomb with an 8 MiB cap: the cap and one inflate piece, not the bomb."""
    server = await prepared(hostile)
    server.fail("/v1/snapshot", Reply(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, bomb(256)))
    async with (
        httpx.AsyncClient(base_url=server.url) as http,
        http.stream("GET", "/v1/snapshot", headers={"Accept-Encoding": "gzip"}) as response,
    ):
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLarge, match="larger than 8 MiB"):
                await read_capped(response, "GET /v1/snapshot", 8 * MIB)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * MIB + 3 * PIECE_BYTES, peak


async def test_a_body_that_does_not_inflate_is_a_protocol_error(hostile: Any) -> None:
    server = await prepared(hostile)
    server.fail(
        "/v1/whoami", *[Reply(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, b"x" * 99)] * 20
    )
    async with running_source(server.url) as run:
        await wait_for(lambda: "does not inflate" in (run.status.reason or ""), what="inflate error")
        run.assert_alive()


async def test_an_answer_under_the_cap_in_gzip_is_read_whole(hostile: Any) -> None:
    server = await prepared(hostile)
    snapshot = json.dumps(server.snapshot_json()).encode()
    server.fail(
        "/v1/snapshot",
        Reply(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, gzip.compress(snapshot)),
    )
    async with running_source(server.url, max_response_bytes=len(snapshot) + 1) as run:
        await run.until_live_at(server.seq)
        assert run.store.snapshot_seqs == [server.seq]


async def test_an_event_over_the_cap_is_dropped_recorded_and_the_stream_goes_on(hostile: Any) -> None:
    server = await prepared(hostile, events=3)
    payload = dict(server.tables["nodes"]["N-1"], x_blob="B" * (3 * MIB))
    big = server.next_seq()  # valid, but three times the cap (raw: the tables, and later events, stay small)
    server.publish_raw(frame(big, "node.updated", payload))
    more = publish_timeline(server, 3, start=3)
    async with running_source(server.url, max_event_bytes=MIB) as run:
        await run.until_live_at(more[-1])
        run.assert_alive()
        assert run.source.resyncs == 0  # its seq was read from its first bytes: stepped over, no gap
        record = run.status.malformed[-1]
        assert record.type == "node.updated" and record.reason == "event longer than 1024 KiB: dropped"
        assert record.seq == big and run.status.malformed_total == 1
        assert more[-1] in run.store.taken


async def test_an_open_silent_stream_is_stale_after_stale_after_then_live_when_it_speaks(hostile: Any) -> None:
    server = await prepared(hostile)
    # Open the stream (all history), then nothing for 2 s, then a keep-alive: the server is there again.
    server.script([Replay(), Pause(2.0), Raw(b": ka\n\n"), Silence()])
    async with running_source(server.url, stale_after=0.6, silence_timeout=30.0) as run:
        await run.until_live_at(server.seq)
        opened = time.monotonic()
        await run.until_state("stale", timeout=5)
        assert time.monotonic() - opened >= 0.6
        assert "nothing from the server" in (run.status.reason or "") and "open but silent" in run.status.reason
        await run.until_state("live", timeout=5)
        assert "speaks again" in (run.status.reason or "")
        run.assert_alive()


async def test_a_silent_stream_that_times_out_stays_stale(hostile: Any) -> None:
    """Silent for ``stale_after``, then the silence timeout ends the stream: still stale, not "reconnecting"."""
    server = await prepared(hostile)
    server.script([Replay(), Silence()])
    server.fail("/v1/whoami", *[Reply(503)] * 50)
    async with running_source(server.url, stale_after=0.5, silence_timeout=1.0) as run:
        await run.until_live_at(server.seq)
        await run.until_state("stale", timeout=5)
        states_after = len(run.store.states)
        await wait_for(lambda: "no byte from" in (run.status.reason or "") or len(run.store.states) > states_after + 2)
        later = [state for state, _, _ in run.store.states[states_after:]]
        assert "reconnecting" not in later, later


async def test_a_reset_storm_backs_off_like_any_failure(hostile: Any) -> None:
    """Every stream answers ``reset``: the first resync is at once, then each waits at least twice the last."""
    server = await prepared(hostile)
    reset = frame(None, "reset", {"seq": server.seq, "instance_id": server.cluster["instance_id"]})
    server.script(*[[Send(reset), Silence()] for _ in range(200)])
    async with running_source(server.url) as run:
        started = time.monotonic()
        await wait_for(lambda: run.source.resyncs >= 4, timeout=20, what="four resyncs")
        window = time.monotonic() - started
        waits = [delay for state, reason, delay in run.store.states if (reason or "").startswith("resyncing again")]
        waits = [w for w in waits if w is not None]
        assert len(waits) >= 3, run.store.states
        for n, wait in enumerate(waits[:3]):
            assert wait >= 2**n / 2 - 0.05, waits  # equal jitter: at least half of 1 s, 2 s, 4 s
        assert window >= 0.5 + 1.0 - 0.2  # the fourth resync came after the second and third waits
    snapshots = [r for r in server.requests if r.path == "/v1/snapshot"]
    assert len(snapshots) <= 6, len(snapshots)  # once: 41 in 20 s


def test_equal_jitter_keeps_half_the_ceiling() -> None:
    from console.sources.base import Backoff

    backoff = Backoff(1.0, 60.0, jitter="equal")
    ceilings = [1, 2, 4, 8, 16, 32, 60, 60]
    for ceiling in ceilings:
        assert ceiling / 2 <= backoff.next_delay() <= ceiling
