"""Fuzz the demo server from its own OpenAPI document (schemathesis, real loopback HTTP).

Every operation of ``GET /openapi.json`` gets generated requests, valid and invalid (schemathesis' examples, coverage
and fuzzing phases), and every answer must be documented: no 5xx, a status listed for the operation, its media
type, a body that matches the listed schema; a request that breaks the schema is refused (4xx) and one that keeps to
it is not refused for its data. Two servers: one open (as the demo runs) and one with tokens, where each request
goes as nobody, a stranger, a viewer, an operator or a supervisor, so 401 and 403 are answered too.

Bounded and repeatable: a fixed seed, derandomised hypothesis, no example database, a few examples per operation
(the whole file takes about a minute on two cores). ``FUZZ_EXAMPLES=N`` and ``FUZZ_SEED=S`` run more, or
others, for a hunt.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from console.demo.command_routes import MAX_KEY_LENGTH
from console.demo.limits import MAX_BODY_BYTES
from tests.demo_server import start_test_server

pytestmark = pytest.mark.fuzz  # make fuzz (CI runs it after make test), not make test: see the Makefile

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("FUZZ_SEED", "20261202"))

TOKENS = ["vera:viewer:viewer-secret", "otto:operator:operator-secret", "sue:supervisor:supervisor-secret"]
CALLERS = [None, "not-a-known-secret", "viewer-secret", "operator-secret", "supervisor-secret"]
"""Who sends a request to the server with tokens: nobody (401), a stranger (401), each role (403 where it may not)."""

EVENTS_TIMEOUT_S = 1.5
"""How long one request to the event stream is read (it never ends by itself; keep-alives come every 0.1 s). It is
also the time a refusal (422) has to come, so not shorter: a loaded CI machine must not make it flaky."""

EVENTS_EXAMPLES = max(1, MAX_EXAMPLES // 3)
"""Fewer for the event stream: most of its requests are read for :data:`EVENTS_TIMEOUT_S`."""

# max_examples is in the schemathesis config (per operation), not here: a @settings value would override it.
FUZZ_SETTINGS = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "deterministic": True, "database": "none", "max-examples": MAX_EXAMPLES},
            "phases": {"stateful": {"enabled": False}},
            "operations": [
                {
                    "include-path": "/v1/events",
                    "request-timeout": EVENTS_TIMEOUT_S,
                    "max-stream-events": 1,
                    "generation": {"max-examples": EVENTS_EXAMPLES},
                },
            ],
        }
    )


def _server(**options: Any) -> Iterator[Any]:
    # Warmed up: alerts raised, jobs assigned and running, so commands meet every kind of target.
    server = start_test_server(warmup_s=1800, keepalive_s=0.1, **options)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def open_demo() -> Iterator[Any]:
    yield from _server()


@pytest.fixture(scope="module")
def token_demo() -> Iterator[Any]:
    yield from _server(tokens=TOKENS)


@pytest.fixture
def open_api(open_demo: Any) -> Any:
    return schemathesis.openapi.from_url(f"{open_demo.url}/openapi.json", config=_config())


@pytest.fixture
def token_api(token_demo: Any) -> Any:
    return schemathesis.openapi.from_url(f"{token_demo.url}/openapi.json", config=_config())


open_schema = schemathesis.pytest.from_fixture("open_api")
token_schema = schemathesis.pytest.from_fixture("token_api")


_keys = itertools.count()


def _fresh_idempotency_key(case: Any) -> None:
    """Make a valid generated ``Idempotency-Key`` unique (a counter in front, the length kept at most 255).

    Generated keys repeat across cases ("0", "00"...), and the same key for another command is 422
    ``idempotency_key_reused`` by design (tests/demo/test_server_commands.py): valid data the server rightly refuses.
    A fresh key takes every command to the simulation. Missing, blank and over-long keys are sent as generated.
    """
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and key.strip(" \t") and len(key) <= MAX_KEY_LENGTH:
        case.headers["Idempotency-Key"] = f"{next(_keys)}-{key}"[:MAX_KEY_LENGTH]


def _needs_id_without_one(case: Any) -> bool:
    """``GET /v1/quality?scope=node|machine`` without an id: 422 by design (OpenAPI cannot say that one query
    parameter needs another; the ``id`` parameter's description says it)."""
    query = case.query or {}
    return case.path == "/v1/quality" and query.get("scope") in ("node", "machine") and not query.get("id")


def call_and_validate(case: Any, headers: dict[str, str] | None = None) -> None:
    _fresh_idempotency_key(case)
    if _needs_id_without_one(case):
        response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
        if response.status_code != 401:
            assert response.status_code == 422 and response.json()["code"] == "validation_error", response.text
        return
    case.call_and_validate(headers=headers)


@pytest.mark.timeout(600)  # every operation runs in this one test (~25 s; a hunt with FUZZ_EXAMPLES runs longer)
@open_schema.parametrize()
@FUZZ_SETTINGS
def test_open_server_answers_only_what_it_documents(case: Any) -> None:
    call_and_validate(case)


@pytest.mark.timeout(600)
@token_schema.parametrize()
@token_schema.given(caller=st.sampled_from(CALLERS))
@FUZZ_SETTINGS
def test_server_with_tokens_answers_only_what_it_documents(case: Any, caller: str | None) -> None:
    call_and_validate(case, {"Authorization": f"Bearer {caller}"} if caller else {})


# What the fuzzing found, pinned down: a bounded run need not draw these again.


def _raw_exchange(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(
            b"POST /v1/jobs/J-1/resume HTTP/1.1\r\nHost: x\r\nContent-Length: Xg\r\n\r\n", id="content-length"
        ),
        pytest.param(b"GET /v1/cluster HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", id="header-line"),
    ],
)
def test_a_request_that_is_not_http_gets_a_problem(open_demo: Any, request_bytes: bytes) -> None:
    head, _, body = _raw_exchange(open_demo.url, request_bytes).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/problem+json" in head.lower()
    problem = json.loads(body)
    assert problem["status"] == 400 and problem["code"] == "bad_request" and problem["title"] == "Bad Request"
    assert httpx.get(f"{open_demo.url}/v1/cluster").status_code == 200  # and the server goes on


