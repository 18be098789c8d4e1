"""Commands, problems and auth of the demo server over real loopback HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

PROBLEM = "application/problem+json"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def assert_problem(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["type"] == "about:blank" and body["title"]
    assert "detail" not in body or isinstance(body["detail"], str)
    if code is not None:
        assert body.get("code") == code, body
    return body


@pytest.fixture
def demo(live_server: Any) -> Any:
    return live_server(warmup_s=600)


@pytest.fixture
def client(demo: Any) -> Any:
    with httpx.Client(base_url=demo.url, timeout=10) as c:
        yield c


def first(client: httpx.Client, path: str, **params: str) -> dict:
    return client.get(path, params={"limit": "1000", **params}).json()["items"][0]


def test_problem_details_for_every_kind_of_error(client: httpx.Client) -> None:
    assert_problem(client.get("/v1/no-such-thing"), 404, "not_found")
    assert_problem(client.get("/nowhere"), 404)
    assert_problem(client.get("/v1/machines/NOPE"), 404, "not_found")
    r = client.delete("/v1/machines")
    assert_problem(r, 405, "method_not_allowed")
    assert "GET" in r.headers["allow"]
    assert_problem(client.get("/v1/machines", params={"limit": "zero"}), 422, "validation_error")
    assert_problem(client.get("/v1/machines", params={"limit": "100000"}), 422)
    assert_problem(client.get("/v1/machines", params={"cursor": "garbage!"}), 400, "invalid_cursor")
    machine = first(client, "/v1/machines")
    bad_json = client.post(
        f"/v1/machines/{machine['id']}/pause",
        content=b"{not json",
        headers={**key(), "Content-Type": "application/json"},
    )
    assert_problem(bad_json, 422, "validation_error")
    bad_mode = client.post(f"/v1/machines/{machine['id']}/pause", json={"mode": "later"}, headers=key())
    assert_problem(bad_mode, 422)
    assert_problem(client.post(f"/v1/machines/{machine['id']}/pause", json={}), 400, "idempotency_key_required")
    assert_problem(client.post("/v1/machines/NOPE/pause", json={}, headers=key()), 404)


def test_pause_applies_and_shows_in_audit(demo: Any, client: httpx.Client) -> None:
    machine = first(client, "/v1/machines", state="idle")
    r = client.post(f"/v1/machines/{machine['id']}/pause", json={"reason": "check"}, headers=key())
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["status"] == "applied" and answer["command_id"] and answer["audit_id"]
    assert client.get(f"/v1/machines/{machine['id']}").json()["state"] == "paused"
    audit = client.get("/v1/audit", params={"limit": "1000"}).json()["items"]
    entry = next(e for e in audit if e["id"] == answer["audit_id"])
    assert entry["operator"] == "demo" and entry["action"] == "machine.pause"
    assert entry["target"] == {"kind": "machine", "id": machine["id"]}


def test_same_idempotency_key_twice_acts_once(client: httpx.Client) -> None:
    machine = first(client, "/v1/machines", state="idle")
    headers = key()
    one = client.post(f"/v1/machines/{machine['id']}/pause", json={}, headers=headers)
    two = client.post(f"/v1/machines/{machine['id']}/pause", json={}, headers=headers)
    assert (one.status_code, one.content) == (two.status_code, two.content) == (200, one.content)
    audit = client.get("/v1/audit", params={"limit": "1000"}).json()["items"]
    assert [e["idempotency_key"] for e in audit].count(headers["Idempotency-Key"]) == 1
    other = client.post(f"/v1/machines/{machine['id']}/resume", json={}, headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")
    changed = client.post(f"/v1/machines/{machine['id']}/pause", json={"mode": "after_job"}, headers=headers)
    assert_problem(changed, 422, "idempotency_key_reused")


def test_a_refusal_is_replayed_too(client: httpx.Client) -> None:
    headers = key()
    one = client.post("/v1/jobs/NOPE/cancel", json={}, headers=headers)
    two = client.post("/v1/jobs/NOPE/cancel", json={}, headers=headers)
    assert_problem(one, 404)
    assert two.content == one.content


def test_reroute_to_an_incapable_machine_is_a_conflict(client: httpx.Client) -> None:
    jobs = client.get("/v1/jobs", params={"limit": "1000"}).json()["items"]
    machines = client.get("/v1/machines", params={"limit": "1000"}).json()["items"]
    job = next(j for j in jobs if j["status"] in ("queued", "assigned"))
    incapable = next(m for m in machines if job["process"] not in m["processes"])
    r = client.post(f"/v1/jobs/{job['id']}/reroute", json={"machine_id": incapable["id"]}, headers=key())
    assert_problem(r, 409, "incompatible_process")


def test_commands_on_jobs_and_alerts(demo: Any, client: httpx.Client) -> None:
    job = first(client, "/v1/jobs", status="queued,assigned")
    assert client.post(f"/v1/jobs/{job['id']}/cancel", json={"reason": "test"}, headers=key()).status_code == 200
    alerts = client.get("/v1/alerts", params={"limit": "1000", "state": "active_unacked"}).json()["items"]
    if alerts:
        r = client.post(f"/v1/alerts/{alerts[0]['id']}/ack", json={"note": "seen"}, headers=key())
        assert r.status_code == 200, r.text


TOKENS = ["vera:viewer:v-secret", "otto:operator:o-secret", "sue:supervisor:s-secret"]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_auth_and_roles(live_server: Any) -> None:
    server = live_server(tokens=TOKENS)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        r = client.get("/v1/snapshot")
        assert_problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert_problem(client.get("/v1/snapshot", headers=bearer("wrong")), 401)
        assert_problem(client.get("/v1/nowhere"), 401)
        assert client.get("/openapi.json").status_code == 200  # the contract document is public
        assert client.get("/v1/whoami", headers=bearer("v-secret")).json() == {"operator": "vera", "role": "viewer"}
        machine = client.get("/v1/machines", headers=bearer("v-secret")).json()["items"][0]
        node = client.get("/v1/nodes", headers=bearer("v-secret")).json()["items"][0]
        pause_machine, pause_node = f"/v1/machines/{machine['id']}/pause", f"/v1/nodes/{node['id']}/pause"
        assert_problem(client.post(pause_machine, json={}, headers={**key(), **bearer("v-secret")}), 403, "forbidden")
        assert_problem(client.post(pause_node, json={}, headers={**key(), **bearer("o-secret")}), 403, "forbidden")
        r = client.post(pause_machine, json={}, headers={**key(), **bearer("o-secret")})
        assert r.status_code == 200, r.text
        audit_id = r.json()["audit_id"]
        assert client.post(pause_node, json={}, headers={**key(), **bearer("s-secret")}).status_code == 200
        audit = client.get("/v1/audit", params={"limit": "1000"}, headers=bearer("v-secret")).json()["items"]
        assert next(e for e in audit if e["id"] == audit_id)["operator"] == "otto"
        with client.stream("GET", "/v1/events") as stream:
            assert stream.status_code == 401


def test_audit_is_newest_first_and_pages_stably(client: httpx.Client) -> None:
    machines = client.get("/v1/machines", params={"limit": "3"}).json()["items"]
    answers = [
        client.post(f"/v1/machines/{m['id']}/pause", json={}, headers=key()).json()["audit_id"] for m in machines
    ]
    page = client.get("/v1/audit", params={"limit": "2"}).json()
    assert [e["id"] for e in page["items"]] == answers[::-1][:2]
    client.post(f"/v1/machines/{machines[0]['id']}/resume", json={}, headers=key())  # a new entry meanwhile
    rest = client.get("/v1/audit", params={"limit": "2", "cursor": page["next_cursor"]}).json()
    assert rest["items"][0]["id"] == answers[0]
