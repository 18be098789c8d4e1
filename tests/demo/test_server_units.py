"""Unit tests of the demo server's parts that need no HTTP: feed, node view, idempotency, tokens, paging."""

from __future__ import annotations

import asyncio
import json

import pytest

from console.api.models import Cluster
from console.demo.auth import ROLE_RANK, TokenTable, parse_token
from console.demo.feed import EventFeed
from console.demo.idempotency import IdempotencyStore, fingerprint
from console.demo.paging import decode_cursor, encode_cursor, paginate
from console.demo.problems import ApiProblem
from tests.demo import fake_sim
from tests.demo.fake_sim import FakeSim


def test_feed_numbers_events_one_by_one_and_keeps_the_last_n() -> None:
    sim = FakeSim()
    feed = EventFeed(sim, history=3)
    for i in range(5):
        sim.emit("machine.telemetry", fake_sim.telemetry(f"M-{i % 3 + 1}"))
    assert feed.seq == 5
    assert [e.seq for e in feed.events_after(2)] == [3, 4, 5]
    assert feed.events_after(1) is None  # event 2 is gone
    assert feed.events_after(5) == []
    assert feed.events_after(6) is None  # ahead of the feed
    assert feed.events_after(3, limit=1)[0].seq == 4
    frame = feed.events_after(4)[0].frame.decode()
    assert frame.startswith("id: 5\nevent: machine.telemetry\ndata: {")
    assert frame.endswith("\n\n")


def test_feed_instance_ids_differ_and_cluster_payload_gets_seq_and_instance() -> None:
    sim = FakeSim()
    a, b = EventFeed(sim), EventFeed(sim)
    assert a.instance_id != b.instance_id
    sim.emit("cluster.updated", sim.cluster_info())
    data = json.loads(a.events_after(0)[0].data)
    assert data["seq"] == 1 and data["instance_id"] == a.instance_id
    reset = a.reset_frame().decode()
    assert reset.startswith("event: reset\ndata: ") and '"seq":1' in reset


def test_feed_close_unsubscribes() -> None:
    sim = FakeSim()
    feed = EventFeed(sim)
    feed.close()
    sim.emit("machine.telemetry", fake_sim.telemetry("M-1"))
    assert feed.seq == 0


async def test_feed_wakes_waiters() -> None:
    sim = FakeSim()
    feed = EventFeed(sim)
    waiter = asyncio.Event()
    feed.add_waiter(waiter)
    sim.emit("machine.telemetry", fake_sim.telemetry("M-1"))
    assert waiter.is_set()
    feed.remove_waiter(waiter)


def test_node_feed_filters_to_its_node_and_removes_jobs_that_leave() -> None:
    sim = FakeSim()
    feed = EventFeed(sim, node_id="N-1")
    sim.emit("machine.updated", fake_sim.machine("M-3", "N-2"))  # other node
    sim.emit("machine.updated", fake_sim.machine("M-1", "N-1"))
    sim.emit("machine.telemetry", fake_sim.telemetry("M-3"))
    sim.emit("machine.telemetry", fake_sim.telemetry("M-2"))
    sim.emit("alert.raised", fake_sim.alert("A-9", "node", "N-2"))
    sim.emit("alert.raised", fake_sim.alert("A-8", "machine", "M-2"))
    sim.emit("quality.updated", fake_sim.quality("machine", "M-3"))
    sim.emit("quality.updated", fake_sim.quality("node", "N-1"))
    sim.emit("audit.appended", fake_sim.audit("AU-9", "node", "N-2"))
    sim.emit("node.updated", fake_sim.node("N-2"))
    sim.move_job("J-1", "N-2")  # leaves N-1
    sim.move_job("J-2", "N-1")  # arrives
    sim.emit("cluster.updated", sim.cluster_info())
    got = [(e.type, json.loads(e.data)) for e in feed.events_after(0)]
    assert [t for t, _ in got] == [
        "machine.updated",
        "machine.telemetry",
        "alert.raised",
        "quality.updated",
        "job.removed",
        "job.updated",
        "cluster.updated",
    ]
    assert got[4][1] == {"id": "J-1"}
    assert got[5][1]["id"] == "J-2"
    cluster = got[6][1]
    assert cluster["id"] == "N-1" and cluster["region"] == "eu-west" and cluster["instance_id"] == feed.instance_id


def test_node_view_reads_only_its_node() -> None:
    sim = FakeSim()
    view = EventFeed(sim, node_id="N-1").view
    assert [n.id for n in view.nodes()] == ["N-1"]
    assert {m.id for m in view.machines()} == {"M-1", "M-2"}
    assert [j.id for j in view.jobs()] == ["J-1"]
    assert [a.id for a in view.alerts()] == ["A-1"]
    assert {(q.scope, q.id) for q in view.quality()} == {("node", "N-1")}
    assert [e.id for e in view.audit()] == ["AU-1"]
    assert view.quality_of("cluster", None).id == "N-1"
    assert view.machine("M-3") is None and view.alert("A-2") is None and view.node("N-2") is None
    assert view.contains("machine", "M-1") and not view.contains("machine", "M-3")
    assert isinstance(view.cluster(4, "i"), Cluster) and view.cluster(4, "i").id == "N-1"
    with pytest.raises(ValueError):
        EventFeed(sim, node_id="N-404")


def test_idempotency_store_expires_and_is_bounded() -> None:
    now = [0.0]
    store = IdempotencyStore(ttl_s=10, max_entries=2, clock=lambda: now[0])
    fp = fingerprint("post", "/v1/x", {"b": 1, "a": 2})
    assert fp == fingerprint("POST", "/v1/x", {"a": 2, "b": 1})
    store.store("k1", fp, 200, b"{}", "application/json")
    assert store.lookup("k1").status == 200
    now[0] = 11
    assert store.lookup("k1") is None
    for key in ("a", "b", "c"):
        store.store(key, fp, 200, b"{}", "application/json")
    assert len(store) == 2 and store.lookup("a") is None


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("alice:operator:s3cret", ("alice", "operator", "s3cret")), ("bob:viewer:a:b", ("bob", "viewer", "a:b"))],
)
def test_parse_token(spec: str, expected: tuple[str, str, str]) -> None:
    assert parse_token(spec) == expected


@pytest.mark.parametrize("spec", ["alice", "alice:operator", ":viewer:x", "alice:admin:x", "alice:viewer:"])
def test_parse_token_refuses(spec: str) -> None:
    with pytest.raises(ValueError, match="token"):
        parse_token(spec)


def test_token_table() -> None:
    table = TokenTable(["alice:operator:one", ("bob", "supervisor", "two")])
    assert not table.open and TokenTable().open
    assert table.lookup("one").operator == "alice" and table.lookup("two").role == "supervisor"
    assert table.lookup("three") is None
    assert ROLE_RANK["viewer"] < ROLE_RANK["operator"] < ROLE_RANK["supervisor"]
    with pytest.raises(ValueError, match="share"):
        TokenTable(["a:viewer:x", "b:viewer:x"])


def test_paginate_walks_every_item_once() -> None:
    items = [f"I-{i:03d}" for i in range(25)]
    seen, cursor = [], None
    while True:
        page, cursor = paginate(items, lambda s: s, 10, cursor)
        seen += page
        if cursor is None:
            break
    assert seen == items
    assert decode_cursor(encode_cursor(7)) == 7
    with pytest.raises(ApiProblem) as err:
        decode_cursor("not a cursor!")
    assert err.value.status == 400 and err.value.code == "invalid_cursor"