def test_a_read_ignores_a_body(open_demo: Any) -> None:
    big = b"{" + b" " * MAX_BODY_BYTES + b'"\\ud800": 1}'
    for method in ("GET", "DELETE"):
        r = httpx.request(
            method, f"{open_demo.url}/v1/whoami", content=big, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == (200 if method == "GET" else 405), r.text


def test_every_cursor_of_the_documented_form_is_a_position(open_demo: Any) -> None:
    with httpx.Client(base_url=open_demo.url, timeout=10) as client:
        machines = [m["id"] for m in client.get("/v1/machines", params={"limit": "1000"}).json()["items"]]
        # Made up, not issued by the server: the id cursor of "M" (before every machine) and of "\xff" bytes (after).
        assert [m["id"] for m in client.get("/v1/machines", params={"cursor": "sTQ"}).json()["items"]] == machines
        assert client.get("/v1/machines", params={"cursor": "s_w"}).json() == {"items": [], "next_cursor": None}
        assert client.get("/v1/audit", params={"cursor": "i-99999999999"}).status_code == 200
        assert client.get("/v1/machines", params={"cursor": ""}).json()["items"][0]["id"] == machines[0]
        for cursor, path in [("i5", "/v1/machines"), ("sTQ", "/v1/audit"), ("sA", "/v1/nodes"), ("Zm9v", "/v1/jobs")]:
            r = client.get(path, params={"cursor": cursor})
            assert r.status_code == 400 and r.json()["code"] == "invalid_cursor", (cursor, path, r.text)


def test_the_document_says_what_the_server_checks(open_demo: Any) -> None:
    document = httpx.get(f"{open_demo.url}/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert {"400", "401"} <= operation["responses"].keys(), (method, path)
            if method == "post":
                (key,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
                assert key["required"] and key["schema"]["maxLength"] == MAX_KEY_LENGTH, (path, key)
