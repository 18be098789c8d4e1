"""The served state: a feed's reads and snapshot are the fold of its own events (no field moves without an event)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from console.api.models import Event, JobRemoved, Snapshot
from console.demo.feed import EventFeed
from console.store import Store
from tests.demo import fake_sim
from tests.demo.fake_sim import FakeSim
from tests.demo_server import test_config


def test_state_folds_events_like_the_store() -> None:
    sim = FakeSim()
    feed = EventFeed(sim)
    state = feed.state
    before = state.machines.get("M-1")
    sim.emit("machine.telemetry", fake_sim.telemetry("M-1"))
    after = state.machines.get("M-1")
    assert after.telemetry == {"nozzle_c": 210.0} and after.last_seen == before.last_seen  # telemetry: merge only
    assert before.telemetry == {}  # the earlier model (shared with others) is not mutated
    sim.emit("machine.telemetry", fake_sim.telemetry("M-404"))  # unknown machine: ignored
    assert state.machines.get("M-404") is None
    sim.emit("job.removed", JobRemoved(id="J-1"))
    assert state.jobs.get("J-1") is None
    resolved = fake_sim.alert("A-1", "machine", "M-1").model_copy(update={"state": "resolved"})
    sim.emit("alert.updated", resolved)
    assert state.alerts.get("A-1") is None
    q = fake_sim.quality("machine", "M-1")
    sim.emit("quality.updated", q)
    assert state.quality.get(("machine", "M-1")) == q
    assert json.loads(state.quality.json_of(("machine", "M-1"))) == json.loads(q.model_dump_json())


def test_agent_state_holds_only_its_node() -> None:
    sim = FakeSim()
    feed = EventFeed(sim, node_id="N-1")
    assert set(feed.state.machines.models) == {"M-1", "M-2"}
    sim.move_job("J-1", "N-2")  # leaves the node: the agent says job.removed
    assert feed.state.jobs.get("J-1") is None
    sim.emit("machine.updated", fake_sim.machine("M-3", "N-2", "running"))
    assert feed.state.machines.get("M-3") is None


def _fold(snapshot: Snapshot, events: list[Any]) -> dict[str, Any]:
    store = Store()
    store.apply_snapshot("s", snapshot)
    for e in events:
        store.apply_event("s", Event(seq=e.seq, type=e.type, data=e.payload))
    return store.tables_as_json()


def test_snapshot_equals_the_fold_for_cluster_and_agents(live_server: Callable[..., Any]) -> None:
    server = live_server(config=test_config(telemetry_hz=5.0), with_agents=True, warmup_s=30)
    urls = [server.url, *server.agent_urls.values()]
    with httpx.Client(timeout=10) as client:
        firsts = [Snapshot.model_validate_json(client.get(f"{u}/v1/snapshot").content) for u in urls]
        for _ in range(20):
            server.advance(30)
        feeds = [server.feed, *(server.agent_feed(n) for n in server.agent_urls)]
        for url, first, feed in zip(urls, firsts, feeds, strict=True):
            events = server.call(lambda f=feed, s=first.seq: f.events_after(s))
            assert events, "the world moved on"
            fresh = Snapshot.model_validate_json(client.get(f"{url}/v1/snapshot").content)
            assert fresh.seq == first.seq + len(events)
            folded = _fold(first, events)
            reference = _fold(fresh, [])
            for table in ("nodes", "machines", "jobs", "alerts", "quality"):
                assert folded[table] == reference[table], f"{url}: {table} differ"
            machine = fresh.machines[0]
            one = client.get(f"{url}/v1/machines/{machine.id}").json()
            assert one == json.loads(machine.model_dump_json())
