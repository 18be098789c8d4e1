"""Servers of one process share their FastAPI app (``console.demo.server.ServedApp``), and each still answers from
its own simulation, feed, tokens and idempotency store, even while they serve at the same time."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.demo_server import test_config


def _get(url: str, path: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url + path, headers=headers, timeout=10)


def test_two_servers_share_the_routes_not_the_state(live_server: Any) -> None:
    small = live_server(config=test_config(seed=1, nodes=2, machines_per_node=2), tokens=["ann:operator:s1"])
    big = live_server(config=test_config(seed=2, nodes=3, machines_per_node=3), with_agents=True)
    assert small.host.server_for(None).app.api is big.host.server_for(None).app.api  # one app for both clusters
    agent_url = next(iter(big.agent_urls.values()))
    assert big.host.server_for(next(iter(big.agent_urls))).app.api is not small.host.server_for(None).app.api

    def read(url: str, token: str | None) -> tuple[int, str, int]:
        answers = [_get(url, "/v1/snapshot", token) for _ in range(5)]
        assert all(a.status_code == 200 for a in answers)
        bodies = [a.json() for a in answers]
        assert len({b["cluster"]["instance_id"] for b in bodies}) == 1
        return answers[0].status_code, bodies[0]["cluster"]["instance_id"], len(bodies[0]["machines"])

    with ThreadPoolExecutor(3) as pool:  # served at the same time, each from its own context
        got_small = pool.submit(read, small.url, "s1")
        got_big = pool.submit(read, big.url, None)
        got_agent = pool.submit(read, agent_url, None)
        (_, small_id, small_machines), (_, big_id, big_machines), (_, agent_id, agent_machines) = (
            got_small.result(),
            got_big.result(),
            got_agent.result(),
        )
    assert (small_machines, big_machines, agent_machines) == (4, 9, 3)
    assert len({small_id, big_id, agent_id}) == 3
    assert small_id == small.feed.instance_id and big_id == big.feed.instance_id

    # Each keeps its own tokens: the small cluster asks for one, the big one is open.
    assert _get(small.url, "/v1/whoami").status_code == 401
    assert _get(small.url, "/v1/whoami", "s1").json()["operator"] == "ann"
    assert _get(big.url, "/v1/whoami").status_code == 200
    # ... and its own idempotency store: the same key on both servers is two commands, not a replay.
    key = str(uuid.uuid4())
    machine_small = small.call(lambda: small.sim.machines()[0].id)
    machine_big = big.call(lambda: big.sim.machines()[0].id)
    first = httpx.post(
        f"{small.url}/v1/machines/{machine_small}/pause",
        json={"reason": "check"},
        headers={"Idempotency-Key": key, "Authorization": "Bearer s1"},
        timeout=10,
    )
    second = httpx.post(
        f"{big.url}/v1/machines/{machine_big}/pause",
        json={"reason": "check"},
        headers={"Idempotency-Key": key},
        timeout=10,
    )
    assert first.status_code == 200 and second.status_code == 200
    assert first.json() != second.json()
