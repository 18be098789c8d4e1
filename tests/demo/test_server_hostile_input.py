"""What a request may carry: text that is not Unicode, bodies and strings too big (real loopback HTTP).

A lone surrogate (``"\\ud800"`` in JSON) once went into the simulation, failed to publish (500), and left
``GET /v1/audit`` answering 500 until a restart; a 10 MB note was kept and sent to every console. Now the edge
refuses both, the simulation refuses text it could not publish, and the feed publishes whatever it is given.
"""

from __future__ import annotations

import json
import socket
import uuid
from typing import Any

import httpx
import pytest

from console.api.models import Alert, AuditEntry, SourceRef
from console.demo.limits import MAX_BODY_BYTES, MAX_TEXT_CHARS
from console.demo.sim.errors import SimCommandError
from tests.demo_server import read_events

PROBLEM = "application/problem+json"


def key() -> str:
    return str(uuid.uuid4())


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["type"] == "about:blank" and body["title"] and body["status"] == status
    assert body["code"] == code, body
    return body


@pytest.fixture
def demo(live_server: Any) -> Any:
    return live_server(warmup_s=1800)  # long enough for alerts and assigned jobs


@pytest.fixture
def client(demo: Any) -> Any:
    with httpx.Client(base_url=demo.url, timeout=10) as c:
        yield c


def idle_machine(client: httpx.Client) -> dict[str, Any]:
    items = client.get("/v1/machines", params={"state": "idle", "limit": "1000"}).json()["items"]
    return items[0]


def post_raw(client: httpx.Client, path: str, body: bytes, idem: str | None = None, **headers: str) -> httpx.Response:
    all_headers = {"Idempotency-Key": idem or key(), "Content-Type": "application/json", **headers}
    return client.post(path, content=body, headers=all_headers)


def assert_still_serving(demo: Any, client: httpx.Client) -> None:
    """Audit, snapshot and the event stream all answer after the attempt (the bug: audit was 500 until restart)."""
    assert client.get("/v1/audit").status_code == 200
    snapshot = client.get("/v1/snapshot")
    assert snapshot.status_code == 200
    seq = snapshot.json()["seq"]
    machine = idle_machine(client)
    r = client.post(
        f"/v1/machines/{machine['id']}/pause", json={"reason": "after the attempt"}, headers={"Idempotency-Key": key()}
    )
    assert r.status_code == 200, r.text
    published = client.get("/v1/snapshot").json()["seq"] - seq  # no clock tick in between: only the command's
    events = read_events(demo.url, published, after=seq, timeout_s=5)
    assert len(events) == published
    assert any(e.type == "audit.appended" and e.data["reason"] == "after the attempt" for e in events), events


# Every place a string can be in a command body: known fields of every body model, and fields no model knows.
SURROGATE_BODIES = [
    pytest.param("machine", "pause", b'{"reason": "\\ud800"}', id="pause-reason"),
    pytest.param("machine", "pause", b'{"reason": "ok", "mode": "\\udfff"}', id="pause-mode"),
    pytest.param("machine", "resume", b'{"reason": "a\\udc00b"}', id="resume-reason"),
    pytest.param("job", "reroute", b'{"machine_id": "\\ud83d"}', id="reroute-machine"),
    pytest.param("job", "reroute", b'{"node_id": "N\\ud800", "reason": "x"}', id="reroute-node"),
    pytest.param("alert", "ack", b'{"note": "\\ud800"}', id="ack-note"),
    pytest.param("alert", "shelve", b'{"note": "\\udbff", "until": "2026-11-25T09:00:00Z"}', id="shelve-note"),
    pytest.param("alert", "shelve", b'{"until": "\\ud800"}', id="shelve-until"),
    pytest.param("machine", "pause", b'{"extra": {"deep": ["\\ud800"]}}', id="unknown-field-value"),
    pytest.param("machine", "pause", b'{"\\ud800": 1}', id="unknown-field-key"),
    pytest.param("machine", "pause", b'{"reason": "\xed\xa0\x80"}', id="raw-surrogate-bytes"),
    pytest.param("machine", "pause", b'{"reason": "\xff"}', id="not-utf8"),
    pytest.param("machine", "pause", '{"reason": "\\ud800"}'.encode("utf-16-le"), id="utf16-body"),  # not JSON
    pytest.param("machine", "pause", b'\xef\xbb\xbf{"reason": "\\ud800"}', id="bom-then-surrogate"),
]


def target_of(client: httpx.Client, kind: str) -> str:
    if kind == "machine":
        return idle_machine(client)["id"]
    if kind == "job":
        return client.get("/v1/jobs", params={"status": "queued,assigned", "limit": "1000"}).json()["items"][0]["id"]
    return client.get("/v1/alerts", params={"limit": "1000"}).json()["items"][0]["id"]


