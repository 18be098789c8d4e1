"""What keeps a big demo cluster's server responsive: budgeted ticks, chunked quality flushes at a capped rate at
scale, and machine JSON patched with telemetry instead of re-serialised (issue 5)."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict

from console.cli import build_demo_server_parser
from console.demo.feed import EventFeed
from console.demo.sim import SimConfig, Simulation, SteppedClock
from console.demo.sim.engine import QUALITY_CHUNK, QUALITY_EVERY_S
from console.demo.state import MachineTable, split_around_telemetry
from tests.demo import fake_sim
from tests.demo.fake_sim import FakeSim


def _events(budget_s: float | None) -> tuple[list[tuple[str, str]], int]:
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=3, telemetry_hz=1.0), clock)
    events: list[tuple[str, str]] = []
    sim.subscribe(lambda t, p: events.append((t, p.model_dump_json())))
    calls = 0
    for _ in range(40):
        clock.advance(45.0)
        done = False
        while not done:
            calls += 1
            done = sim.tick(budget_s=budget_s) if budget_s is not None else (sim.tick() or True)
    return events, calls


def test_a_budgeted_tick_tells_the_same_story_in_more_calls() -> None:
    whole, whole_calls = _events(None)
    sliced, sliced_calls = _events(0.0)  # the budget is always spent: one heap event or one sub-step per call
    assert len(whole) > 1000
    assert sliced == whole
    assert sliced_calls > 10 * whole_calls


def test_quality_at_scale_is_sent_at_most_every_few_minutes_and_flushed_in_chunks() -> None:
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=5, nodes=25, machines_per_node=200, telemetry_hz=0.0), clock)  # 5,000 machines
    least = sim._quality_min_s
    assert least == QUALITY_EVERY_S * 2.5  # grows with the cluster beyond 2,000 machines
    sent: dict[str, list[float]] = defaultdict(list)
    node_flushes: list[float] = []
    t0 = sim.start

    def on_event(type_: str, payload: object) -> None:
        if type_ != "quality.updated":
            return
        at = (sim.now() - t0).total_seconds()
        if payload.scope == "machine":  # type: ignore[attr-defined]
            sent[payload.id].append(at)  # type: ignore[attr-defined]
        elif payload.scope == "cluster":  # type: ignore[attr-defined]
            node_flushes.append(at)

    sim.subscribe(on_event)
    for _ in range(20):
        clock.advance(60.0)
        sim.tick()
    assert len(sim._machines) > QUALITY_CHUNK * 10
    assert sum(len(v) for v in sent.values()) > 1000
    gaps = [b - a for times in sent.values() for a, b in itertools.pairwise(times)]
    assert gaps and min(gaps) >= least
    assert len(node_flushes) == 20  # the cluster record once a minute, after the last chunk


def test_machine_json_is_patched_with_telemetry() -> None:
    table = MachineTable()
    machine = fake_sim.machine("M-1", "N-1", "running").model_copy(update={"telemetry": {"a": 1.0, "b": 2.0}})
    table.put("M-1", machine)
    assert table.merge_telemetry("M-1", {"b": 3.5, "c": -1.25})
    assert not table.merge_telemetry("M-404", {"x": 1.0})
    expected = machine.model_copy(update={"telemetry": {"a": 1.0, "b": 3.5, "c": -1.25}})
    assert json.loads(table.json_of("M-1")) == json.loads(expected.model_dump_json())
    assert table.get("M-1") == expected and table.models["M-1"] is machine  # the stored model is not mutated
    table.put("M-1", machine)  # a machine.updated replaces the object, telemetry included
    assert json.loads(table.json_of("M-1")) == json.loads(machine.model_dump_json())


def test_a_text_that_looks_like_the_marker_does_not_confuse_the_patch() -> None:
    # Inside a JSON string the quotes are escaped, so only the real field matches the marker.
    tricky = fake_sim.machine("M-1", "N-1", "fault").model_copy(update={"state_reason": '"telemetry":{}'})
    halves = split_around_telemetry(tricky)
    assert halves is not None and halves[1].startswith(b',"state_reason":')
    table = MachineTable()
    table.put("M-1", tricky)
    table.merge_telemetry("M-1", {"nozzle_c": 200.0})
    expected = tricky.model_copy(update={"telemetry": {"nozzle_c": 200.0}})
    assert json.loads(table.json_of("M-1")) == json.loads(expected.model_dump_json())


def test_the_history_keeps_recent_events_beyond_its_count_within_a_memory_bound() -> None:
    sim = FakeSim()
    feed = EventFeed(sim, history=3, history_s=3600.0)
    for i in range(6000):  # enough to compact the ring's list more than once
        sim.emit("machine.telemetry", fake_sim.telemetry(f"M-{i % 3 + 1}"))
    assert [e.seq for e in feed.events_after(5990)] == list(range(5991, 6001))
    assert feed.can_resume(0) and feed.oldest_seq == 1  # all younger than an hour: all kept
    feed.history_max_bytes = feed.history_bytes // 2  # over the memory bound: trimmed to it, never below `history`
    sim.emit("machine.telemetry", fake_sim.telemetry("M-1"))
    assert 3 < len(feed.events_after(feed.oldest_seq - 1)) < 3001
    assert feed.history_bytes <= feed.history_max_bytes
    feed.history_s = 0.0  # no time floor: exactly `history`
    sim.emit("machine.telemetry", fake_sim.telemetry("M-2"))
    assert [e.seq for e in feed.events_after(feed.oldest_seq - 1)] == [6000, 6001, 6002]
    assert feed.events_after(5998) is None


def test_a_kept_event_parses_its_payload_from_its_frame() -> None:
    sim = FakeSim()
    feed = EventFeed(sim)
    sent = fake_sim.telemetry("M-2")
    sim.emit("machine.telemetry", sent)
    (event,) = feed.events_after(0)
    assert event.payload == sent and event.type == "machine.telemetry"


def test_demo_server_history_options() -> None:
    args = build_demo_server_parser().parse_args(["--history", "20000", "--history-seconds", "45"])
    assert (args.history, args.history_seconds) == (20000, 45.0)
    defaults = build_demo_server_parser().parse_args([])
    assert (defaults.history, defaults.history_seconds) == (10_000, 30.0)
