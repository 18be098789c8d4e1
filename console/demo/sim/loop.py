"""The core loop: the simulation's clock and step. Starts the story, pops the heap in time order, spreads telemetry.

``tick`` advances simulated time to the clock's now in sub-steps of at most ``MAX_STEP_S``, handing each due heap
event to the part of the simulation it belongs to (``handle``), then sends the step's share of telemetry with a
round-robin pointer. So the cost of a tick follows the number of things that happen, not the number of machines.
"""

from __future__ import annotations

import heapq
import time
from typing import Any

from .config import BACKLOG_EVERY_S, MAX_STEP_S, QUALITY_CHUNK, QUALITY_EVERY_S
from .construct import build_telemetry
from .faults import on_clear, on_fault, on_outage, on_restore, on_warn_end, schedule_fault, schedule_outage
from .lifecycle import on_batch, on_progress, on_remove, sample_machine
from .placement import initial_work, on_order, retry_backlog
from .rollups import flush_quality, heartbeats
from .state import (
    BACKLOG,
    BATCH,
    CLEAR,
    FAULT,
    ORDER,
    OUTAGE,
    PROGRESS,
    QUALITY,
    REMOVE,
    RESTORE,
    SHELVE,
    WARN_END,
    SimState,
    now,
    push,
    send,
)

__all__ = ["advance", "handle", "start", "tick"]


def start(s: SimState) -> None:
    """Set the story going: the initial work, then the first order, faults, outages, backlog retry and flush."""
    initial_work(s)
    push(s, s.orders_rng.expovariate(s.job_rate / 2.0), ORDER)
    for m in s.machines:
        schedule_fault(s, m)
    for n in s.nodes:
        schedule_outage(s, n.idx)
    push(s, BACKLOG_EVERY_S, BACKLOG)
    push(s, QUALITY_EVERY_S, QUALITY)


def tick(s: SimState, budget_s: float | None = None) -> bool:
    """Advance the world to ``clock.now()``, emitting what happens on the way (see ``Simulation.tick``)."""
    return advance(s, (s.clock.now() - s.start).total_seconds(), budget_s)


def advance(s: SimState, target: float, budget_s: float | None = None, telemetry: bool = True) -> bool:
    """Advance the world to simulated time ``target`` (``tick``'s work; the opening's warm-up calls it directly,
    without ``telemetry``: nobody listens yet, and a machine's values are sampled anyway when its state changes)."""
    heap = s.heap
    deadline = None if budget_s is None else time.perf_counter() + budget_s
    handled = 0
    while s.t < target or s.step_end is not None:
        if s.step_end is None:
            s.step_start = s.t
            s.step_end = min(s.t + MAX_STEP_S, target)
        step_end = s.step_end
        while heap and heap[0][0] <= step_end:
            if deadline is not None and handled and time.perf_counter() > deadline:
                return False
            handled += 1
            t, _, kind, a, b = heapq.heappop(heap)
            s.t = max(s.t, t)
            handle(s, kind, a, b)
        s.t = step_end
        s.step_end = None
        if telemetry:
            _telemetry(s, step_end - s.step_start)
        if deadline is not None and time.perf_counter() > deadline:
            return s.t >= target
    return True


def handle(s: SimState, kind: int, a: Any, b: Any) -> None:
    """One heap event, to the part of the simulation it belongs to."""
    if kind == BATCH:
        on_batch(s, a, b)
    elif kind == ORDER:
        on_order(s)
    elif kind == FAULT:
        on_fault(s, a, b)
    elif kind == CLEAR:
        on_clear(s, a, b)
    elif kind == WARN_END:
        on_warn_end(s, a, b)
    elif kind == REMOVE:
        on_remove(s, a)
    elif kind == OUTAGE:
        on_outage(s, a)
    elif kind == RESTORE:
        on_restore(s, a)
    elif kind == SHELVE:
        s.alerts.shelve_expired(now(s), a, b)
    elif kind == BACKLOG:
        retry_backlog(s)
        push(s, s.t + BACKLOG_EVERY_S, BACKLOG)
    elif kind == PROGRESS:
        on_progress(s, a, b)
    elif kind == QUALITY:
        if a is None:  # the minute's flush starts: heartbeats, then machines in chunks (a: the next index)
            heartbeats(s)
            s.flush_dirty_nodes = {}
            a = 0
        if flush_quality(s, a):
            push(s, s.t + QUALITY_EVERY_S, QUALITY)
        else:
            push(s, s.t, QUALITY, a + QUALITY_CHUNK)


def _telemetry(s: SimState, dt: float) -> None:
    machines = s.machines
    count = len(machines)
    s.tele_acc += s.config.telemetry_hz * count / s.config.speed * dt
    n = int(s.tele_acc)
    if n <= 0:
        return
    s.tele_acc -= n
    n = min(n, count)
    at_now = now(s)
    for _ in range(n):
        m = machines[s.tele_ptr]
        s.tele_ptr = (s.tele_ptr + 1) % count
        values = sample_machine(s, m)
        if s.subs:
            send(s, "machine.telemetry", build_telemetry(machine_id=m.id, at=at_now, values=dict(values)))
