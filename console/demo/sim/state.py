"""The simulation's state object, and the few primitives every part of it uses (time, the heap, sending events).

The engine's behaviour lives in modules of free functions (``loop``, ``placement``, ``lifecycle``, ``faults`` ...)
that all take this one ``SimState``; none of them keeps state of its own. Building the state builds the world (the
first draws of the world generator) and the parameters derived from it; starting the story (the first heap events)
is ``loop.start``.
"""

from __future__ import annotations

import heapq
import random
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel

from console.api.lean import LeanModel
from console.api.models import AuditEntry

from . import quality as q
from .alerts import AlertBook
from .catalog import CUSTOMER_REGIONS
from .clock import DEFAULT_START
from .config import (
    MIN_REMOVE_AFTER_S,
    OPENING_WARMUP_S,
    QUALITY_EVERY_S,
    QUALITY_MAX_EVERY_S,
    REMOVE_AFTER_S,
    SCALE_MACHINES,
    TARGET_UTILISATION,
    WARMUP_MACHINE_S,
    SimConfig,
)
from .telemetry import baseline
from .world import JobRec, MachineRec, NodeRec, build_world, haversine_km

__all__ = [
    "BACKLOG",
    "BATCH",
    "CLEAR",
    "FAULT",
    "ORDER",
    "OUTAGE",
    "PROGRESS",
    "QUALITY",
    "REMOVE",
    "RESTORE",
    "SHELVE",
    "WARN_END",
    "Callback",
    "Clock",
    "HeapEntry",
    "Payload",
    "SimState",
    "at",
    "node_index",
    "now",
    "push",
    "reachable",
    "send",
]

Payload = BaseModel | LeanModel  # an event's: a contract model (pydantic or lean) or a ``NodeLink`` signal
Callback = Callable[[str, Payload], None]
HeapEntry = tuple[float, int, int, Any, Any]  # (time, insertion number, kind, a, b)


class Clock(Protocol):
    def now(self) -> datetime: ...


# heap event kinds
(ORDER, BATCH, FAULT, CLEAR, OUTAGE, RESTORE, REMOVE, SHELVE, BACKLOG, QUALITY, WARN_END, PROGRESS) = range(12)


