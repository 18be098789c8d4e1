"""Helpers for tests that need a live simulated cluster over real loopback HTTP (test code: not in the wheel).

``start_test_server`` starts an embedded demo on a ``SteppedClock`` with a fixed seed and no ticker: time passes only
when a test says so (``server.advance(seconds)``), so every run tells the same story. The ``live_server`` fixture
(``tests/conftest.py``) wraps it and stops the servers at teardown.

``read_events`` reads a number of SSE events from a stream with a deadline, for resume tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import connect_sse

from console.demo.embedded import DemoServer, start_demo
from console.demo.runner import make_simulation
from console.demo.sim.clock import DEFAULT_START, SteppedClock

TEST_SEED = 7
TEST_NODES = 3
TEST_MACHINES_PER_NODE = 6


def test_config(seed: int = TEST_SEED, **overrides: Any) -> Any:
    """A small, seeded ``SimConfig`` (3 nodes x 6 machines) so tests start fast; ``overrides`` go to SimConfig."""
    from console.demo.sim.engine import SimConfig

    options: dict[str, Any] = {"seed": seed, "nodes": TEST_NODES, "machines_per_node": TEST_MACHINES_PER_NODE}
    options.update(overrides)
    return SimConfig(**options)


test_config.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name


def start_test_server(
    *,
    config: Any = None,
    seed: int = TEST_SEED,
    tokens: Iterable[str | tuple[str, str, str]] = (),
    history: int = 10_000,
    keepalive_s: float = 15.0,
    with_agents: bool = False,
    warmup_s: float = 0.0,
) -> DemoServer:
    """An embedded demo on a ``SteppedClock`` (no ticker), seeded; ``warmup_s`` advances the clock once at start.

    The warm-up runs before the servers exist, as a ``demo-server`` started mid-shift has played its shift before it
    serves: its feeds start at seq 0 from the warmed state, and the warm-up's events are never framed nor kept for
    resume. Publishing them (each serialised and applied to the feed's served state) was two thirds of a warmed
    server's start: ~85 ms of CPU for the default 15 minutes, for each of the suite's several hundred servers."""
    clock = SteppedClock(DEFAULT_START)
    sim = make_simulation(config if config is not None else test_config(seed), clock)
    if warmup_s:
        clock.advance(warmup_s)
        sim.tick()
    return start_demo(
        sim=sim,
        clock=clock,
        tokens=tokens,
        keepalive_s=keepalive_s,
        history=history,
        with_agents=with_agents,
        tick_interval=None,
    )


@dataclass(frozen=True)
class SseEvent:
    """One event as a test sees it: ``seq`` (the SSE id, ``None`` for ``reset``), type and parsed JSON data."""

    seq: int | None
    type: str
    data: Any


def read_events(
    base_url: str,
    count: int,
    *,
    after: int | None = None,
    last_event_id: int | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 5.0,
) -> list[SseEvent]:
    """Open ``GET /v1/events``, read up to ``count`` events (or until the stream ends or ``timeout_s``), close it."""
    params = {"after": str(after)} if after is not None else {}
    all_headers = dict(headers or {})
    if last_event_id is not None:
        all_headers["Last-Event-ID"] = str(last_event_id)
    events: list[SseEvent] = []
    deadline = time.monotonic() + timeout_s
    with (
        httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout_s)) as client,
        connect_sse(client, "GET", "/v1/events", params=params, headers=all_headers) as source,
    ):
        source.response.raise_for_status()
        try:
            for sse in source.iter_sse():
                seq = int(sse.id) if sse.id else None
                events.append(SseEvent(seq, sse.event, json.loads(sse.data) if sse.data else None))
                if len(events) >= count or time.monotonic() > deadline:
                    break
        except httpx.ReadTimeout:
            pass  # fewer events than asked for: the caller checks what it got
    return events
