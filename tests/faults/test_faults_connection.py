"""Connection faults: the source backs off, resumes from the last ``seq`` (nothing lost or doubled) and says so.

Each case: a hostile server holds a snapshot at ``base`` and a dozen events after it; the first stream connection
(or request) meets a fault; the source must end live at the server's last ``seq``, having taken every ``seq`` exactly
once, with a store equal to a fresh snapshot, and a connection log that shows the trouble.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest

from console.store import SourceState
from tests.faults.harness import assert_continuous, assert_matches, publish_timeline, running_source, wait_for
from tests.faults.hostile_server import (
    Close,
    CutMidEvent,
    HostileServer,
    Pause,
    Raw,
    Replay,
    Reply,
    Reset,
    Silence,
)

EVENTS = 12


async def prepared(hostile: object, **options: object) -> HostileServer:
    server: HostileServer = await hostile(**options)  # type: ignore[operator]
    server.freeze_snapshot()
    publish_timeline(server, EVENTS)
    return server


def log_text(run: object) -> str:
    return "\n".join(line.message for line in run.status.log)  # type: ignore[attr-defined]


# --- the stream breaks ------------------------------------------------------------------------------------------

STREAM_FAULTS = {
    "cut-mid-event-fin-10pct": [Replay(4), CutMidEvent("close", 0.1)],
    "cut-mid-event-fin-50pct": [Replay(4), CutMidEvent("close", 0.5)],
    "cut-mid-event-fin-95pct": [Replay(4), CutMidEvent("close", 0.95)],
    "cut-mid-event-clean-end": [Replay(4), CutMidEvent("clean", 0.5)],
    "half-written-chunk": [Replay(4), CutMidEvent("half_chunk", 0.5)],
    "half-written-chunk-at-start": [CutMidEvent("half_chunk", 0.3)],
    "tcp-reset-mid-event": [Replay(4), CutMidEvent("reset", 0.5)],
    "tcp-reset-between-events": [Replay(4), Reset()],
    "tcp-reset-before-any-event": [Reset()],
    "server-ends-stream": [Replay(4), Close()],
    "server-ends-stream-at-once": [Close()],
    "silence": [Replay(4), Silence()],
    "silence-mid-event": [Replay(4), CutMidEvent("close", 0.0), Silence()],
    "half-line-then-silence": [Replay(4), Raw(b"id: 99"), Silence()],
    "pause-longer-than-silence-timeout": [Replay(4), Pause(1.5), Replay()],
    "keepalives-then-reset": [Raw(b": ka\n\n"), Raw(b": ka\n\n"), Reset()],
    "garbage-bytes-then-reset": [Replay(2), Raw(b"\x00\xff\xfe garbage without a colon\n\n"), Reset()],
    "invalid-utf8-then-close": [Replay(3), Raw(b"\xc3\x28\xa0\xa1\n\n"), Close()],
    "two-faults-in-a-row": [Replay(2), Reset()],
}


@pytest.mark.parametrize("script", STREAM_FAULTS.values(), ids=STREAM_FAULTS.keys())
async def test_stream_fault_resumes_without_loss(hostile: object, script: list[object]) -> None:
    server = await prepared(hostile)
    base = server.base_seq
    server.script(script)
    if script == STREAM_FAULTS["two-faults-in-a-row"]:
        server.script([Replay(3), CutMidEvent("half_chunk")])
    async with running_source(server.url, silence_timeout=0.5) as run:
        await run.until_live_at(server.seq, timeout=8)
        run.assert_alive()
        assert_continuous(run.store, base + 1, server.seq)
        assert_matches(run.store, server.snapshot_json())
        assert server.snapshots_served == 1 and run.source.resyncs == 0
        # Resumed from what was applied, never from scratch.
        assert server.resume_points[0] == str(base)
        assert len(server.resume_points) >= 2
        assert "reconnecting" in run.store.state_names()
        assert any(d is not None and d >= 0 for s, _, d in run.store.states if s == "reconnecting")
        # Events published while live keep coming (the stream really is back).
        more = publish_timeline(server, 3, start=EVENTS)
        await run.until_seq(more[-1])
        assert_continuous(run.store, base + 1, server.seq)


async def test_silence_is_named_in_the_log(hostile: object) -> None:
    server = await prepared(hostile)
    server.script([Replay(2), Silence()])
    async with running_source(server.url, silence_timeout=0.4) as run:
        await run.until_live_at(server.seq, timeout=5)
        assert "no byte from" in log_text(run) and "0.4 s" in log_text(run)


# --- HTTP errors on each step of the loop ---------------------------------------------------------------------------

STATUSES = [500, 502, 503, 429]
PATHS = ["/v1/whoami", "/v1/snapshot", "/v1/events"]
RETRY_AFTER = 0.3


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("retry_after", [None, RETRY_AFTER], ids=["no-retry-after", "retry-after"])
@pytest.mark.parametrize("status", STATUSES)
async def test_http_error_backs_off_and_recovers(
    hostile: object, status: int, retry_after: float | None, path: str
) -> None:
    server = await prepared(hostile)
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    server.fail(path, Reply(status, headers), Reply(status, dict(headers)))
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq, timeout=5)
        run.assert_alive()
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        assert_matches(run.store, server.snapshot_json())
        waits = [(reason, delay) for state, reason, delay in run.store.states if delay is not None]
        assert len(waits) == 2, run.store.states
        for reason, delay in waits:
            assert reason is not None and str(status) in reason
            if retry_after is None:
                assert delay <= 0.05 + 0.01  # backoff_max of the test source, with jitter below it
            else:
                assert delay >= retry_after - 0.01  # Retry-After honoured
        assert "(retry in" in log_text(run)


async def test_retry_after_http_date_is_honoured(hostile: object) -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    server = await prepared(hostile)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    server.fail("/v1/snapshot", Reply(503, {"Retry-After": when}))
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq, timeout=6)
        delays = [d for _, _, d in run.store.states if d is not None]
        assert delays and delays[0] >= 0.5


BROKEN_ANSWERS = {
    "snapshot-reset": ("/v1/snapshot", Reply(drop="reset")),
    "snapshot-fin-without-answer": ("/v1/snapshot", Reply(drop="close")),
    "snapshot-half-headers": ("/v1/snapshot", Reply(drop="half")),
    "snapshot-slow-read": ("/v1/snapshot", Reply(200, delay=1.2, body=b"{}")),
    "snapshot-not-json": ("/v1/snapshot", Reply(200, {"Content-Type": "application/json"}, b"<html>oops</html>")),
    "snapshot-invalid-object": ("/v1/snapshot", Reply(200, {"Content-Type": "application/json"}, b'{"seq": "x"}')),
    "snapshot-html-502": ("/v1/snapshot", Reply(502, {"Content-Type": "text/html"}, b"<h1>Bad Gateway</h1>")),
    "whoami-reset": ("/v1/whoami", Reply(drop="reset")),
    "whoami-slow-read": ("/v1/whoami", Reply(200, delay=1.2, body=b"{}")),
    "events-reset-before-headers": ("/v1/events", Reply(drop="reset")),
    "events-half-headers": ("/v1/events", Reply(drop="half")),
    "events-slow-headers": ("/v1/events", Reply(200, delay=1.2, body=b"")),
    "events-wrong-content-type": ("/v1/events", Reply(200, {"Content-Type": "application/json"}, b"{}")),
    "events-404": ("/v1/events", Reply(404)),
}


@pytest.mark.parametrize("path_reply", BROKEN_ANSWERS.values(), ids=BROKEN_ANSWERS.keys())
async def test_broken_answer_is_retried(hostile: object, path_reply: tuple[str, Reply]) -> None:
    path, reply = path_reply
    server = await prepared(hostile)
    server.fail(path, reply)
    async with running_source(server.url, timeout=0.6, silence_timeout=0.6) as run:
        await run.until_live_at(server.seq, timeout=6)
        run.assert_alive()
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        assert_matches(run.store, server.snapshot_json())
        assert "reconnecting" in run.store.state_names()


# --- the server goes away ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_then_server_comes_up() -> None:
    port = free_port()
    async with running_source(f"http://127.0.0.1:{port}") as run:
        await wait_for(lambda: run.store.state_names().count("reconnecting") >= 4, what="a few retries")
        run.assert_alive()
        assert run.status.state == SourceState.RECONNECTING
        # Each wait announced when the next attempt is due (the status bar's countdown).
        waits = [d for s, _, d in run.store.states if s == "reconnecting" and d is not None]
        assert len(waits) >= 2 and all(0 <= d <= 0.05 for d in waits)
        assert "cannot connect" in (run.status.reason or "")
        server = HostileServer()
        await server.start(port)
        try:
            await run.until_live_at(server.seq)
            assert_matches(run.store, server.snapshot_json())
        finally:
            await server.stop()


async def test_long_outage_is_marked_stale_then_recovers() -> None:
    port = free_port()
    async with running_source(f"http://127.0.0.1:{port}", stale_after=0.2) as run:
        await run.until_state(SourceState.STALE)
        assert run.status.retry_at is not None
        server = HostileServer()
        await server.start(port)
        try:
            await run.until_live_at(server.seq)
        finally:
            await server.stop()


@pytest.mark.parametrize("keep_history", [True, False], ids=["same-instance", "new-instance-history-lost"])
async def test_server_killed_and_restarted(hostile: object, keep_history: bool) -> None:
    server = await prepared(hostile)
    server.script([Replay(5), Pause(30)])
    async with running_source(server.url) as run:
        await run.until_seq(server.base_seq + 5)
        await server.restart(keep_history=keep_history, new_seq=3)
        publish_timeline(server, 4, start=50)
        await run.until_live_at(server.seq, timeout=6)
        run.assert_alive()
        assert_matches(run.store, server.snapshot_json())
        if keep_history:
            assert_continuous(run.store, 101, server.seq)
            assert run.source.resyncs == 0
        else:
            # The server lost its history: it says ``reset`` and the source takes a fresh snapshot.
            assert run.source.resyncs == 1 and run.status.instance_id == server.cluster["instance_id"]
            assert "resync" in log_text(run)


async def test_server_restarted_ahead_with_new_instance(hostile: object) -> None:
    """A new instance whose seq is *ahead* of ours: the old seq is not in its history, so it says reset."""
    server = await prepared(hostile)
    server.script([Replay(5), Pause(30)])
    async with running_source(server.url) as run:
        await run.until_seq(server.base_seq + 5)
        await server.restart(keep_history=False, new_seq=5000)
        publish_timeline(server, 3)
        await run.until_live_at(server.seq, timeout=6)
        assert run.source.resyncs == 1
        assert_matches(run.store, server.snapshot_json())


async def test_dns_failure_is_a_reconnect_with_a_reason() -> None:
    async with running_source("http://no-such-host.invalid:8080") as run:
        await wait_for(lambda: run.store.state_names().count("reconnecting") >= 2, timeout=10, what="retries")
        run.assert_alive()
        assert run.status.state == SourceState.RECONNECTING
        assert "cannot connect" in (run.status.reason or "")


# --- TLS ------------------------------------------------------------------------------------------------------------


async def test_tls_client_against_plain_http_port(hostile: object) -> None:
    server = await prepared(hostile)
    url = server.url.replace("http://", "https://")
    async with running_source(url) as run:
        await wait_for(lambda: run.store.state_names().count("reconnecting") >= 2, what="retries")
        run.assert_alive()
        assert run.status.state == SourceState.RECONNECTING
        assert "cannot connect" in (run.status.reason or "")
        assert server.snapshots_served == 0


def tls_context(cert: tuple[object, object]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    return context


async def test_self_signed_certificate_is_refused(hostile: object, tls_cert: tuple[object, object]) -> None:
    server = await prepared(hostile, ssl_context=tls_context(tls_cert))
    async with running_source(server.url) as run:
        await wait_for(lambda: run.store.state_names().count("reconnecting") >= 2, what="retries")
        run.assert_alive()
        assert run.status.state == SourceState.RECONNECTING and server.snapshots_served == 0


async def test_self_signed_certificate_trusted_via_ca_file(hostile: object, tls_cert: tuple[object, object]) -> None:
    """The control case: the same server works once its certificate is trusted (so the refusal above is TLS)."""
    server = await prepared(hostile, ssl_context=tls_context(tls_cert))
    server.script([Replay(4), CutMidEvent("reset")])
    async with running_source(server.url, verify=str(tls_cert[0])) as run:
        await run.until_live_at(server.seq, timeout=6)
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        assert_matches(run.store, server.snapshot_json())


async def test_plain_client_against_tls_server(hostile: object, tls_cert: tuple[object, object]) -> None:
    server = await prepared(hostile, ssl_context=tls_context(tls_cert))
    async with running_source(server.url.replace("https://", "http://")) as run:
        await wait_for(lambda: run.store.state_names().count("reconnecting") >= 2, what="retries")
        run.assert_alive()
        assert server.snapshots_served == 0


# --- credentials: the one failure that is final -------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("path", ["/v1/whoami", "/v1/snapshot", "/v1/events"])
async def test_refused_credentials_fail_with_a_reason(hostile: object, status: int, path: str) -> None:
    server = await prepared(hostile)
    detail = b'{"title": "Unauthorized", "status": %d, "detail": "token expired"}' % status
    server.fail(path, Reply(status, {}, detail))
    async with running_source(server.url) as run:
        await run.until_state(SourceState.FAILED)
        await asyncio.wait_for(run.task, 2)  # ends on purpose (retrying cannot help), without crashing
        assert run.task.exception() is None
        assert str(status) in (run.status.reason or "") and "token expired" in (run.status.reason or "")