class SimState:
    """Everything the simulation knows: the world's records, the heap, generators, counters, subscribers, caches."""

    def __init__(self, config: SimConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.start = (config.start or DEFAULT_START).astimezone(UTC)
        seed = config.seed
        self.seed = seed
        self.rng = random.Random(seed)
        self.orders_rng = random.Random(seed * 31 + 1)
        self.fault_rng = random.Random(seed * 31 + 2)
        self.tele_rng = random.Random(seed * 31 + 3)
        self.t = 0.0
        self.step_start = 0.0  # the sub-step under way (its end is None between sub-steps): see loop.tick(budget_s)
        self.step_end: float | None = None
        self.local_node: int | None = None  # the node whose own agent is asking (its WAN link does not matter)
        self.subs: list[Callback] = []
        self.heap: list[HeapEntry] = []
        self.heap_n = 0

        self.nodes, self.machines = build_world(self.rng, config.nodes, config.machines_per_node, q.WINDOW_S)
        # An opening scene's history begins before ``start`` (see ``opening``): simulated time 0 moves back by it.
        self.warmup_s = (
            min(OPENING_WARMUP_S, WARMUP_MACHINE_S / max(1, len(self.machines))) if config.opening_scene else 0.0
        )
        self.start -= timedelta(seconds=self.warmup_s)
        self.at_last: tuple[float, datetime] = (0.0, self.start)  # ``at``'s last answer
        self.node_by_id: dict[str, NodeRec] = {n.id: n for n in self.nodes}
        self.machine_by_id: dict[str, MachineRec] = {m.id: m for m in self.machines}
        self.by_process: dict[str, list[int]] = {}
        self.by_pm: dict[tuple[str, str], list[int]] = {}
        count = len(self.machines)
        scale = max(1.0, count / SCALE_MACHINES)
        self.progress_step = config.progress_step if config.progress_step is not None else min(0.25, 0.05 * scale)
        self.heartbeat_s = config.heartbeat_s if config.heartbeat_s is not None else min(3600.0, 120.0 * scale)
        # Finished jobs stay visible a while, then go (job.removed). In a big cluster they would be a third of the
        # snapshot's jobs: keep them for less (15 min up to SCALE_MACHINES machines; 3 min at 20,000).
        self.remove_after_s = max(MIN_REMOVE_AFTER_S, REMOVE_AFTER_S / scale)
        # A machine whose numbers moved is re-sent at the next minute's flush up to SCALE_MACHINES machines; beyond,
        # at most every this many seconds (10 min at 20,000), so quality is not a quarter of a big cluster's stream.
        self.quality_min_s = QUALITY_EVERY_S if scale <= 1.0 else min(QUALITY_MAX_EVERY_S, QUALITY_EVERY_S * scale)
        for m in self.machines:
            # Heartbeats and quality refreshes are due at staggered times, so they spread evenly over the minutes.
            m.sent_at = -self.heartbeat_s * m.idx / count
            m.quality_sent_at = -config.quality_refresh_s * m.idx / count
            self.by_process.setdefault(m.process, []).append(m.idx)
            for material in m.materials:
                self.by_pm.setdefault((m.process, material), []).append(m.idx)
            m.telemetry = baseline(m.kind, "idle", m.materials[0] if m.materials else None)

        self.jobs: dict[str, JobRec] = {}
        self.backlog: dict[str, None] = {}  # insertion-ordered set of job ids waiting for a machine
        self.removed_node: OrderedDict[str, str | None] = OrderedDict()
        self.job_n = 10000
        self.order_n = 20000
        self.alerts = AlertBook(lambda event_type, alert: send(self, event_type, alert), lambda: bool(self.subs))
        self.audit: OrderedDict[str, AuditEntry] = OrderedDict()
        self.audit_n = 0
        self.tele_ptr = 0
        self.tele_acc = 0.0
        self.node_totals: dict[int, list[float]] = {}
        self.flush_dirty_nodes: dict[int, None] = {}  # nodes touched by the quality flush under way
        # pooled measurements for the node and cluster control charts
        self.node_meas = [q.Measurements() for _ in self.nodes]
        self.cluster_meas = q.Measurements()
        self.distances = [
            [haversine_km(n.lat, n.lon, lat, lon) for _, lat, lon in CUSTOMER_REGIONS] for n in self.nodes
        ]

        # order arrivals: enough work to keep the machines ~80 % busy
        self.process_weights: list[tuple[str, float]] = []
        rate = 0.0
        for process, idxs in self.by_process.items():
            spec = self.machines[idxs[0]].spec
            mean_job_s = (sum(spec.unit_s) / 2) * (sum(spec.quantity) / 2) * 1.1
            r = TARGET_UTILISATION * len(idxs) / mean_job_s
            self.process_weights.append((process, r))
            rate += r
        self.job_rate = rate  # jobs per simulated second


def at(s: SimState, t: float) -> datetime:
    """The datetime of simulated time ``t``. The last one is kept: an event's models ask for the same time over and
    over (``last_seen``, ``state_since`` ...; ~500,000 times in 12 simulated hours). One tuple, so a read on another
    thread never pairs a time with another's datetime."""
    last = s.at_last
    if last[0] == t:
        return last[1]
    value = s.start + timedelta(seconds=t)
    s.at_last = (t, value)
    return value


def now(s: SimState) -> datetime:
    """The simulated time the world has been advanced to."""
    return at(s, s.t)


def push(s: SimState, t: float, kind: int, a: Any = None, b: Any = None) -> None:
    """Put an event on the heap; events due at the same time come out in the order they were pushed."""
    s.heap_n += 1
    heapq.heappush(s.heap, (t, s.heap_n, kind, a, b))


def send(s: SimState, event_type: str, payload: Payload) -> None:
    """Give an event to every subscriber, synchronously."""
    for cb in list(s.subs):
        cb(event_type, payload)


def node_index(s: SimState, node_id: str | None) -> int | None:
    """The index of node ``node_id``; None for None or an unknown id."""
    n = s.node_by_id.get(node_id) if node_id is not None else None
    return n.idx if n is not None else None


def reachable(s: SimState, n: NodeRec) -> bool:
    """Whether a command (or the scheduler) can reach node ``n``: its link is up, or the node's own agent asks."""
    return n.online or s.local_node == n.idx