@pytest.mark.parametrize(("kind", "verb", "body"), SURROGATE_BODIES)
def test_text_that_is_not_unicode_is_refused_at_the_edge(
    demo: Any, client: httpx.Client, kind: str, verb: str, body: bytes
) -> None:
    target = target_of(client, kind)
    before = client.get(f"/v1/{kind}s/{target}").json()
    audit_before = client.get("/v1/audit").json()["items"]
    idem = key()
    code = "validation_error" if b"\x00" in body else "invalid_text"  # UTF-16 is valid UTF-8, but not JSON
    assert_problem(post_raw(client, f"/v1/{kind}s/{target}/{verb}", body, idem), 422, code)
    # Nothing happened: the target, the audit log; and the key is not used up (a corrected retry works).
    assert client.get(f"/v1/{kind}s/{target}").json() == before
    assert client.get("/v1/audit").json()["items"] == audit_before
    if verb == "pause":
        retry = post_raw(client, f"/v1/machines/{target}/{verb}", b'{"reason": "fixed"}', idem)
        assert retry.status_code == 200, retry.text
    assert_still_serving(demo, client)


def test_a_lone_surrogate_is_refused_by_the_simulation_before_anything_changes(demo: Any, client: httpx.Client) -> None:
    """Below the edge too: a command whose effects could not be published is never applied (nor audited)."""
    machine = idle_machine(client)
    audit_before = client.get("/v1/audit").json()["items"]

    def attempt(**kwargs: Any) -> SimCommandError:
        with pytest.raises(SimCommandError) as err:
            demo.call(lambda: demo.sim.execute("machine.pause", machine["id"], **kwargs))
        return err.value

    for kwargs in (
        {"body": {"reason": "\ud800"}, "operator": "demo"},
        {"body": {}, "operator": "al\udcffice"},  # a token name from a command line that was not UTF-8
        {"body": {}, "operator": "demo", "idempotency_key": "\udc80"},
    ):
        error = attempt(**kwargs)
        assert error.status == 422 and error.code == "invalid_text" and error.audit is None
    assert client.get(f"/v1/machines/{machine['id']}").json()["state"] == "idle"
    assert client.get("/v1/audit").json()["items"] == audit_before
    assert_still_serving(demo, client)


def test_the_feed_publishes_an_effect_whose_text_cannot_be_encoded(demo: Any, client: httpx.Client) -> None:
    """The publishing path itself: an event holding a lone surrogate is published (U+FFFD in its place), folded
    and served, so neither the stream nor the reads break (before: the publish raised, mid-command)."""
    alert = client.get("/v1/alerts").json()["items"][0]
    seq = client.get("/v1/snapshot").json()["seq"]

    def publish() -> None:
        model = Alert.model_validate(alert)
        demo.feed.publish("alert.updated", model.model_copy(update={"message": "bad \ud800 text"}))
        entry = AuditEntry(
            id="AU-999999",
            at=model.updated_at,
            operator="x\udcff",
            action="machine.pause",
            target=SourceRef(kind="machine", id="M"),
            outcome="applied",
        )
        demo.feed.publish("audit.appended", entry)

    demo.call(publish)
    assert client.get(f"/v1/alerts/{alert['id']}").json()["message"] == "bad \ufffd text"
    events = read_events(demo.url, 2, after=seq, timeout_s=3)
    assert [e.type for e in events] == ["alert.updated", "audit.appended"]
    assert events[0].data["message"] == "bad \ufffd text" and events[1].data["operator"] == "x\ufffd"
    assert_still_serving(demo, client)


def test_reasons_and_notes_have_a_maximum_length(client: httpx.Client) -> None:
    machine = idle_machine(client)
    path = f"/v1/machines/{machine['id']}/pause"
    long = client.post(path, json={"reason": "x" * (MAX_TEXT_CHARS + 1)}, headers={"Idempotency-Key": key()})
    body = assert_problem(long, 422, "text_too_long")
    assert body["max_length"] == MAX_TEXT_CHARS and "body.reason" in body["detail"]
    alert = client.get("/v1/alerts").json()["items"][0]
    note = client.post(f"/v1/alerts/{alert['id']}/ack", json={"note": "é" * 5000}, headers={"Idempotency-Key": key()})
    assert_problem(note, 422, "text_too_long")
    # Characters, not bytes: the maximum of 4-byte characters is accepted.
    ok = client.post(path, json={"reason": "😀" * MAX_TEXT_CHARS}, headers={"Idempotency-Key": key()})
    assert ok.status_code == 200, ok.text


