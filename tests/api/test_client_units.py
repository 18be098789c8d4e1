"""ClusterClient against httpx.MockTransport (a fake network, our own code unmocked): errors, paging, commands, SSE."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from console.api.client import ClusterClient
from console.api.errors import (
    AnswerLost,
    ApiError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    NotFound,
    ProtocolError,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    StreamLost,
    Unauthorized,
    Unprocessable,
    parse_retry_after,
)
from console.api.models import Event, Machine
from console.api.sse import MalformedEvent, Reset
from console.api.transport import safe_url
from tests.store import factories as f

TOKEN = "s3cret-token-value"
Handler = Callable[[httpx.Request], httpx.Response]


def client_with(handler: Handler, **kw: object) -> ClusterClient:
    return ClusterClient("http://cluster.test", transport=httpx.MockTransport(handler), **kw)  # type: ignore[arg-type]


def problem(status: int, code: str | None = None, detail: str | None = None, **headers: str) -> httpx.Response:
    body = {"type": "about:blank", "title": "Some title", "status": status, "detail": detail, "code": code}
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json", **headers})


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (422, Unprocessable),
        (429, RateLimited),
        (503, ServiceUnavailable),
        (500, ServerError),
        (502, ServerError),
        (418, ApiError),
    ],
)
async def test_problems_become_typed_errors(status: int, cls: type[ApiError]) -> None:
    async with client_with(lambda r: problem(status, "some_code", "it broke")) as client:
        with pytest.raises(cls) as caught:
            await client.machine("M-1")
    error = caught.value
    assert type(error) is cls
    assert (error.status, error.code, error.detail, error.title) == (status, "some_code", "it broke", "Some title")
    assert error.problem.status == status


async def test_non_problem_error_body_still_becomes_a_problem() -> None:
    async with client_with(lambda r: httpx.Response(404, text="<html>nope</html>")) as client:
        with pytest.raises(NotFound) as caught:
            await client.node("N-9")
    assert caught.value.title == "Not Found" and caught.value.code is None
    assert caught.value.detail == "<html>nope</html>"  # kept as data, never rendered
    async with client_with(lambda r: httpx.Response(500, json=["not", "an", "object"])) as client:
        with pytest.raises(ServerError) as caught_500:
            await client.cluster()
    assert caught_500.value.title == "Internal Server Error"


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("-3", now=now) is None
    assert parse_retry_after(None) is None


async def test_rate_limited_carries_retry_after() -> None:
    async with client_with(lambda r: problem(429, **{"Retry-After": "3"})) as client:
        with pytest.raises(RateLimited) as caught:
            await client.snapshot()
    assert caught.value.retry_after == 3.0


async def test_token_is_sent_but_never_shown() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return problem(409, "job_running", "no")

    client = client_with(handler, token=TOKEN)
    async with client:
        with pytest.raises(Conflict) as caught:
            await client.send_command("job.pause", "J-1")
    assert seen == [f"Bearer {TOKEN}"]
    assert TOKEN not in repr(client) and TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)
    assert safe_url("https://user:pw@host:8443/x?token=abc") == "https://host:8443/x"


async def test_invalid_or_non_json_answers_are_protocol_errors() -> None:
    async with client_with(lambda r: httpx.Response(200, text="not json")) as client:
        with pytest.raises(ProtocolError):
            await client.whoami()
    async with client_with(lambda r: httpx.Response(200, json={"operator": "a"})) as client:
        with pytest.raises(ProtocolError):
            await client.whoami()


async def test_lists_follow_next_cursor() -> None:
    pages = {None: (["M-1", "M-2"], "c2"), "c2": (["M-3"], None)}
    seen_params: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen_params.append(params)
        ids, next_cursor = pages[params.get("cursor")]
        items = [f.machine(i).model_dump(mode="json") for i in ids]
        return httpx.Response(200, json={"items": items, "next_cursor": next_cursor})

    async with client_with(handler) as client:
        machines = await client.machines(node_id="N-1")
    assert [m.id for m in machines] == ["M-1", "M-2", "M-3"]
    assert all(isinstance(m, Machine) for m in machines)
    assert seen_params[0]["node_id"] == "N-1" and "state" not in seen_params[0]


async def test_looping_cursor_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [], "next_cursor": "same"})

    async with client_with(handler) as client:
        with pytest.raises(ProtocolError):
            await client.nodes()


def ok_result(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"command_id": "cmd-1", "status": "applied", "audit_id": "AU-1"})


async def test_command_sends_fresh_key_and_body() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return ok_result(request)

    async with client_with(handler) as client:
        result = await client.send_command("machine.pause", "M-1", {"mode": "after_job", "reason": "bed check"})
        await client.send_command("machine.pause", "M-1")
        await client.send_command("job.reroute", "J-1", {"machine_id": "M-2", "restart": True})
        await client.send_command("alert.shelve", "A-1", {"until": f.at(60), "note": "later"})
    assert result.status == "applied" and result.audit_id == "AU-1"
    keys = [r.headers["Idempotency-Key"] for r in requests]
    assert len(set(keys)) == 4 and all(uuid.UUID(k) for k in keys)
    assert requests[0].url.path == "/v1/machines/M-1/pause"
    assert json.loads(requests[0].content) == {"mode": "after_job", "reason": "bed check"}
    assert json.loads(requests[2].content) == {"machine_id": "M-2", "restart": True}
    assert json.loads(requests[3].content) == {"until": "2026-11-25T12:01:00Z", "note": "later"}


async def test_reroute_needs_exactly_one_target() -> None:
    async with client_with(ok_result) as client:
        with pytest.raises(ValueError):
            await client.send_command("job.reroute", "J-1")
        with pytest.raises(ValueError):
            await client.send_command("job.reroute", "J-1", {"machine_id": "M-1", "auto": True})


async def test_ids_cannot_change_the_path() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return ok_result(request)

    async with client_with(handler) as client:
        await client.send_command("job.cancel", "../admin?x=1")
    assert paths == ["/v1/jobs/..%2Fadmin%3Fx%3D1/cancel"]


async def test_lost_answer_is_retried_with_the_same_key() -> None:
    keys: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        if len(keys) < 3:
            raise httpx.ReadError("connection reset", request=request)
        return ok_result(request)

    async with client_with(handler, retry_backoff=0.001) as client:
        result = await client.send_command("machine.resume", "M-1")
    assert result.command_id == "cmd-1"
    assert len(keys) == 3 and len(set(keys)) == 1


async def test_answer_lost_for_good_says_so_with_its_key() -> None:
    keys: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        if len(keys) == 1:
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        raise httpx.ConnectError("refused now", request=request)

    async with client_with(handler, retry_backoff=0.001, command_retries=2) as client:
        with pytest.raises(AnswerLost) as caught:
            await client.send_command("alert.ack", "A-1", idempotency_key="fixed-key")
    assert keys == ["fixed-key"] * 3 and caught.value.idempotency_key == "fixed-key"


async def test_connect_failure_fails_at_once() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError("name or service not known", request=request)

    async with client_with(handler) as client:
        with pytest.raises(ConnectionFailed):
            await client.send_command("node.pause", "N-1")
        with pytest.raises(ConnectionFailed):
            await client.snapshot()
    assert calls == [1, 1]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_over_real_loopback() -> None:
    async with ClusterClient(f"http://127.0.0.1:{closed_port()}", timeout=2.0) as client:
        with pytest.raises(ConnectionFailed):
            await client.send_command("job.cancel", "J-1")
        with pytest.raises(ConnectionFailed):
            async for _ in client.events(after=3):
                pass


def sse_response(body: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=body.encode(), headers={"Content-Type": "text/event-stream"})


async def test_events_yield_items_and_never_raise_for_one_bad_event() -> None:
    machine_json = f.machine("M-1").model_dump_json()
    bad_machine = json.loads(machine_json) | {"progress": 7}
    body = (
        ": ka\n\n"
        f"id: 11\nevent: machine.updated\ndata: {machine_json}\n\n"
        f"id: 12\nevent: machine.updated\ndata: {json.dumps(bad_machine)}\n\n"
        "id: 13\nevent: robot.danced\ndata: {}\n\n"
        "id: 14\nevent: job.removed\ndata: not json\n\n"
        'id: x15\nevent: job.removed\ndata: {"id": "J-1"}\n\n'
        'id: 16\nevent: job.removed\ndata: {"id": "J-1"}\n\n'
        'event: reset\ndata: {"seq": 99, "instance_id": "i2"}\n\n'
    )
    seen_request: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_request.append(request)
        return sse_response(body)

    opened: list[bool] = []
    items = []
    async with client_with(handler) as client:
        with pytest.raises(StreamLost):
            async for item in client.events(after=10, on_open=lambda: opened.append(True)):
                items.append(item)
    request = seen_request[0]
    assert request.headers["Last-Event-ID"] == "10" and request.url.params["after"] == "10"
    assert opened == [True]
    assert isinstance(items[0], Event) and items[0].seq == 11 and isinstance(items[0].data, Machine)
    assert isinstance(items[1], MalformedEvent) and items[1].seq == 12 and "progress" in items[1].reason
    assert isinstance(items[2], Event) and (items[2].seq, items[2].type, items[2].data) == (13, "robot.danced", None)
    assert isinstance(items[3], MalformedEvent) and items[3].seq == 14
    assert isinstance(items[4], MalformedEvent) and items[4].seq is None
    assert isinstance(items[5], Event) and items[5].seq == 16
    assert items[6] == Reset(99, "i2")
    assert len(items) == 7


async def test_events_errors_are_typed() -> None:
    async with client_with(lambda r: problem(401)) as client:
        with pytest.raises(Unauthorized):
            async for _ in client.events():
                pass
    async with client_with(lambda r: httpx.Response(200, json={"not": "a stream"})) as client:
        with pytest.raises(ProtocolError):
            async for _ in client.events():
                pass

    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("silence", request=request)

    async with client_with(broken) as client:
        with pytest.raises(StreamLost):
            async for _ in client.events(silence_timeout=0.1):
                pass


async def test_silence_is_a_dead_stream_but_keepalives_count() -> None:
    """Over a real socket: comments keep the stream alive; silence longer than the timeout ends it."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(6):  # 0.6 s of keep-alives, each well inside the 0.4 s silence timeout
            writer.write(b"6\r\n: ka\n\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.1)
        await asyncio.sleep(5)  # then silence
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    async with server, ClusterClient(f"http://127.0.0.1:{port}") as client:
        started = loop.time()
        with pytest.raises(StreamLost, match="no byte"):
            async for _ in client.events(silence_timeout=0.4):
                pass
        elapsed = loop.time() - started
    assert elapsed >= 0.6  # it outlived the keep-alives, so they counted as bytes


async def test_the_snapshot_waits_longer_for_its_first_byte_than_other_reads() -> None:
    """A server may build a big snapshot whole before its first byte (10-22 s at 100,000 machines under load): the
    snapshot's read timeout is ``SNAPSHOT_READ_TIMEOUT_S``, other reads keep the client's ``timeout``."""
    from console.api.client import SNAPSHOT_READ_TIMEOUT_S

    seen: dict[str, dict[str, float | None]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.path] = request.extensions["timeout"]
        if request.url.path == "/v1/snapshot":
            return httpx.Response(200, json={"seq": 1, "cluster": f.cluster(seq=1).model_dump(mode="json")})
        return httpx.Response(200, json=f.cluster(seq=1).model_dump(mode="json"))

    async with client_with(handler, timeout=10.0) as client:
        await client.snapshot()
        await client.cluster()
    assert seen["/v1/snapshot"]["read"] == SNAPSHOT_READ_TIMEOUT_S > 10.0
    assert seen["/v1/snapshot"]["connect"] == 10.0
    assert seen["/v1/cluster"]["read"] == 10.0
