"""Node agents: each serves exactly its node, as a cluster of one node, from the same simulation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.demo_server import read_events


def test_agents_serve_exactly_their_node(live_server: Any) -> None:
    server = live_server(with_agents=True, warmup_s=600)
    assert len(server.agent_urls) == 3
    with httpx.Client(base_url=server.url, timeout=10) as cluster:
        nodes = cluster.get("/v1/nodes").json()["items"]
        assert {n["id"]: n["agent_url"] for n in nodes} == server.agent_urls
        whole = cluster.get("/v1/snapshot").json()
    node_id, url = sorted(server.agent_urls.items())[0]
    with httpx.Client(base_url=url, timeout=10) as agent:
        snap = agent.get("/v1/snapshot").json()
        assert snap["cluster"]["id"] == node_id and snap["cluster"]["region"] == whole["cluster"]["region"]
        assert snap["cluster"]["instance_id"] != whole["cluster"]["instance_id"]
        assert [n["id"] for n in snap["nodes"]] == [node_id]
        machine_ids = {m["id"] for m in snap["machines"]}
        assert machine_ids == {m["id"] for m in whole["machines"] if m["node_id"] == node_id}
        assert {j["id"] for j in snap["jobs"]} == {j["id"] for j in whole["jobs"] if j["node_id"] == node_id}
        for alert in snap["alerts"]:
            src = alert["source"]
            assert (src["kind"], src["id"]) in {("node", node_id)} | {("machine", m) for m in machine_ids} or (
                src["kind"] == "job" and src["id"] in {j["id"] for j in snap["jobs"]}
            )
        for q in snap["quality"]:
            assert (q["scope"], q["id"]) == ("node", node_id) or (q["scope"] == "machine" and q["id"] in machine_ids)
        assert agent.get("/v1/machines", params={"limit": "1000"}).json()["items"] == snap["machines"]
        other = next(m for m in whole["machines"] if m["node_id"] != node_id)
        assert agent.get(f"/v1/machines/{other['id']}").status_code == 404
        r = agent.post(f"/v1/machines/{other['id']}/pause", json={}, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 404
        mine = snap["machines"][0]
        r = agent.post(f"/v1/machines/{mine['id']}/pause", json={}, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 200, r.text

    server.advance(600)
    total = server.call(lambda: server.agent_feed(node_id).seq)
    events = read_events(url, total - snap["seq"], after=snap["seq"])
    assert [e.seq for e in events] == list(range(snap["seq"] + 1, total + 1))
    job_ids = {j["id"] for j in snap["jobs"]}
    for event in events:
        data = event.data
        if event.type == "machine.updated":
            assert data["node_id"] == node_id
        elif event.type == "machine.telemetry":
            assert data["machine_id"] in machine_ids
        elif event.type == "node.updated":
            assert data["id"] == node_id
        elif event.type == "job.updated":
            assert data["node_id"] == node_id
            job_ids.add(data["id"])
        elif event.type == "job.removed":
            assert data["id"] in job_ids
        elif event.type == "quality.updated":
            assert (data["scope"], data["id"]) == ("node", node_id) or data["id"] in machine_ids
        elif event.type == "audit.appended":
            assert data["target"]["id"] in machine_ids | job_ids | {node_id}
        elif event.type == "cluster.updated":
            assert data["id"] == node_id


def test_an_agent_reroute_stays_on_its_node(live_server: Any) -> None:
    server = live_server(with_agents=True, warmup_s=600)
    node_id, url = sorted(server.agent_urls.items())[0]
    with httpx.Client(base_url=url, timeout=10) as agent:
        jobs = agent.get("/v1/jobs", params={"limit": "1000", "status": "queued,assigned"}).json()["items"]
        other_machine = next(m.id for m in server.call(server.sim.machines) if m.node_id != node_id)
        for job in jobs:
            r = agent.post(
                f"/v1/jobs/{job['id']}/reroute", json={"auto": True}, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
            assert r.status_code in (200, 409), r.text
            assert agent.get(f"/v1/jobs/{job['id']}").json()["node_id"] == node_id
        if jobs:
            r = agent.post(
                f"/v1/jobs/{jobs[0]['id']}/reroute",
                json={"machine_id": other_machine},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            assert r.status_code == 422 and r.json()["code"] == "unknown_target"
