"""The demo server's read endpoints over real loopback HTTP: every endpoint, paging, snapshot consistency, gzip."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest

from console.api.models import Alert, AuditEntry, Cluster, Job, Machine, Node, Quality, RerouteCandidate, Snapshot
from tests.demo_server import read_events


@pytest.fixture(scope="module")
def demo() -> Any:
    """One warmed-up server shared by the read-only tests of this module (they do not change it)."""
    from tests.demo_server import start_test_server

    server = start_test_server(warmup_s=1800)
    yield server
    server.stop()


@pytest.fixture
def client(demo: Any) -> Any:
    with httpx.Client(base_url=demo.url, timeout=10) as c:
        yield c


def walk(client: httpx.Client, path: str, limit: int, **params: str) -> list[dict]:
    """Every item of a paged list, page by page."""
    items: list[dict] = []
    cursor = None
    for _ in range(1000):
        query = {"limit": str(limit), **params, **({"cursor": cursor} if cursor else {})}
        r = client.get(path, params=query)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("paging never ended")


def test_whoami_and_cluster(client: httpx.Client, demo: Any) -> None:
    assert client.get("/v1/whoami").json() == {"operator": "demo", "role": "supervisor"}
    cluster = Cluster.model_validate(client.get("/v1/cluster").json())
    assert cluster.instance_id == demo.feed.instance_id
    assert cluster.seq == demo.call(lambda: demo.feed.seq)


def test_snapshot_has_everything(client: httpx.Client) -> None:
    snap = Snapshot.model_validate(client.get("/v1/snapshot").json())
    assert snap.cluster.seq == snap.seq
    assert len(snap.nodes) == 3 and snap.machines and snap.jobs and snap.quality
    node_ids = {n.id for n in snap.nodes}
    assert all(m.node_id in node_ids for m in snap.machines)
    assert all(a.state != "resolved" for a in snap.alerts)


def test_nodes_machines_jobs_alerts_lists_and_items(client: httpx.Client) -> None:
    snap = client.get("/v1/snapshot").json()
    for path, key, model in (
        ("/v1/nodes", "nodes", Node),
        ("/v1/machines", "machines", Machine),
        ("/v1/jobs", "jobs", Job),
        ("/v1/alerts", "alerts", Alert),
    ):
        items = walk(client, path, limit=4)
        assert sorted(i["id"] for i in items) == sorted(o["id"] for o in snap[key]), path
        assert len({i["id"] for i in items}) == len(items), f"{path}: an item twice"
        for item in items[:3]:
            got = client.get(f"{path}/{item['id']}")
            assert got.status_code == 200
            assert model.model_validate(got.json()).id == item["id"]
        assert client.get(f"{path}/NOPE-404").status_code == 404


def test_list_filters(client: httpx.Client) -> None:
    machines = walk(client, "/v1/machines", limit=1000)
    node_id = machines[0]["node_id"]
    on_node = walk(client, "/v1/machines", limit=1000, node_id=node_id)
    assert on_node and {m["node_id"] for m in on_node} == {node_id}
    assert len(on_node) == sum(m["node_id"] == node_id for m in machines)
    state = machines[0]["state"]
    in_state = walk(client, "/v1/machines", limit=1000, state=state)
    assert in_state and {m["state"] for m in in_state} == {state}
    jobs = walk(client, "/v1/jobs", limit=1000)
    status = jobs[0]["status"]
    assert {j["status"] for j in walk(client, "/v1/jobs", limit=1000, status=status)} == {status}
    placed = next(j for j in jobs if j["machine_id"])
    by_machine = walk(client, "/v1/jobs", limit=1000, machine_id=placed["machine_id"])
    assert placed["id"] in {j["id"] for j in by_machine} and {j["machine_id"] for j in by_machine} == {
        placed["machine_id"]
    }
    assert {j["node_id"] for j in walk(client, "/v1/jobs", limit=1000, node_id=node_id)} <= {node_id}
    alerts = walk(client, "/v1/alerts", limit=1000)
    if alerts:
        state = alerts[0]["state"]
        assert {a["state"] for a in walk(client, "/v1/alerts", limit=1000, state=state)} == {state}


def test_quality_scopes(client: httpx.Client) -> None:
    snap = client.get("/v1/snapshot").json()
    cluster = Quality.model_validate(client.get("/v1/quality", params={"scope": "cluster"}).json())
    assert cluster.scope == "cluster"
    node_id = snap["nodes"][0]["id"]
    node_q = client.get("/v1/quality", params={"scope": "node", "id": node_id}).json()
    assert (node_q["scope"], node_q["id"]) == ("node", node_id)
    machine_q = next(q for q in snap["quality"] if q["scope"] == "machine")
    got = client.get("/v1/quality", params={"scope": "machine", "id": machine_q["id"]}).json()
    assert got["id"] == machine_q["id"]
    assert client.get("/v1/quality", params={"scope": "node"}).status_code == 422
    assert client.get("/v1/quality", params={"scope": "galaxy"}).status_code == 422
    assert client.get("/v1/quality", params={"scope": "node", "id": "NOPE"}).status_code == 404


def test_reroute_candidates(client: httpx.Client) -> None:
    jobs = walk(client, "/v1/jobs", limit=1000)
    job = next(j for j in jobs if j["status"] in ("queued", "assigned"))
    r = client.get(f"/v1/jobs/{job['id']}/reroute-candidates")
    assert r.status_code == 200
    candidates = [RerouteCandidate.model_validate(c) for c in r.json()]
    assert candidates
    assert client.get("/v1/jobs/NOPE/reroute-candidates").status_code == 404


def test_audit_is_paged(demo: Any, client: httpx.Client) -> None:
    entries = walk(client, "/v1/audit", limit=2)
    for entry in entries:
        AuditEntry.model_validate(entry)
    assert len({e["id"] for e in entries}) == len(entries)


def test_openapi_document(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for path in (
        "/v1/whoami",
        "/v1/snapshot",
        "/v1/machines/{machine_id}",
        "/v1/jobs/{job_id}/reroute-candidates",
        "/v1/events",
        "/v1/machines/{target_id}/pause",
        "/v1/alerts/{target_id}/shelve",
    ):
        assert path in paths, path


def test_snapshot_is_gzipped_when_asked(client: httpx.Client) -> None:
    raw = client.get("/v1/snapshot", headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    plain = client.get("/v1/snapshot", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    with client.stream("GET", "/v1/snapshot", headers={"Accept-Encoding": "gzip"}) as r:
        body = b"".join(r.iter_raw())
    assert Snapshot.model_validate_json(gzip.decompress(body)).seq >= 0


def test_snapshot_then_events_reproduce_the_state(live_server: Any) -> None:
    server = live_server(warmup_s=600)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        before = client.get("/v1/snapshot").json()
        server.advance(900)
        target = server.call(lambda: server.feed.seq)
        assert target > before["seq"]
        events = read_events(server.url, target - before["seq"], after=before["seq"])
        after = client.get("/v1/snapshot").json()
    assert [e.seq for e in events] == list(range(before["seq"] + 1, target + 1))
    assert after["seq"] == target
    state = {key: {o["id"]: o for o in before[key]} for key in ("nodes", "machines", "jobs", "alerts")}
    for event in events:
        apply_event(state, event.type, event.data)
    for key, fields in (
        ("nodes", ("state",)),
        ("machines", ("state", "job_id", "paused_by", "draining", "fault_code")),
        ("jobs", ("status", "node_id", "machine_id", "done_qty", "scrap_qty")),
        ("alerts", ("state", "count", "acked_by")),
    ):
        want = {o["id"]: tuple(o[f] for f in fields) for o in after[key]}
        got = {i: tuple(o[f] for f in fields) for i, o in state[key].items()}
        assert got == want, key


def apply_event(state: dict[str, dict[str, Any]], type_: str, data: Any) -> None:
    """A minimal store: what a client does with each event type."""
    if type_ == "node.updated":
        state["nodes"][data["id"]] = data
    elif type_ == "machine.updated":
        state["machines"][data["id"]] = data
    elif type_ == "job.updated":
        state["jobs"][data["id"]] = data
    elif type_ == "job.removed":
        state["jobs"].pop(data["id"], None)
    elif type_ in ("alert.raised", "alert.updated"):
        if data["state"] == "resolved":
            state["alerts"].pop(data["id"], None)
        else:
            state["alerts"][data["id"]] = data
