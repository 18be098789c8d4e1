"""The runner: ``serve_demo`` with agents in one loop, and ``run_demo_server`` stopping cleanly on a signal."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.demo.runner import DemoHost
from console.demo.standalone import serve_demo
from tests.demo_server import test_config

REPO = Path(__file__).resolve().parents[2]


async def test_serve_demo_runs_a_cluster_api_and_agents_in_one_loop() -> None:
    hosts: list[DemoHost] = []
    task = asyncio.create_task(
        serve_demo("127.0.0.1", 0, test_config(), with_agents=True, ready=hosts.append, log_level="warning")
    )
    for _ in range(500):
        if hosts or task.done():
            break
        await asyncio.sleep(0.01)
    assert hosts, task.exception() if task.done() else "not started"
    host = hosts[0]
    cluster_url = host.server_for(None).url
    async with httpx.AsyncClient(timeout=5) as client:
        nodes = (await client.get(f"{cluster_url}/v1/nodes")).json()["items"]
        assert len(nodes) == 3 and all(n["agent_url"] for n in nodes)
        agent = (await client.get(f"{nodes[0]['agent_url']}/v1/cluster")).json()
        assert agent["id"] == nodes[0]["id"]
    host.request_stop()
    await asyncio.wait_for(task, 10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_run_demo_server_exits_cleanly_on_a_signal(sig: int) -> None:
    port = free_port()
    code = (
        "from console.demo.standalone import run_demo_server\n"
        "from tests.demo_server import test_config\n"
        f"run_demo_server(port={port}, config=test_config(), tokens=[('ann', 'viewer', 'pw')])\n"
        "print('bye')\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/whoami", headers={"Authorization": "Bearer pw"}, timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.1)
        else:
            pytest.fail("the demo server did not start")
        assert r.json() == {"operator": "ann", "role": "viewer"}
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "bye" in out
    assert f"cluster API at http://127.0.0.1:{port}" in err


def parse(spec: str) -> Any:
    from console.demo.runner import parse_token

    return parse_token(spec)


def test_parse_token_is_exposed_by_the_runner() -> None:
    assert parse("a:supervisor:x") == ("a", "supervisor", "x")
    with pytest.raises(ValueError, match="NAME:ROLE:SECRET"):
        parse("nope")
