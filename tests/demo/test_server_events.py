"""The SSE stream of the demo server: resume without loss or duplicates, server-side drops, resets, keep-alive."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from httpx_sse import connect_sse

from tests.demo_server import SseEvent, read_events


def seqs(events: list[SseEvent]) -> list[int | None]:
    return [e.seq for e in events]


def feed_seq(server: Any) -> int:
    return server.call(lambda: server.feed.seq)


def test_resume_with_last_event_id_and_after(live_server: Any) -> None:
    server = live_server()
    server.advance(300)
    total = feed_seq(server)
    assert total > 30
    head = read_events(server.url, 10, after=0)
    assert seqs(head) == list(range(1, 11))
    by_header = read_events(server.url, 10, last_event_id=head[-1].seq)
    by_query = read_events(server.url, 10, after=head[-1].seq)
    assert seqs(by_header) == seqs(by_query) == list(range(11, 21))
    assert [e.data for e in by_header] == [e.data for e in by_query]
    # Last-Event-ID wins over ?after (a reconnecting EventSource keeps its first URL)
    assert seqs(read_events(server.url, 1, after=0, last_event_id=20)) == [21]


def test_stream_goes_on_live_after_the_replay(live_server: Any) -> None:
    server = live_server()
    server.advance(60)
    start = feed_seq(server)
    got: list[SseEvent] = []

    def reader() -> None:
        got.extend(read_events(server.url, 5, after=start - 2, timeout_s=10))

    thread = threading.Thread(target=reader)
    thread.start()
    for _ in range(100):
        if len(got) or not thread.is_alive():
            break
        server.advance(5)
        time.sleep(0.02)
    thread.join(15)
    assert seqs(got) == list(range(start - 1, start + 4))


def test_without_after_the_stream_starts_from_now(live_server: Any) -> None:
    server = live_server(keepalive_s=0.2)
    server.advance(60)
    now = feed_seq(server)
    got: list[SseEvent] = []
    thread = threading.Thread(target=lambda: got.extend(read_events(server.url, 1, timeout_s=10)))
    thread.start()
    time.sleep(0.5)  # the stream is open and waiting
    while thread.is_alive():
        server.advance(5)
        time.sleep(0.05)
    assert got and got[0].seq is not None and got[0].seq > now


def test_server_side_drop_mid_stream_then_resume_loses_nothing(live_server: Any) -> None:
    server = live_server()
    server.advance(60)
    first_part: list[SseEvent] = []
    ended = threading.Event()

    def reader() -> None:  # appends as events arrive, so the test sees the stream is live before dropping it
        with (
            httpx.Client(base_url=server.url, timeout=20) as client,
            connect_sse(client, "GET", "/v1/events", params={"after": "0"}) as source,
        ):
            for sse in source.iter_sse():
                first_part.append(SseEvent(int(sse.id), sse.event, None))
        ended.set()

    thread = threading.Thread(target=reader)
    thread.start()
    replayed = feed_seq(server)
    deadline = time.monotonic() + 10
    while len(first_part) < replayed and time.monotonic() < deadline:
        time.sleep(0.01)
    server.advance(30)  # more events while the stream is open and live
    while len(first_part) <= replayed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.drop_streams() == 1
    assert ended.wait(10), "the stream did not end when dropped"
    thread.join(5)
    assert len(first_part) > replayed
    server.advance(30)
    total = feed_seq(server)
    last = first_part[-1].seq
    assert last is not None and last < total
    rest = read_events(server.url, total - last, last_event_id=last)
    assert seqs(first_part + rest) == list(range(1, total + 1))


def test_too_old_a_seq_gets_reset(live_server: Any) -> None:
    server = live_server(history=20)
    server.advance(300)
    total = feed_seq(server)
    assert total > 40
    got = read_events(server.url, 5, after=3)
    assert len(got) == 1 and got[0].type == "reset" and got[0].seq is None
    assert got[0].data == {"seq": total, "instance_id": server.feed.instance_id}
    # still within the ring: fine
    assert seqs(read_events(server.url, 2, after=total - 10)) == [total - 9, total - 8]


def test_a_seq_ahead_gets_reset(live_server: Any) -> None:
    server = live_server()
    server.advance(30)
    total = feed_seq(server)
    got = read_events(server.url, 5, last_event_id=total + 1000)
    assert [(e.type, e.data["seq"]) for e in got] == [("reset", total)]


def test_a_stream_that_falls_behind_the_ring_is_reset(live_server: Any) -> None:
    server = live_server(history=20)
    server.advance(30)
    start = feed_seq(server)
    with (
        httpx.Client(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/v1/events", params={"after": str(start)}) as stream,
    ):
        lines = stream.iter_lines()
        server.advance(300)  # far more than 20 events while the client does not read (they fit in the socket)
        body = "\n".join(lines)
    assert "event: reset" in body
    assert body.rstrip().endswith("}")  # the reset is the last thing sent: the stream ended


def test_keepalive_comment_arrives(live_server: Any) -> None:
    server = live_server(keepalive_s=0.2)
    with (
        httpx.Client(base_url=server.url, timeout=5) as client,
        client.stream("GET", "/v1/events") as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        started = time.monotonic()
        for line in stream.iter_lines():
            if line == ": ka":
                break
        assert time.monotonic() - started < 4


def test_event_stream_is_not_gzipped(live_server: Any) -> None:
    server = live_server(keepalive_s=0.2)
    server.advance(60)
    with (
        httpx.Client(base_url=server.url, timeout=5) as client,
        client.stream("GET", "/v1/events", params={"after": "0"}, headers={"Accept-Encoding": "gzip"}) as stream,
    ):
        assert "content-encoding" not in stream.headers
        first = next(stream.iter_raw())
        assert first.startswith(b"id: 1\n")