def test_a_body_over_the_limit_is_413(client: httpx.Client) -> None:
    machine = idle_machine(client)
    path = f"/v1/machines/{machine['id']}/pause"
    big = json.dumps({"reason": "ok", "padding": "x" * MAX_BODY_BYTES}).encode()
    body = assert_problem(post_raw(client, path, big), 413, "body_too_large")
    assert body["max_bytes"] == MAX_BODY_BYTES
    # The same connection goes on working, and nothing was paused.
    assert client.get(f"/v1/machines/{machine['id']}").json()["state"] == "idle"
    assert client.post(path, json={}, headers={"Idempotency-Key": key()}).status_code == 200


def raw_request(url: str, head: bytes, body_parts: list[bytes]) -> tuple[int, dict[str, Any]]:
    """Send ``head`` and ``body_parts`` on a socket (not necessarily a whole body), read one answer: status, JSON."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
        headers, _, rest = data.partition(b"\r\n\r\n")
        length = int(
            next(
                line.split(b":", 1)[1] for line in headers.split(b"\r\n") if line.lower().startswith(b"content-length")
            )
        )
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, rest
            rest += chunk
    return int(headers.split(b" ", 2)[1]), json.loads(rest[:length])


def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read(demo: Any, client: httpx.Client) -> None:
    """Content-Length says 10 MB and only 10 bytes come: the answer comes anyway (the body is never awaited)."""
    machine = idle_machine(client)
    head = (
        f"POST /v1/machines/{machine['id']}/pause HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: {key()}\r\nContent-Length: {10 * 1024 * 1024}\r\n\r\n"
    ).encode()
    status, body = raw_request(demo.url, head, [b'{"note": "'])
    assert status == 413 and body["code"] == "body_too_large"
    assert client.get(f"/v1/machines/{machine['id']}").json()["state"] == "idle"


def test_a_chunked_body_is_cut_off_at_the_limit(demo: Any, client: httpx.Client) -> None:
    """No Content-Length: the body is read up to the limit and refused there, before the client has finished."""
    machine = idle_machine(client)
    head = (
        f"POST /v1/machines/{machine['id']}/pause HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: {key()}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece = b"x" * 16384
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(MAX_BODY_BYTES // len(piece) + 1)]
    status, body = raw_request(demo.url, head, [b'b\r\n{"note": "x\r\n', *chunks])  # and no last chunk, ever
    assert status == 413 and body["code"] == "body_too_large"
    assert client.get(f"/v1/machines/{machine['id']}").json()["state"] == "idle"


def test_a_small_chunked_body_is_accepted(demo: Any, client: httpx.Client) -> None:
    machine = idle_machine(client)

    def chunks() -> Any:
        yield b'{"reason": '
        yield b'"chunked"}'

    r = client.post(
        f"/v1/machines/{machine['id']}/pause",
        content=chunks(),
        headers={"Idempotency-Key": key(), "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    audit = client.get("/v1/audit").json()["items"]
    assert audit[0]["reason"] == "chunked"


def test_an_over_long_idempotency_key_is_a_problem_with_a_code(client: httpx.Client) -> None:
    machine = idle_machine(client)
    r = client.post(f"/v1/machines/{machine['id']}/pause", json={}, headers={"Idempotency-Key": "k" * 256})
    assert_problem(r, 400, "idempotency_key_too_long")


def test_a_body_that_is_not_json_is_422_and_deep_nesting_does_not_crash(client: httpx.Client) -> None:
    machine = idle_machine(client)
    path = f"/v1/machines/{machine['id']}/pause"
    assert_problem(post_raw(client, path, b"{not json"), 422, "validation_error")
    assert_problem(post_raw(client, path, b"[" * 30000), 422, "validation_error")
    assert_problem(post_raw(client, path, b"1" * 5000), 422, "validation_error")


def test_every_error_names_its_code(client: httpx.Client) -> None:
    for r in (
        client.get("/v1/quality", params={"scope": "galaxy"}),
        client.get("/v1/machines", params={"cursor": "garbage!"}),
        client.get("/v1/machines", params={"cursor": "Zm9v"}),
        client.get("/v1/events", headers={"Last-Event-ID": "soon"}),
    ):
        body = r.json()
        assert r.headers["content-type"].startswith(PROBLEM)
        assert {"type", "title", "status", "code"} <= body.keys() and body["code"], body
    assert client.get("/v1/machines", params={"cursor": "garbage!"}).json()["code"] == "invalid_cursor"
    assert client.get("/v1/quality", params={"scope": "galaxy"}).status_code == 422
