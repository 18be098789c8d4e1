"""Commands under faults: refused at once while the server is down; a lost answer is retried with the same key.

The hostile server counts applications per ``Idempotency-Key``: "applied once" is checked server-side, not guessed.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from console.api.client import ClusterClient
from console.api.errors import AnswerLost, Conflict, ConnectionFailed, RateLimited, ServerError, ServiceUnavailable
from tests.faults.harness import assert_inert
from tests.faults.hostile_server import HostileServer, Reply

Call = Callable[[ClusterClient], Awaitable[Any]]

COMMANDS: dict[str, tuple[str, Call]] = {
    "pause-machine": (
        "/v1/machines/M-101/pause",
        lambda c: c.send_command("machine.pause", "M-101", {"mode": "after_job", "reason": "r"}),
    ),
    "resume-machine": ("/v1/machines/M-101/resume", lambda c: c.send_command("machine.resume", "M-101")),
    "ready-machine": ("/v1/machines/M-101/ready", lambda c: c.send_command("machine.ready", "M-101")),
    "pause-node": ("/v1/nodes/N-1/pause", lambda c: c.send_command("node.pause", "N-1", {"reason": "drain"})),
    "resume-node": ("/v1/nodes/N-1/resume", lambda c: c.send_command("node.resume", "N-1")),
    "pause-job": ("/v1/jobs/J-101/pause", lambda c: c.send_command("job.pause", "J-101")),
    "resume-job": ("/v1/jobs/J-101/resume", lambda c: c.send_command("job.resume", "J-101")),
    "cancel-job": ("/v1/jobs/J-101/cancel", lambda c: c.send_command("job.cancel", "J-101", {"reason": "scrap"})),
    "reroute-job": (
        "/v1/jobs/J-101/reroute",
        lambda c: c.send_command("job.reroute", "J-101", {"machine_id": "M-102"}),
    ),
    "ack-alert": ("/v1/alerts/A-1/ack", lambda c: c.send_command("alert.ack", "A-1", {"note": "seen"})),
    "shelve-alert": ("/v1/alerts/A-1/shelve", lambda c: c.send_command("alert.shelve", "A-1", {"note": "later"})),
    "unshelve-alert": ("/v1/alerts/A-1/unshelve", lambda c: c.send_command("alert.unshelve", "A-1")),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
async def test_command_while_down_fails_at_once(command: tuple[str, Call]) -> None:
    """Connection refused: ConnectionFailed saying the command was not sent, with no retry delay behind it."""
    _, call = command
    client = ClusterClient(f"http://127.0.0.1:{free_port()}", retry_backoff=30.0)
    try:
        async with asyncio.timeout(5):  # a retry would sleep 30 s: failing inside 5 s proves there was none
            with pytest.raises(ConnectionFailed, match="not sent"):
                await call(client)
    finally:
        await client.aclose()


async def test_command_to_unresolvable_host_fails_at_once() -> None:
    client = ClusterClient("http://no-such-host.invalid:8080", retry_backoff=30.0)
    try:
        async with asyncio.timeout(10):
            with pytest.raises(ConnectionFailed):
                await client.send_command("machine.pause", "M-101")
    finally:
        await client.aclose()


LOSSES = ["close", "reset", "half", "slow:0.6"]
SAMPLED = ["pause-machine", "reroute-job", "ack-alert", "pause-node", "cancel-job"]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", SAMPLED)
async def test_lost_answer_is_retried_with_the_same_key_and_applied_once(hostile: Any, name: str, loss: str) -> None:
    server: HostileServer = await hostile()
    path, call = COMMANDS[name]
    server.drop_next_answers(loss)
    client = ClusterClient(server.url, timeout=0.3, retry_backoff=0.01)
    try:
        result = await call(client)
    finally:
        await client.aclose()
    assert result.status == "applied"
    sent = [key for p, key in server.command_keys if p == path]
    assert len(sent) == 2 and sent[0] == sent[1] and sent[0]
    assert server.applications[sent[0]] == 1


@pytest.mark.parametrize("loss", LOSSES)
async def test_answer_lost_every_time_says_it_may_have_happened(hostile: Any, loss: str) -> None:
    server: HostileServer = await hostile()
    server.drop_next_answers(*[loss] * 4)
    client = ClusterClient(server.url, timeout=0.3, retry_backoff=0.01, command_retries=3)
    try:
        with pytest.raises(AnswerLost) as caught:
            await client.send_command("machine.pause", "M-101")
    finally:
        await client.aclose()
    keys = {key for _, key in server.command_keys}
    assert keys == {caught.value.idempotency_key}
    assert server.applications[caught.value.idempotency_key] == 1
    assert "may or may not" in str(caught.value)


async def test_two_commands_get_two_keys(hostile: Any) -> None:
    server: HostileServer = await hostile()
    async with ClusterClient(server.url) as client:
        await client.send_command("machine.pause", "M-101")
        await client.send_command("machine.pause", "M-101")
    assert len(server.applications) == 2 and set(server.applications.values()) == {1}


STATUS_ERRORS = {500: ServerError, 502: ServerError, 503: ServiceUnavailable, 429: RateLimited}


@pytest.mark.parametrize("retry_after", [None, "7"], ids=["no-retry-after", "retry-after"])
@pytest.mark.parametrize("status", STATUS_ERRORS)
async def test_command_refused_by_status_is_not_repeated(hostile: Any, status: int, retry_after: str | None) -> None:
    """An error answer is an answer: typed, with Retry-After, and the command is not sent again behind our back."""
    server: HostileServer = await hostile()
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    server.fail("/v1/machines/M-101/pause", Reply(status, headers))
    async with ClusterClient(server.url, retry_backoff=0.01) as client:
        with pytest.raises(STATUS_ERRORS[status]) as caught:
            await client.send_command("machine.pause", "M-101")
    assert caught.value.retry_after == (None if retry_after is None else 7.0)
    assert len([r for r in server.requests if r.method == "POST"]) == 1 and not server.applications


async def test_conflict_with_hostile_detail_is_kept_as_data(hostile: Any) -> None:
    server: HostileServer = await hostile()
    detail = "[link=https://evil.example]\x1b]52;c;ZWNobyBoaQ==\x07 M-07 has \u202ePLA\u202c[/link]"
    body = (
        '{"type": "about:blank", "title": "Conflict", "status": 409, "code": "incompatible_material", '
        f'"detail": {json.dumps(detail)}}}'
    ).encode()
    server.fail("/v1/jobs/J-101/reroute", Reply(409, {"Content-Type": "application/problem+json"}, body))
    async with ClusterClient(server.url) as client:
        with pytest.raises(Conflict) as caught:
            await client.send_command("job.reroute", "J-101", {"machine_id": "M-102"})
    assert caught.value.detail == detail and caught.value.code == "incompatible_material"
    assert_inert(str(caught.value))
