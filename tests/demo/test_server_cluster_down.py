"""Taking the cluster API down and bringing it back while the node agents keep serving (``set_cluster_down``)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from tests.demo_server import read_events


def test_down_refuses_connections_while_agents_serve_then_resume_loses_nothing(live_server: Any) -> None:
    server = live_server(with_agents=True, warmup_s=60)
    node_id, agent_url = sorted(server.agent_urls.items())[0]
    with httpx.Client(timeout=5) as client:
        seen = client.get(f"{server.url}/v1/snapshot").json()["seq"]
    assert not server.cluster_down

    server.set_cluster_down(True)
    assert server.cluster_down
    server.set_cluster_down(True)  # idempotent
    with httpx.Client(timeout=5) as client:
        with pytest.raises(httpx.ConnectError):
            client.get(f"{server.url}/v1/cluster")
        assert client.get(f"{agent_url}/v1/cluster").json()["id"] == node_id

    server.advance(300)  # the world moves on while the API is down; the cluster feed keeps numbering
    missed = server.call(lambda: server.feed.seq) - seen
    assert missed > 0

    server.set_cluster_down(False)
    assert not server.cluster_down
    events = read_events(server.url, missed, last_event_id=seen)
    assert [e.seq for e in events] == list(range(seen + 1, seen + missed + 1))
    with httpx.Client(timeout=5) as client:
        assert client.get(f"{server.url}/v1/snapshot").json()["seq"] == seen + missed


def test_down_cuts_an_open_stream(live_server: Any) -> None:
    server = live_server(with_agents=True, warmup_s=60)
    ended = threading.Event()
    errors: list[BaseException] = []

    def listen() -> None:
        try:
            read_events(server.url, 10**6, timeout_s=20)  # returns when the server ends the stream
        except httpx.HTTPError as error:  # a cut mid-chunk is an error for the client: also fine
            errors.append(error)
        finally:
            ended.set()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    deadline = 50
    while server.call(lambda: len(server.host.server_for(None).app.state.ctx.hub)) == 0 and deadline:
        ended.wait(0.1)
        deadline -= 1
    assert deadline, "the stream never opened"
    server.set_cluster_down(True)
    assert ended.wait(10), "the open stream was not cut"
    server.set_cluster_down(False)
    with httpx.Client(timeout=5) as client:
        assert client.get(f"{server.url}/v1/whoami").status_code == 200
