"""A seeded simulation's cluster view, fed to a store as the cluster source would: a snapshot, then numbered events.

Tests of the recording drive it on a stepped clock (time passes only when a test says so) and record the store it
feeds with the simulation's clock as the server time, so a recording of an hour takes a fraction of a second.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from console.api.models import EVENT_MODELS, Event, Snapshot
from console.demo.sim.clock import DEFAULT_START, SteppedClock
from console.store.store import Store

SOURCE = "cluster"


class SimFeed:
    """``snapshot()`` once, then ``step(seconds)`` for the events of that much simulated time."""

    def __init__(self, config: Any = None, start: datetime = DEFAULT_START) -> None:
        from console.demo.runner import make_simulation
        from console.demo.sim import SimConfig
        from console.demo.views import View

        self.clock = SteppedClock(start)
        self.sim = make_simulation(config or SimConfig(seed=7), self.clock)
        self.view = View(self.sim)
        self.seq = 0
        self._pending: list[Event] = []
        self.sim.subscribe(self._on_event)

    def _on_event(self, type_: str, payload: Any) -> None:
        for event_type, data in self.view.translate(type_, payload):
            model = EVENT_MODELS[event_type]
            self.seq += 1
            self._pending.append(
                Event(self.seq, event_type, data if isinstance(data, model) else model.model_validate(data))
            )

    def snapshot(self) -> Snapshot:
        view = self.view
        return Snapshot(
            seq=self.seq,
            cluster=view.cluster(self.seq, "instance-1"),
            nodes=view.nodes(),
            machines=view.machines(),
            jobs=view.jobs(),
            alerts=view.alerts(),
            quality=view.quality(),
        )

    def step(self, seconds: float = 1.0) -> list[Event]:
        self.clock.advance(seconds)
        self.sim.tick()
        events, self._pending = self._pending, []
        return events

    def now(self) -> datetime:
        return self.clock.now()


def connect(store: Store, feed: SimFeed) -> None:
    """What a cluster source does first: register, connect, load the snapshot, go live."""
    store.register_source(SOURCE, kind="cluster")
    store.set_source_state(SOURCE, "connecting", "fetching snapshot")
    store.apply_snapshot(SOURCE, feed.snapshot())
    store.set_source_state(SOURCE, "live", "streaming")


def run(store: Store, feed: SimFeed, seconds: int, step: float = 1.0) -> int:
    """Feed ``seconds`` of simulated time, a read of the stream per step; the events applied."""
    applied = 0
    for _ in range(int(seconds / step)):
        events = feed.step(step)
        if events:
            end = store.apply_events(SOURCE, events)
            assert end == len(events)
            applied += end
    return applied


def state_of(store: Store) -> dict[str, Any]:
    """What the screens would show, as plain data (for comparing a replayed store with the live one)."""
    return {
        "machines": {k: store.current_machine(k).model_dump(mode="json") for k in sorted(store.machines)},
        "jobs": {k: v.model_dump(mode="json") for k, v in sorted(store.jobs.items())},
        "alerts": {k: v.model_dump(mode="json") for k, v in sorted(store.alerts.items())},
        "nodes": {k: v.model_dump(mode="json") for k, v in sorted(store.nodes.items())},
        "seq": {k: s.seq for k, s in store.sources.items() if k != "replay"},
        "states": {k: str(s.state) for k, s in store.sources.items() if k != "replay"},
    }
