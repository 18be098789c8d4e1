"""The simulated regional cluster: a seeded, deterministic discrete-event simulation of micro-factories.

Time is a float of simulated seconds since ``SimConfig.start``. Everything that happens at a known time (an order
arriving, a batch of parts finishing, a fault, a fault clearing, a node losing its WAN link to the cluster, a
finished job being removed, a shelve running out, the periodic quality roll-up) sits in one heap; ``tick()`` pops
what is due, in time order, in sub-steps of at most one simulated second, and spreads telemetry over the step with
a round-robin pointer. So the cost of a tick follows the number of things that happen, not the number of machines.

Determinism: the same seed, the same tick times and the same commands give the same events. Randomness comes from
``random.Random`` generators seeded from ``SimConfig.seed`` (one each for the world, orders, faults, telemetry, and one
per machine for its measurements); ids come from counters; iteration is over lists and insertion-ordered dicts. Reads
never draw random numbers nor change state, so reading (as a server does at any time) cannot change the story.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from pydantic import BaseModel, ValidationError

from console.api.models import (
    AckBody,
    Alert,
    ApiModel,
    AuditEntry,
    Design,
    Job,
    JobRemoved,
    Machine,
    MachineTelemetry,
    Node,
    PauseMachineBody,
    Quality,
    ReasonBody,
    RerouteBody,
    RerouteCandidate,
    ShelveBody,
    SourceRef,
)
from console.demo.text import invalid_text_at

from . import quality as q
from .alerts import AlertBook
from .catalog import (
    ALL_MATERIALS,
    BED_NOT_CLEAR,
    BED_NOT_CLEAR_P,
    CUSTOMER_REGIONS,
    FAULTS,
    NODE_OUTAGE_PER_HOUR,
    NODE_OUTAGE_S,
    PARTS,
    TOOL_CHANGE,
    FaultSpec,
)
from .clock import DEFAULT_START
from .errors import SimCommandError
from .telemetry import baseline, sample
from .world import JobRec, MachineRec, NodeRec, build_world, haversine_km

__all__ = ["LINK_DOWN", "LINK_UP", "ClusterInfo", "NodeLink", "SimCommandError", "SimConfig", "Simulation"]

Callback = Callable[[str, ApiModel], None]


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass
class SimConfig:
    """How to build a simulation.

    ``speed``: simulated seconds per wall second (the demo's ``WallClock`` runs at it). ``telemetry_hz``: telemetry
    events per machine per *wall* second at that speed, i.e. ``telemetry_hz / speed`` per machine per simulated
    second. So 20,000 machines at 0.25 Hz give 5,000 telemetry events per wall second whatever the speed (a faster
    demo does not flood the stream), and a stepped test advancing ``speed`` simulated seconds sees one wall second's
    worth. ``nodes=None``: the default scenario (six cities of the North of England, 120 machines); otherwise ``nodes``
    x ``machines_per_node`` (default 20). ``start=None``: a fixed start time, so runs are reproducible.

    Servers show exactly what the events said (a snapshot is the fold of the stream), so whatever an operator should
    see move has to be sent. ``progress_step``: how far a running job's progress advances between two ``job.updated``
    + ``machine.updated`` (besides the ones at each finished batch, every 1/8 of the job; 0 turns them off).
    ``heartbeat_s``: a node or machine that sent nothing for this many simulated seconds is sent again (its
    ``last_seen`` stays fresh; checked once a minute). ``quality_refresh_s``: a machine's quality record is re-sent at
    least this often (its sliding window moves), besides the minute after anything it counts changed.

    ``None`` (the default) scales the first two with the cluster, so the event rate stays sane: up to
    ``SCALE_MACHINES`` machines, 0.05 and 120 s (a demo job visibly moves every few wall seconds); beyond, both grow in
    proportion (capped at 0.25 and 1 h). Measured at 20,000 machines, telemetry 0.25 Hz, speed 20: about 5,000
    telemetry, 1,600 job, 1,400 machine and 1,200 quality events per wall second (before: 5,000, 1,500, 1,150, 1,100).
    """

    seed: int = 7
    speed: float = 20.0
    nodes: int | None = None
    machines_per_node: int | None = None
    telemetry_hz: float = 0.2
    start: datetime | None = None
    progress_step: float | None = None
    heartbeat_s: float | None = None
    quality_refresh_s: float = 900.0


class ClusterInfo(NamedTuple):
    id: str
    name: str
    region: str


class NodeLink(BaseModel):
    """The payload of the simulation's own ``sim.link_down`` / ``sim.link_up`` signals (not contract events)."""

    node_id: str
    at: datetime


LINK_DOWN = "sim.link_down"
LINK_UP = "sim.link_up"
"""A node's WAN link to the cluster went down / came back. The node itself works on (its machines run, fault and
send telemetry, its agent on the shop floor serves it and takes commands), so the simulation keeps emitting its
events; only the cluster API's view holds them back and shows the node offline (``console.demo.views.View``). These
signals are not contract events: a view translates them (a node agent drops them)."""

CLUSTER = ClusterInfo("north-england", "North of England micro-factory cluster", "North of England")

# heap event kinds
(_ORDER, _BATCH, _FAULT, _CLEAR, _OUTAGE, _RESTORE, _REMOVE, _SHELVE, _BACKLOG, _QUALITY, _WARN_END, _PROGRESS) = range(
    12
)

MAX_STEP_S = 1.0
QUALITY_CHUNK = 200  # machines looked at per quality flush event: a 20,000-machine flush is 100 short events
QUALITY_MAX_EVERY_S = 600.0  # at scale, a machine's quality is sent at most this often (see SimConfig)
SCALE_MACHINES = 2000  # beyond this many machines, progress steps and heartbeats grow (see SimConfig)
MAX_QUEUE = 3  # jobs waiting on one machine (besides the one it runs); more wait in the cluster backlog
REMOVE_AFTER_S = 900.0
MIN_REMOVE_AFTER_S = 180.0
BACKLOG_EVERY_S = 30.0
QUALITY_EVERY_S = 60.0
TARGET_UTILISATION = 0.8
SAMPLE = 10  # machines the scheduler scores per placement when a (process, material) pool is large
KM_COST_S = 30.0  # scheduler: one km of delivery weighs like 30 s of waiting
CO2E_KG_PER_KM = 0.12  # a shared van load
_PRIORITY_WEIGHTS = ((1, 5), (2, 15), (3, 50), (4, 20), (5, 10))
_UNAVAILABLE = ("fault", "blocked", "maintenance")


def _faults_by_kind() -> dict[str, list[FaultSpec]]:
    out: dict[str, list[FaultSpec]] = {}
    for spec in FAULTS:
        for kind in spec.kinds:
            out.setdefault(kind, []).append(spec)
    return out


_KIND_FAULTS = _faults_by_kind()


class Simulation:
    """The world. See the module docstring; the server reads it, subscribes to it, ticks it and commands it."""

    def __init__(self, config: SimConfig, clock: Clock) -> None:
        self.config = config
        self._clock = clock
        self._start = (config.start or DEFAULT_START).astimezone(UTC)
        seed = config.seed
        self._seed = seed
        self._rng = random.Random(seed)
        self._orders_rng = random.Random(seed * 31 + 1)
        self._fault_rng = random.Random(seed * 31 + 2)
        self._tele_rng = random.Random(seed * 31 + 3)
        self._t = 0.0
        self._step_start = 0.0  # the sub-step under way (its end is None between sub-steps): see tick(budget_s)
        self._step_end: float | None = None
        self._local_node: int | None = None  # the node whose own agent is asking (its WAN link does not matter)
        self._subs: list[Callback] = []
        self._heap: list[tuple[float, int, int, Any, Any]] = []
        self._heap_n = 0

        self._nodes, self._machines = build_world(self._rng, config.nodes, config.machines_per_node, q.WINDOW_S)
        self._node_by_id = {n.id: n for n in self._nodes}
        self._machine_by_id = {m.id: m for m in self._machines}
        self._by_process: dict[str, list[int]] = {}
        self._by_pm: dict[tuple[str, str], list[int]] = {}
        count = len(self._machines)
        scale = max(1.0, count / SCALE_MACHINES)
        self._progress_step = config.progress_step if config.progress_step is not None else min(0.25, 0.05 * scale)
        self._heartbeat_s = config.heartbeat_s if config.heartbeat_s is not None else min(3600.0, 120.0 * scale)
        # Finished jobs stay visible a while, then go (job.removed). In a big cluster they would be a third of the
        # snapshot's jobs: keep them for less (15 min up to SCALE_MACHINES machines; 3 min at 20,000).
        self._remove_after_s = max(MIN_REMOVE_AFTER_S, REMOVE_AFTER_S / scale)
        # A machine whose numbers moved is re-sent at the next minute's flush up to SCALE_MACHINES machines; beyond,
        # at most every this many seconds (10 min at 20,000), so quality is not a quarter of a big cluster's stream.
        self._quality_min_s = QUALITY_EVERY_S if scale <= 1.0 else min(QUALITY_MAX_EVERY_S, QUALITY_EVERY_S * scale)
        for m in self._machines:
            # Heartbeats and quality refreshes are due at staggered times, so they spread evenly over the minutes.
            m.sent_at = -self._heartbeat_s * m.idx / count
            m.quality_sent_at = -config.quality_refresh_s * m.idx / count
            self._by_process.setdefault(m.process, []).append(m.idx)
            for material in m.materials:
                self._by_pm.setdefault((m.process, material), []).append(m.idx)
            m.telemetry = baseline(m.kind, "idle", m.materials[0] if m.materials else None)

        self._jobs: dict[str, JobRec] = {}
        self._backlog: dict[str, None] = {}  # insertion-ordered set of job ids waiting for a machine
        self._removed_node: OrderedDict[str, str | None] = OrderedDict()
        self._job_n = 10000
        self._order_n = 20000
        self._alerts = AlertBook(self._send_alert, lambda: bool(self._subs))
        self._audit: OrderedDict[str, AuditEntry] = OrderedDict()
        self._audit_n = 0
        self._tele_ptr = 0
        self._tele_acc = 0.0
        self._node_totals: dict[int, list[float]] = {}
        self._flush_dirty_nodes: dict[int, None] = {}  # nodes touched by the quality flush under way
        # pooled measurements for the node and cluster control charts
        self._node_meas = [q.Measurements() for _ in self._nodes]
        self._cluster_meas = q.Measurements()
        self._distances = [
            [haversine_km(n.lat, n.lon, lat, lon) for _, lat, lon in CUSTOMER_REGIONS] for n in self._nodes
        ]

        # order arrivals: enough work to keep the machines ~80 % busy
        self._process_weights: list[tuple[str, float]] = []
        rate = 0.0
        for process, idxs in self._by_process.items():
            spec = self._machines[idxs[0]].spec
            mean_job_s = (sum(spec.unit_s) / 2) * (sum(spec.quantity) / 2) * 1.1
            r = TARGET_UTILISATION * len(idxs) / mean_job_s
            self._process_weights.append((process, r))
            rate += r
        self._job_rate = rate  # jobs per simulated second
        self._initial_work()
        self._push(self._orders_rng.expovariate(self._job_rate / 2.0), _ORDER)
        for m in self._machines:
            self._schedule_fault(m)
        for n in self._nodes:
            self._push(self._fault_rng.expovariate(NODE_OUTAGE_PER_HOUR / 3600.0), _OUTAGE, n.idx)
        self._push(BACKLOG_EVERY_S, _BACKLOG)
        self._push(QUALITY_EVERY_S, _QUALITY)

    # ================================================================================================================
    # time, heap, subscribers
    # ================================================================================================================

    @property
    def start(self) -> datetime:
        return self._start

    def now(self) -> datetime:
        """The simulated time the world has been advanced to."""
        return self._at(self._t)

    def _at(self, t: float) -> datetime:
        return self._start + timedelta(seconds=t)

    def _push(self, t: float, kind: int, a: Any = None, b: Any = None) -> None:
        self._heap_n += 1
        heapq.heappush(self._heap, (t, self._heap_n, kind, a, b))

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Receive every event as ``callback(event_type, payload)``, synchronously, unnumbered."""
        self._subs.append(callback)

        def unsubscribe() -> None:
            if callback in self._subs:
                self._subs.remove(callback)

        return unsubscribe

    def _send(self, event_type: str, payload: ApiModel) -> None:
        for cb in list(self._subs):
            cb(event_type, payload)

    def _send_alert(self, event_type: str, alert: Alert) -> None:
        self._send(event_type, alert)

    def tick(self, budget_s: float | None = None) -> bool:
        """Advance the world to ``clock.now()``, emitting what happens on the way.

        ``budget_s`` (wall seconds) bounds the work of one call, for a server whose loop must keep answering while a
        big cluster ticks: past the budget the call returns ``False`` between two heap events, mid sub-step (the
        sub-step's end is kept, so resuming gives the same events as one long call), and the caller calls again. A
        call always handles at least one heap event or finishes a sub-step, so repeated calls make progress. It
        returns ``True`` once the world has caught up. Without a budget it always catches up (tests).
        """
        target = (self._clock.now() - self._start).total_seconds()
        heap = self._heap
        deadline = None if budget_s is None else time.perf_counter() + budget_s
        handled = 0
        while self._t < target or self._step_end is not None:
            if self._step_end is None:
                self._step_start = self._t
                self._step_end = min(self._t + MAX_STEP_S, target)
            step_end = self._step_end
            while heap and heap[0][0] <= step_end:
                if deadline is not None and handled and time.perf_counter() > deadline:
                    return False
                handled += 1
                t, _, kind, a, b = heapq.heappop(heap)
                self._t = max(self._t, t)
                self._handle(kind, a, b)
            self._t = step_end
            self._step_end = None
            self._telemetry(step_end - self._step_start)
            if deadline is not None and time.perf_counter() > deadline:
                return self._t >= target
        return True

    def _handle(self, kind: int, a: Any, b: Any) -> None:
        if kind == _BATCH:
            self._on_batch(a, b)
        elif kind == _ORDER:
            self._on_order()
        elif kind == _FAULT:
            self._on_fault(a, b)
        elif kind == _CLEAR:
            m = self._machines[a]
            if m.condition is not None and m.condition_epoch == b:
                self._clear_condition(m)
        elif kind == _WARN_END:
            m = self._machines[a]
            if m.warn is not None and m.warn.code == b:
                m.warn = None
                self._alerts.clear(self.now(), "machine", m.id, b)
                self._touch(m)
        elif kind == _REMOVE:
            self._on_remove(a)
        elif kind == _OUTAGE:
            self._on_outage(a)
        elif kind == _RESTORE:
            self._on_restore(a)
        elif kind == _SHELVE:
            self._alerts.shelve_expired(self.now(), a, b)
        elif kind == _BACKLOG:
            self._retry_backlog()
            self._push(self._t + BACKLOG_EVERY_S, _BACKLOG)
        elif kind == _PROGRESS:
            self._on_progress(a, b)
        elif kind == _QUALITY:
            if a is None:  # the minute's flush starts: heartbeats, then machines in chunks (a: the next index)
                self._heartbeats()
                self._flush_dirty_nodes = {}
                a = 0
            if self._flush_quality(a):
                self._push(self._t + QUALITY_EVERY_S, _QUALITY)
            else:
                self._push(self._t, _QUALITY, a + QUALITY_CHUNK)

    # ================================================================================================================
    # telemetry
    # ================================================================================================================

    def _telemetry(self, dt: float) -> None:
        machines = self._machines
        count = len(machines)
        self._tele_acc += self.config.telemetry_hz * count / self.config.speed * dt
        n = int(self._tele_acc)
        if n <= 0:
            return
        self._tele_acc -= n
        n = min(n, count)
        at = self.now()
        for _ in range(n):
            m = machines[self._tele_ptr]
            self._tele_ptr = (self._tele_ptr + 1) % count
            values = self._sample(m)
            if self._subs:
                self._send("machine.telemetry", MachineTelemetry(machine_id=m.id, at=at, values=values))

    def _sample(self, m: MachineRec) -> dict[str, float]:
        cond = m.condition or m.warn
        values = sample(m.kind, m.state, self._loaded_material(m), cond.code if cond else None, self._tele_rng)
        m.telemetry = values
        return values

    def _loaded_material(self, m: MachineRec) -> str | None:
        if m.job is not None:
            return self._jobs[m.job].material
        return m.materials[0] if m.materials and m.kind != "inspection" else None

    # ================================================================================================================
    # orders and the scheduler
    # ================================================================================================================

    def _initial_work(self) -> None:
        """Start with the shop already busy: about one job per machine, the running ones part-way done."""
        for _ in range(len(self._machines)):
            job = self._new_job(self._new_order_id(), self._orders_rng.randrange(len(CUSTOMER_REGIONS)))
            self._jobs[job.id] = job
            if not self._place(job):
                self._backlog[job.id] = None
        for m in self._machines:
            if m.job is None:
                continue
            j = self._jobs[m.job]
            steps = math.ceil(j.quantity / j.batch)
            j.done_qty = min(j.quantity - j.batch_n, j.batch * self._rng.randrange(steps))
            j.done_qty = max(0, j.done_qty)
            left = j.batch_total * (0.05 + 0.95 * self._rng.random())
            j.epoch += 1
            j.batch_end = self._t + left
            self._push(j.batch_end, _BATCH, j.id, j.epoch)
            self._schedule_progress(j)

    def _new_order_id(self) -> str:
        self._order_n += 1
        return f"O-{self._order_n}"

    def _on_order(self) -> None:
        rng = self._orders_rng
        self._push(self._t + rng.expovariate(self._job_rate / 2.0), _ORDER)
        if len(self._backlog) > 3 * len(self._machines):
            return  # the cluster is saturated (everything paused?): the sales desk stops promising
        order_id = self._new_order_id()
        region = rng.randrange(len(CUSTOMER_REGIONS))
        for _ in range(1 + int(rng.random() < 0.5) + int(rng.random() < 0.5)):
            job = self._new_job(order_id, region)
            self._jobs[job.id] = job
            if not self._place(job):
                self._backlog[job.id] = None
                self._emit_job(job)

    def _new_job(self, order_id: str, region: int) -> JobRec:
        rng = self._orders_rng
        x = rng.random() * self._job_rate
        process = self._process_weights[-1][0]
        for name, r in self._process_weights:
            if x < r:
                process = name
                break
            x -= r
        pool = self._by_process[process]
        template = self._machines[pool[rng.randrange(len(pool))]]
        spec = template.spec
        material = rng.choice(template.materials) if spec.materials else rng.choice(ALL_MATERIALS)
        big = rng.random() < 0.12
        lo, hi = (0.55, 0.95) if big else (0.08, 0.5)
        size = tuple(round(d * (lo + (hi - lo) * rng.random()), 1) for d in template.envelope)
        quantity = rng.randint(*spec.quantity)
        unit_s = spec.unit_s[0] + (spec.unit_s[1] - spec.unit_s[0]) * rng.random()
        x = rng.random() * 100
        priority = 3
        for p, w in _PRIORITY_WEIGHTS:
            if x < w:
                priority = p
                break
            x -= w
        part = rng.choice(PARTS[process])
        rev = rng.randint(1, 9)
        slug = part.replace(", ", "-").replace(" ", "-")
        self._job_n += 1
        job_id = f"J-{self._job_n}"
        file = f"{slug}-r{rev}.{spec.ext}"
        duration = unit_s * quantity * 1.1
        return JobRec(
            id=job_id,
            order_id=order_id,
            part=part,
            file=file,
            sha256=hashlib.sha256(f"{order_id}/{job_id}/{file}".encode()).hexdigest(),
            process=process,
            material=material,
            size=(size[0], size[1], size[2]),
            size_sorted=tuple(sorted(size)),
            quantity=quantity,
            priority=priority,
            due_at=self._t + 1800.0 + duration * (2.0 + 6.0 * rng.random()),
            created=self._t,
            region=region,
            unit_s=unit_s,
            batch=max(1, math.ceil(quantity / 8)),
        )

    def _distance_km(self, node: NodeRec, region: int) -> float:
        return self._distances[node.idx][region]

    def _can_take(self, j: JobRec, m: MachineRec) -> bool:
        """The scheduler's fast check: ``_blockers`` is empty and the machine is not down (no strings built)."""
        node = self._nodes[m.node]
        return (
            m.condition is None
            and not m.held
            and not m.draining
            and self._reachable(node)
            and not node.paused
            and j.process == m.process
            and j.material in m.materials
            and all(s <= e for s, e in zip(j.size_sorted, m.env_sorted, strict=True))
        )

    def _remaining_s(self, j: JobRec, m: MachineRec) -> float:
        """Machine time the job still needs on ``m``."""
        if j.batch_end is not None:
            current = max(0.0, j.batch_end - self._t)
            rest = j.quantity - j.done_qty - j.batch_n
        elif j.batch_left is not None:
            current = j.batch_left
            rest = j.quantity - j.done_qty - j.batch_n
        else:
            current = 0.0
            rest = j.quantity - j.done_qty
        return current + max(0, rest) * j.unit_s * m.slowness

    def _wait_s(self, m: MachineRec, before: int | None = None) -> float:
        """How long until ``m`` could start a new job (or the job at queue index ``before``)."""
        wait = 0.0
        if m.job is not None:
            wait += self._remaining_s(self._jobs[m.job], m)
        queue = m.queue if before is None else m.queue[:before]
        for jid in queue:
            wait += self._remaining_s(self._jobs[jid], m)
        if m.condition is not None:
            wait += 600.0
        return wait

    def _blockers(self, j: JobRec, m: MachineRec) -> list[tuple[str, str]]:
        """Why ``m`` cannot take ``j``: (code, human text) pairs, the contract's codes first."""
        out: list[tuple[str, str]] = []
        node = self._nodes[m.node]
        if j.process != m.process:
            out.append(("incompatible_process", f"job {j.id} needs {j.process}; {m.id} does {m.process}"))
        elif j.material not in m.materials:
            loaded = ", ".join(m.materials) or "nothing"
            out.append(("incompatible_material", f"job {j.id} needs {j.material}; {m.id} has {loaded} loaded"))
        if any(s > e for s, e in zip(j.size_sorted, m.env_sorted, strict=True)):
            size = "x".join(f"{v:g}" for v in j.size)
            env = "x".join(f"{v:g}" for v in m.envelope)
            out.append(("envelope_too_small", f"part {size} mm does not fit {m.id} ({env} mm)"))
        if not self._reachable(node):
            out.append(("target_offline", f"{node.id} is offline"))
        if node.paused:
            out.append(("target_paused", f"{node.id} is paused"))
        elif m.held or m.draining:
            out.append(("target_paused", f"{m.id} is paused" if m.held else f"{m.id} is draining"))
        if m.condition is not None and m.condition.effect == "fault":
            out.append(("target_unavailable", f"{m.id} is in fault ({m.condition.reason})"))
        return out

    def _cost(self, j: JobRec, m: MachineRec) -> tuple[float, float, float]:
        """(cost in seconds, wait, distance km): waiting weighs more for urgent jobs; late delivery costs double."""
        wait = self._wait_s(m)
        own = self._remaining_s(j, m) if j.machine == m.idx else j.quantity * j.unit_s * m.slowness
        dist = self._distance_km(self._nodes[m.node], j.region)
        cost = wait * (6 - j.priority) / 3.0 + dist * KM_COST_S
        late = self._t + wait + own - j.due_at
        if late > 0:
            cost += 2.0 * late
        return cost, wait, dist

    def _place(self, j: JobRec) -> bool:
        """Put a job in the queue of the best compatible machine that has room; False if none has."""
        pool = self._by_pm.get((j.process, j.material)) or self._by_process.get(j.process, [])
        if j.process == "inspection":
            pool = self._by_process.get("inspection", [])
        picks = pool if len(pool) <= SAMPLE * 2 else self._rng.choices(pool, k=SAMPLE)
        best: MachineRec | None = None
        best_cost = math.inf
        for idx in picks:
            m = self._machines[idx]
            if len(m.queue) >= MAX_QUEUE or not self._can_take(j, m):
                continue
            cost = self._cost(j, m)[0]
            if cost < best_cost:
                best, best_cost = m, cost
        if best is None:
            return False
        self._enqueue(j, best)
        return True

    def _enqueue(self, j: JobRec, m: MachineRec) -> None:
        key = (j.priority, j.due_at)
        pos = len(m.queue)
        for i, jid in enumerate(m.queue):
            other = self._jobs[jid]
            if key < (other.priority, other.due_at):
                pos = i
                break
        m.queue.insert(pos, j.id)
        j.machine = m.idx
        j.node = m.node
        self._backlog.pop(j.id, None)
        if not self._settle(m):
            self._emit_machine(m)  # its queue grew: nothing visible on the machine, but keep readers in step
        for jid in m.queue[pos:]:
            self._emit_job(self._jobs[jid])
        if m.job == j.id:
            self._emit_job(j)

    def _retry_backlog(self) -> None:
        if not self._backlog:
            return
        order = sorted(self._backlog, key=lambda jid: (self._jobs[jid].priority, self._jobs[jid].due_at, jid))
        for jid in order[:300]:
            j = self._jobs[jid]
            if not j.held:
                self._place(j)

    # ================================================================================================================
    # machines: state, jobs in progress
    # ================================================================================================================

    @staticmethod
    def _derive(m: MachineRec) -> str:
        if m.condition is not None:
            return {"fault": "fault", "blocked": "blocked"}.get(m.condition.effect, "maintenance")
        if m.held:
            return "paused"
        if m.job is not None:
            return "running"
        return "idle"

    def _can_start(self, m: MachineRec) -> bool:
        return (
            m.job is None
            and m.condition is None
            and not m.held
            and not m.draining
            and not self._nodes[m.node].paused
            and bool(m.queue)
        )

    def _settle(self, m: MachineRec) -> bool:
        """Start the next job if the machine may, and bring its state up to date. True if it changed (and was sent)."""
        started: JobRec | None = None
        if self._can_start(m):
            for i, jid in enumerate(m.queue):
                j = self._jobs[jid]
                if not j.held:
                    del m.queue[i]
                    m.job = jid
                    self._new_batch(j, m)
                    started = j
                    break
        new = self._derive(m)
        if new == m.state and started is None:
            return False
        if new != m.state or new == "running":  # (a new job on a machine that never stopped still needs its batch)
            self._transition(m, new)
        self._emit_machine(m)
        if started is not None:
            self._emit_job(started)
            for jid in m.queue:
                self._emit_job(self._jobs[jid])
        return True

    def _touch(self, m: MachineRec, *jobs: JobRec) -> None:
        """After a change to ``m``: settle, send the machine, its current job and ``jobs``."""
        if not self._settle(m):
            self._emit_machine(m)
        sent: set[str] = set()
        if m.job is not None:
            self._emit_job(self._jobs[m.job])
            sent.add(m.job)
        for j in jobs:
            if j.id not in sent and j.id in self._jobs:
                self._emit_job(j)
                sent.add(j.id)

    def _transition(self, m: MachineRec, new: str) -> None:
        old = m.state
        t = self._t
        if old == "running":
            q.book(m, m.acct_since, t, 0)
        elif old in _UNAVAILABLE:
            q.book(m, m.acct_since, t, 1)
        m.acct_since = t
        job = self._jobs[m.job] if m.job is not None else None
        if old == "running" and job is not None and job.batch_end is not None:
            job.batch_left = max(0.0, job.batch_end - t)
            job.batch_end = None
            job.epoch += 1
        m.state = new
        m.state_since = t
        m.quality_dirty = True
        if new == "running" and job is not None:
            if job.batch_left is None:
                self._new_batch(job, m)
            job.batch_end = t + (job.batch_left or 0.0)
            job.batch_left = None
            job.epoch += 1
            self._push(job.batch_end, _BATCH, job.id, job.epoch)
            self._schedule_progress(job)
        node = self._nodes[m.node]
        node.bad += (new in ("fault", "blocked")) - (old in ("fault", "blocked"))
        self._sample(m)
        self._update_node(node)

    def _new_batch(self, j: JobRec, m: MachineRec) -> None:
        n = max(1, min(j.batch, j.quantity - j.done_qty))
        j.batch_n = n
        j.batch_total = j.unit_s * n * m.slowness
        j.batch_left = j.batch_total
        j.batch_end = None

    def _spc(self, m: MachineRec) -> q.MachineSpc:
        if m.spc is None:
            m.spc = q.MachineSpc(self._seed, m)
        spc = m.spc
        assert isinstance(spc, q.MachineSpc)
        return spc

    def _on_batch(self, job_id: str, epoch: int) -> None:
        j = self._jobs.get(job_id)
        if j is None or j.epoch != epoch or j.batch_end is None or j.machine is None:
            return
        m = self._machines[j.machine]
        wear = m.warn is not None
        spc = self._spc(m)
        good, scrap, rework = spc.measure(j.batch_n, m.defect_p * (3.0 if wear else 1.0), wear)
        for c in spc.chars:  # the node's and the cluster's charts get the same measurements
            self._node_meas[m.node].add(m.process, c.spec, c.values[-1])
            self._cluster_meas.add(m.process, c.spec, c.values[-1])
        t = self._t
        q.add_count(m, t, 2, j.unit_s * j.batch_n)
        q.add_count(m, t, 3, good)
        q.add_count(m, t, 4, scrap)
        q.add_count(m, t, 5, good - rework)
        m.quality_dirty = True
        j.done_qty = min(j.quantity, j.done_qty + good)
        j.scrap_qty += scrap
        j.batch_end = None
        j.batch_left = None
        if j.done_qty >= j.quantity:
            self._finish(j, "completed")
        elif j.scrap_qty > j.quantity // 2 + 3:
            self._finish(j, "failed", "too many parts scrapped")
        else:
            self._new_batch(j, m)
            j.batch_end = t + (j.batch_left or 0.0)
            j.batch_left = None
            j.epoch += 1
            self._push(j.batch_end, _BATCH, j.id, j.epoch)
            self._schedule_progress(j)
            self._emit_job(j)
            self._emit_machine(m)

    def _schedule_progress(self, j: JobRec) -> None:
        """Wake up when the running batch of ``j`` takes its progress one ``progress_step`` further (not at or after
        the batch's end: finishing a batch sends the job anyway)."""
        step = self._progress_step
        if step <= 0 or j.batch_end is None or j.batch_n <= 0 or j.batch_total <= 0:
            return
        target = (self._job_progress(j) + step) * j.quantity  # parts done then
        frac = (target - j.done_qty) / j.batch_n
        if frac >= 1.0:
            return
        at = j.batch_end - (1.0 - max(0.0, frac)) * j.batch_total
        self._push(max(at, self._t), _PROGRESS, j.id, j.epoch)

    def _on_progress(self, job_id: str, epoch: int) -> None:
        j = self._jobs.get(job_id)
        if j is None or j.epoch != epoch or j.batch_end is None or j.machine is None:
            return
        m = self._machines[j.machine]
        if m.job != j.id:
            return
        self._emit_machine(m)
        self._emit_job(j)
        self._schedule_progress(j)

    def _heartbeats(self) -> None:
        """Re-send nodes and machines that sent nothing for ``heartbeat_s``: their ``last_seen`` moves on."""
        if not self._subs:
            return
        t, every = self._t, self._heartbeat_s
        for n in self._nodes:
            if t - n.sent_at >= every:
                n.sent_at = t
                self._send("node.updated", self._node_model(n))
        for m in self._machines:
            if t - m.sent_at >= every:
                self._emit_machine(m)

    def _finish(self, j: JobRec, status: str, why: str | None = None) -> None:
        """End a job (completed, failed, cancelled); its machine, if it was running it, goes on."""
        t = self._t
        j.status = status
        j.finished_at = t
        j.batch_end = None
        j.batch_left = None
        j.epoch += 1
        j.held = False
        self._push(t + self._remove_after_s, _REMOVE, j.id)
        self._backlog.pop(j.id, None)
        if status == "failed":  # an event, not a lasting condition: it is raised and cleared at once
            now = self.now()
            self._alerts.raise_(now, "job", j.id, "job_failed", "medium", f"job {j.id} ({j.part}) failed: {why}")
            self._alerts.clear(now, "job", j.id, "job_failed")
        if j.machine is None:
            self._emit_job(j)
            return
        m = self._machines[j.machine]
        if m.job != j.id:
            if j.id in m.queue:
                pos = m.queue.index(j.id)
                del m.queue[pos]
                for jid in m.queue[pos:]:
                    self._emit_job(self._jobs[jid])
            self._emit_job(j)
            return
        m.job = None
        if m.hold_kind == "job":
            m.held = False
            m.hold_kind = None
            m.paused_by = None
        if m.draining:
            m.draining = False
            m.held = True
            m.hold_kind = "machine"
        if status != "cancelled" and m.condition is None:
            if m.warn is not None and m.warn.code == "tool_wear":
                self._set_condition(m, TOOL_CHANGE)
            elif m.kind in BED_NOT_CLEAR.kinds and self._fault_rng.random() < BED_NOT_CLEAR_P:
                self._set_condition(m, BED_NOT_CLEAR)
                self._alerts.raise_(
                    self.now(), "machine", m.id, BED_NOT_CLEAR.code, BED_NOT_CLEAR.priority,
                    f"{m.id}: bed not clear after job {j.id}; confirm with ready",
                )  # fmt: skip
        self._touch(m, j)

    def _on_remove(self, job_id: str) -> None:
        j = self._jobs.pop(job_id, None)
        if j is None:
            return
        node = self._nodes[j.node] if j.node is not None else None
        self._removed_node[job_id] = node.id if node else None
        while len(self._removed_node) > 20000:
            self._removed_node.popitem(last=False)
        if self._subs:
            self._send("job.removed", JobRemoved(id=job_id))

    # ================================================================================================================
    # faults and nodes
    # ================================================================================================================

    def _schedule_fault(self, m: MachineRec) -> None:
        specs = _KIND_FAULTS.get(m.kind)
        if not specs:
            return
        rate = sum(s.per_hour for s in specs) / 3600.0
        m.fault_epoch += 1
        self._push(self._t + self._fault_rng.expovariate(rate), _FAULT, m.idx, m.fault_epoch)

    def _on_fault(self, idx: int, epoch: int) -> None:
        m = self._machines[idx]
        if m.fault_epoch != epoch:
            return
        self._schedule_fault(m)
        if m.state != "running":
            return  # faults here strike running machines (an idle one has nothing to go wrong)
        specs = _KIND_FAULTS[m.kind]
        x = self._fault_rng.random() * sum(s.per_hour for s in specs)
        spec = specs[-1]
        for s in specs:
            if x < s.per_hour:
                spec = s
                break
            x -= s.per_hour
        now = self.now()
        if spec.effect == "warn":
            if m.warn is None:
                m.warn = spec
                self._alerts.raise_(now, "machine", m.id, spec.code, spec.priority, f"{m.id}: {spec.reason}")
                if spec.code != "tool_wear":  # tool wear ends with a tool change after the job
                    lo, hi = spec.auto_clear_s
                    self._push(self._t + lo + (hi - lo) * self._fault_rng.random(), _WARN_END, m.idx, spec.code)
                self._sample(m)
                self._emit_machine(m)
            return
        job = self._jobs[m.job] if m.job is not None else None
        self._set_condition(m, spec)
        detail = f" during job {job.id}" if job else ""
        self._alerts.raise_(now, "machine", m.id, spec.code, spec.priority, f"{m.id}: {spec.reason}{detail}")
        if job is not None and spec.scrap:
            self._settle(m)  # suspends the batch
            job.scrap_qty += 1
            q.add_count(m, self._t, 4, 1)
            job.batch_left = None  # the part in progress is lost: the batch starts again
            if spec.fail_job:
                self._finish(job, "failed", spec.reason)
                return
        self._touch(m)

    def _set_condition(self, m: MachineRec, spec: FaultSpec) -> None:
        m.condition = spec
        m.condition_epoch += 1
        lo, hi = spec.auto_clear_s
        self._push(self._t + lo + (hi - lo) * self._fault_rng.random(), _CLEAR, m.idx, m.condition_epoch)

    def _clear_condition(self, m: MachineRec) -> None:
        spec = m.condition
        if spec is None:
            return
        m.condition = None
        m.condition_epoch += 1
        now = self.now()
        self._alerts.clear(now, "machine", m.id, spec.code)
        if spec is TOOL_CHANGE:
            m.warn = None
            self._alerts.clear(now, "machine", m.id, "tool_wear")
            self._spc(m).reset_drift()
        self._touch(m)

    def _node_state(self, n: NodeRec) -> str:
        """The node's own state (its WAN link aside: the cluster's view shows a node it cannot reach as offline)."""
        if n.paused:
            return "paused"
        if n.bad >= max(2, math.ceil(0.15 * len(n.machines))):
            return "degraded"
        return "online"

    def _update_node(self, n: NodeRec) -> None:
        state = self._node_state(n)
        if state != n.state:
            n.state = state
            if self._subs:
                n.sent_at = self._t
                self._send("node.updated", self._node_model(n))

    def set_link(self, node_id: str, up: bool) -> None:
        """Cut node ``node_id``'s WAN link now (``up=False``) until told otherwise, or bring it back (demo and tests:
        an outage on demand; the random outages go on as well)."""
        n = self._node_by_id.get(node_id)
        if n is None:
            raise KeyError(node_id)
        if up and not n.online:
            self._on_restore(n.idx, reschedule=False)
        elif not up and n.online:
            self._on_outage(n.idx, restore=False)

    def _on_outage(self, idx: int, restore: bool = True) -> None:
        """The node's WAN link goes down: a signal for the views, and the cluster's alert. The node works on."""
        n = self._nodes[idx]
        if not n.online:
            return
        n.online = False
        n.last_seen = self._t
        if self._subs:
            self._send(LINK_DOWN, NodeLink(node_id=n.id, at=self.now()))
        self._alerts.raise_(self.now(), "node", n.id, "node_offline", "high", f"{n.name}: network connection lost")
        if restore:
            lo, hi = NODE_OUTAGE_S
            self._push(self._t + lo + (hi - lo) * self._fault_rng.random(), _RESTORE, idx)

    def _on_restore(self, idx: int, reschedule: bool = True) -> None:
        n = self._nodes[idx]
        if n.online:
            return
        n.online = True
        n.last_seen = self._t
        if self._subs:
            self._send(LINK_UP, NodeLink(node_id=n.id, at=self.now()))
        self._alerts.clear(self.now(), "node", n.id, "node_offline")
        if reschedule:
            self._push(self._t + self._fault_rng.expovariate(NODE_OUTAGE_PER_HOUR / 3600.0), _OUTAGE, idx)

    def _reachable(self, n: NodeRec) -> bool:
        """Whether a command (or the scheduler) can reach node ``n``: its link is up, or the node's own agent asks."""
        return n.online or self._local_node == n.idx

    # ================================================================================================================
    # quality roll-up
    # ================================================================================================================

    def _machine_quality(self, m: MachineRec) -> Quality:
        return q.quality_model("machine", m.id, q.machine_totals(m, self._t), q.spc_of(self._spc(m)))

    def _node_sum(self, n: NodeRec) -> list[float]:
        totals = [0.0] * 6
        for idx in n.machines:
            for i, v in enumerate(q.machine_totals(self._machines[idx], self._t)):
                totals[i] += v
        return totals

    def _flush_quality(self, first: int = 0) -> bool:
        """Send ``quality.updated`` for machines whose numbers moved (at most every ``_quality_min_s``) or that were
        not sent for ``quality_refresh_s``, then their nodes and the cluster: once a minute. One call looks at
        ``QUALITY_CHUNK`` machines from ``first`` (so a big cluster's flush is many short heap events, and a budgeted
        tick can yield between them); True when this was the last chunk (nodes and cluster sent)."""
        dirty_nodes = self._flush_dirty_nodes
        t, refresh, least = self._t, self.config.quality_refresh_s, self._quality_min_s
        machines = self._machines
        for m in machines[first : first + QUALITY_CHUNK]:
            age = t - m.quality_sent_at
            if (m.quality_dirty and age >= least) or age >= refresh:
                m.quality_dirty = False
                m.quality_sent_at = t
                dirty_nodes[m.node] = None
                if self._subs:
                    self._send("quality.updated", self._machine_quality(m))
        if first + QUALITY_CHUNK < len(machines):
            return False
        self._flush_dirty_nodes = {}
        if not dirty_nodes:
            return True
        for idx in dirty_nodes:
            n = self._nodes[idx]
            self._node_totals[idx] = self._node_sum(n)
            if self._subs:
                spc = self._node_meas[idx].spc()
                self._send("quality.updated", q.quality_model("node", n.id, self._node_totals[idx], spc))
        if self._subs:
            self._send("quality.updated", self._cluster_quality(cached=True))
        return True

    def _cluster_quality(self, cached: bool) -> Quality:
        totals = [0.0] * 6
        for n in self._nodes:
            node_totals = self._node_totals.get(n.idx) if cached else None
            if node_totals is None:
                node_totals = self._node_sum(n)
                if cached:
                    self._node_totals[n.idx] = node_totals
            for i, v in enumerate(node_totals):
                totals[i] += v
        return q.quality_model("cluster", CLUSTER.id, totals, self._cluster_meas.spc())

    # ================================================================================================================
    # models (reads build them; events carry them)
    # ================================================================================================================

    def _node_model(self, n: NodeRec) -> Node:
        return Node(
            id=n.id,
            name=n.name,
            city=n.city,
            lat=n.lat,
            lon=n.lon,
            state=n.state,
            last_seen=self._at(self._t),
            machine_count=len(n.machines),
            agent_url=None,
        )

    def _job_status(self, j: JobRec) -> str:
        if j.finished_at is not None:
            return j.status
        if j.machine is None:
            return "paused" if j.held else "queued"
        m = self._machines[j.machine]
        if m.job == j.id:
            return "running" if m.state == "running" else "paused"
        return "paused" if j.held else "assigned"

    def _job_progress(self, j: JobRec) -> float:
        done = float(j.done_qty)
        if j.finished_at is None and j.batch_n:
            if j.batch_end is not None and j.batch_total > 0:
                done += j.batch_n * (1.0 - max(0.0, j.batch_end - self._t) / j.batch_total)
            elif j.batch_left is not None and j.batch_total > 0:
                done += j.batch_n * (1.0 - j.batch_left / j.batch_total)
        return round(min(1.0, max(0.0, done / j.quantity)), 4)

    def _job_eta(self, j: JobRec) -> datetime | None:
        if j.finished_at is not None:
            return self._at(j.finished_at) if j.status == "completed" else None
        if j.machine is None:
            return None
        m = self._machines[j.machine]
        if m.job == j.id:
            return self._at(self._t + self._remaining_s(j, m))
        pos = m.queue.index(j.id)
        return self._at(self._t + self._wait_s(m, before=pos) + self._remaining_s(j, m))

    def _job_model(self, j: JobRec) -> Job:
        status = self._job_status(j)
        queue_position = None
        if j.finished_at is None and j.machine is not None:
            m = self._machines[j.machine]
            if m.job != j.id:
                queue_position = m.queue.index(j.id) + 1
        return Job(
            id=j.id,
            order_id=j.order_id,
            part=j.part,
            design=Design(file=j.file, sha256=j.sha256),
            process=j.process,
            material=j.material,
            size_mm=j.size,
            quantity=j.quantity,
            done_qty=j.done_qty,
            scrap_qty=j.scrap_qty,
            priority=j.priority,
            due_at=self._at(j.due_at),
            status=status,
            node_id=self._nodes[j.node].id if j.node is not None else None,
            machine_id=self._machines[j.machine].id if j.machine is not None else None,
            queue_position=queue_position,
            progress=self._job_progress(j),
            eta=self._job_eta(j),
            created_at=self._at(j.created),
            customer_region=CUSTOMER_REGIONS[j.region][0],
        )

    def _machine_reason(self, m: MachineRec, node: NodeRec) -> str | None:
        if m.condition is not None:
            return m.condition.reason
        if m.held:
            if m.hold_kind == "job" and m.job is not None:
                return f"job {m.job} paused by {m.paused_by or 'operator'}"
            return f"paused by {m.paused_by or 'operator'}"
        if m.draining:
            return "draining: stops after the current job"
        if m.warn is not None:
            return m.warn.reason
        if node.paused and m.job is None:
            return "node paused"
        return None

    def _machine_model(self, m: MachineRec) -> Machine:
        node = self._nodes[m.node]
        return Machine(
            id=m.id,
            node_id=node.id,
            name=m.name,
            kind=m.kind,
            model=m.model,
            state=m.state,
            state_since=self._at(m.state_since),
            job_id=m.job,
            progress=self._job_progress(self._jobs[m.job]) if m.job is not None else None,
            materials=list(m.materials),
            processes=[m.process],
            envelope_mm=m.envelope,
            telemetry=dict(m.telemetry),
            state_reason=self._machine_reason(m, node),
            fault_code=m.condition.fault_code if m.condition is not None else None,
            paused_by=m.paused_by if (m.held or m.draining) else None,
            draining=m.draining,
            last_seen=self._at(self._t),
        )

    def _emit_machine(self, m: MachineRec) -> None:
        if not self._subs:
            return
        m.sent_at = self._t
        self._send("machine.updated", self._machine_model(m))

    def _emit_job(self, j: JobRec) -> None:
        if not self._subs:
            return
        self._send("job.updated", self._job_model(j))

    # ================================================================================================================
    # reads
    # ================================================================================================================

    def cluster_info(self) -> ClusterInfo:
        return CLUSTER

    def nodes(self) -> list[Node]:
        return [self._node_model(n) for n in self._nodes]

    def machines(self) -> list[Machine]:
        return [self._machine_model(m) for m in self._machines]

    def node_machines(self, node_id: str) -> list[Machine]:
        """The machines of one node (cheap: a view taking one node offline need not build every machine)."""
        n = self._node_by_id.get(node_id)
        return [self._machine_model(self._machines[idx]) for idx in n.machines] if n else []

    def jobs(self) -> list[Job]:
        return [self._job_model(j) for j in self._jobs.values()]

    def alerts(self) -> list[Alert]:
        return self._alerts.models()

    def quality(self) -> list[Quality]:
        """Cluster, every node, every machine (computed now, without touching the rate-limited cache)."""
        out = [self._cluster_quality(cached=False)]
        out += [q.quality_model("node", n.id, self._node_sum(n), self._node_meas[n.idx].spc()) for n in self._nodes]
        out += [self._machine_quality(m) for m in self._machines]
        return out

    def audit(self) -> list[AuditEntry]:
        """The recorded audit entries, oldest first (the last 10,000)."""
        return list(self._audit.values())

    def link_down(self) -> dict[str, datetime]:
        """The nodes whose WAN link to the cluster is down now, and since when (see ``LINK_DOWN``)."""
        return {n.id: self._at(n.last_seen) for n in self._nodes if not n.online}

    def node(self, node_id: str) -> Node | None:
        n = self._node_by_id.get(node_id)
        return self._node_model(n) if n else None

    def machine(self, machine_id: str) -> Machine | None:
        m = self._machine_by_id.get(machine_id)
        return self._machine_model(m) if m else None

    def job(self, job_id: str) -> Job | None:
        j = self._jobs.get(job_id)
        return self._job_model(j) if j else None

    def alert(self, alert_id: str) -> Alert | None:
        return self._alerts.get(alert_id)

    def node_of(self, kind: str, object_id: str) -> str | None:
        """The node an object belongs to (``node``, ``machine``, ``job``, ``alert``, ``audit``); None for cluster-wide
        objects, jobs still in the cluster backlog, and unknown ids. A removed job answers its last node for a while.
        """
        if kind == "node":
            return object_id if object_id in self._node_by_id else None
        if kind == "machine":
            m = self._machine_by_id.get(object_id)
            return self._nodes[m.node].id if m else None
        if kind == "job":
            j = self._jobs.get(object_id)
            if j is None:
                return self._removed_node.get(object_id)
            return self._nodes[j.node].id if j.node is not None else None
        if kind == "alert":
            source = self._alerts.source_of(object_id)
            return self.node_of(*source) if source else None
        if kind == "audit":
            entry = self._audit.get(object_id)
            return self.node_of(entry.target.kind, entry.target.id) if entry else None
        return None

    def node_of_event(self, event_type: str, payload: ApiModel) -> str | None:
        """The node an event is about (for a node agent's one-node view); None for cluster-wide events."""
        if isinstance(payload, Node):
            return payload.id
        if isinstance(payload, Machine):
            return payload.node_id
        if isinstance(payload, MachineTelemetry):
            return self.node_of("machine", payload.machine_id)
        if isinstance(payload, Job):
            return payload.node_id
        if isinstance(payload, JobRemoved):
            return self.node_of("job", payload.id)
        if isinstance(payload, Alert):
            return self.node_of(payload.source.kind, payload.source.id)
        if isinstance(payload, AuditEntry):
            return self.node_of(payload.target.kind, payload.target.id)
        if isinstance(payload, Quality):
            return self.node_of(payload.scope, payload.id)
        return None

    def reroute_candidates(self, job_id: str, local_node: str | None = None) -> list[RerouteCandidate]:
        """Machines that could take the job, best first; those with blockers (cannot take it) after; at most 20.
        ``local_node``: asked by that node's own agent (its machines are reachable whatever its WAN link)."""
        j = self._jobs.get(job_id)
        if j is None:
            raise SimCommandError(404, "not_found", f"job {job_id} not found")
        if j.finished_at is not None:
            return []
        self._local_node = self._node_by_id[local_node].idx if local_node in self._node_by_id else None
        try:
            return [self._candidate_model(j, *c) for c in self._candidates(j)[:20]]
        finally:
            self._local_node = None

    def _candidates(self, j: JobRec) -> list[tuple[MachineRec, list[tuple[str, str]], float, float, float]]:
        """(machine, blockers, cost, wait, distance) of every other machine of the job's process, best first."""
        scored: list[tuple[int, float, int, MachineRec, list[tuple[str, str]], float, float]] = []
        for idx in self._by_process.get(j.process, []):
            if j.machine == idx:
                continue
            m = self._machines[idx]
            blockers = self._blockers(j, m)
            cost, wait, dist = self._cost(j, m)
            scored.append((1 if blockers else 0, cost, idx, m, blockers, wait, dist))
        scored.sort(key=lambda s: (s[0], s[1], s[2]))
        return [(s[3], s[4], s[1], s[5], s[6]) for s in scored]

    def _candidate_model(
        self, j: JobRec, m: MachineRec, blockers: list[tuple[str, str]], cost: float, wait: float, dist: float
    ) -> RerouteCandidate:
        own = j.quantity * j.unit_s * m.slowness
        reasons = [
            f"{len(m.queue) + (m.job is not None)} job(s) ahead, ~{round(wait / 60)} min wait",
            f"{dist:.0f} km to {CUSTOMER_REGIONS[j.region][0]}",
        ]
        if j.node == m.node:
            reasons.append("same node")
        if self._t + wait + own > j.due_at:
            reasons.append("would finish after the due time")
        return RerouteCandidate(
            machine_id=m.id,
            node_id=self._nodes[m.node].id,
            score=round(1.0 / (1.0 + cost / 3600.0), 4),
            eta=self._at(self._t + wait + own),
            distance_km=round(dist, 1),
            co2e_kg=round(dist * CO2E_KG_PER_KM, 2),
            reasons=reasons,
            blockers=[f"{code}: {text}" for code, text in blockers],
        )

    # ================================================================================================================
    # commands
    # ================================================================================================================

    def execute(
        self,
        action: str,
        target_id: str,
        body: dict[str, Any] | None,
        operator: str,
        idempotency_key: str | None = None,
        local_node: str | None = None,
    ) -> AuditEntry:
        """Apply a command; return its ``applied`` audit entry. A refusal records a ``rejected`` entry and raises
        ``SimCommandError`` (with ``.audit`` set; not for ``invalid_text``, text that is not valid Unicode, which is
        refused before anything, audit included, is touched). ``local_node``: the command comes from that node's own
        agent on the shop floor, so the node's WAN link does not matter (from the cluster, a node whose link is down
        is ``target_offline``)."""
        body = body if body is not None else {}
        bad = invalid_text_at(
            {"target_id": target_id, "operator": operator, "idempotency_key": idempotency_key, "body": body}, "command"
        )
        if bad is not None:
            # Checked before anything is applied or audited: text that cannot be encoded as UTF-8 could not be
            # published (an event, an audit entry), so the command would change the simulation and break the feed.
            raise SimCommandError(422, "invalid_text", f"{bad} is not valid Unicode text (a lone surrogate)")
        handler = _COMMANDS.get(action)
        kind = action.split(".", 1)[0] if "." in action else "cluster"
        reason = body.get("reason") if isinstance(body, dict) and isinstance(body.get("reason"), str) else None
        self._local_node = self._node_by_id[local_node].idx if local_node in self._node_by_id else None
        try:
            if handler is None:
                raise SimCommandError(422, "unknown_action", f"unknown action {action!r}")
            if not isinstance(body, dict):
                raise SimCommandError(422, "invalid_body", "the body must be a JSON object")
            if kind == "alert":
                self._check_alert_reachable(target_id)
            detail = handler(self, target_id, body, operator)
        except SimCommandError as err:
            self._local_node = None
            err.audit = self._record(action, kind, target_id, operator, reason, idempotency_key, "rejected", err.detail)
            raise
        self._local_node = None
        return self._record(action, kind, target_id, operator, reason, idempotency_key, "applied", detail)

    def _check_alert_reachable(self, alert_id: str) -> None:
        """An alert of a machine or job of a node the cluster cannot reach lives on that node: not from here."""
        source = self._alerts.source_of(alert_id)
        if source is None or source[0] == "node":  # the node's own alerts (node_offline) are the cluster's
            return
        node_id = self.node_of(*source)
        n = self._node_by_id.get(node_id) if node_id else None
        if n is not None and not self._reachable(n):
            raise SimCommandError(409, "target_offline", f"alert {alert_id}: node {n.id} is offline")

    def _record(
        self,
        action: str,
        kind: str,
        target_id: str,
        operator: str,
        reason: str | None,
        key: str | None,
        outcome: str,
        detail: str | None,
    ) -> AuditEntry:
        self._audit_n += 1
        entry = AuditEntry(
            id=f"AU-{self._audit_n:06d}",
            at=self.now(),
            operator=operator,
            action=action,
            target=SourceRef(kind=kind, id=target_id),
            reason=reason,
            idempotency_key=key,
            outcome=outcome,
            detail=detail,
        )
        self._audit[entry.id] = entry
        while len(self._audit) > 10000:
            self._audit.popitem(last=False)
        self._send("audit.appended", entry)
        return entry

    @staticmethod
    def _parse(model: type[BaseModel], body: dict[str, Any]) -> Any:
        try:
            return model.model_validate(body)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            raise SimCommandError(422, "invalid_body", f"{where}: {first.get('msg', 'invalid')}") from None

    def _machine_for(self, machine_id: str) -> MachineRec:
        m = self._machine_by_id.get(machine_id)
        if m is None:
            raise SimCommandError(404, "not_found", f"machine {machine_id} not found")
        if not self._reachable(self._nodes[m.node]):
            raise SimCommandError(409, "target_offline", f"{m.id}: node {self._nodes[m.node].id} is offline")
        return m

    def _job_for(self, job_id: str) -> JobRec:
        j = self._jobs.get(job_id)
        if j is None:
            raise SimCommandError(404, "not_found", f"job {job_id} not found")
        if j.finished_at is not None:
            raise SimCommandError(409, "job_finished", f"job {j.id} is {j.status}")
        if j.node is not None and not self._reachable(self._nodes[j.node]):
            raise SimCommandError(409, "target_offline", f"job {j.id}: node {self._nodes[j.node].id} is offline")
        return j

    def _node_for(self, node_id: str) -> NodeRec:
        n = self._node_by_id.get(node_id)
        if n is None:
            raise SimCommandError(404, "not_found", f"node {node_id} not found")
        if not self._reachable(n):
            raise SimCommandError(409, "target_offline", f"node {n.id} is offline")
        return n

    # --- machines ----------------------------------------------------------------------------------------------------

    def _cmd_machine_pause(self, target: str, body: dict[str, Any], operator: str) -> str:
        b: PauseMachineBody = self._parse(PauseMachineBody, body)
        m = self._machine_for(target)
        if m.held and m.hold_kind == "machine":
            raise SimCommandError(409, "already_paused", f"{m.id} is already paused by {m.paused_by}")
        if b.mode == "after_job" and m.job is not None:
            if m.draining:
                raise SimCommandError(409, "already_draining", f"{m.id} already stops after job {m.job}")
            m.draining = True
            m.paused_by = operator
            self._touch(m)
            return f"{m.id} stops after job {m.job}"
        m.held = True
        m.hold_kind = "machine"
        m.paused_by = operator
        m.draining = False
        self._touch(m)
        return f"{m.id} paused" + (f"; job {m.job} paused" if m.job else "")

    def _cmd_machine_resume(self, target: str, body: dict[str, Any], operator: str) -> str:
        self._parse(ReasonBody, body)
        m = self._machine_for(target)
        if not m.held and not m.draining:
            raise SimCommandError(409, "not_paused", f"{m.id} is not paused (it is {m.state})")
        if m.job is not None and m.hold_kind == "job":
            self._jobs[m.job].held = False
        m.held = False
        m.hold_kind = None
        m.paused_by = None
        m.draining = False
        self._touch(m)
        return f"{m.id} resumed"

    def _cmd_machine_ready(self, target: str, body: dict[str, Any], operator: str) -> str:
        self._parse(ReasonBody, body)
        m = self._machine_for(target)
        if m.condition is None or m.condition.effect != "blocked":
            raise SimCommandError(409, "not_blocked", f"{m.id} is {m.state}; ready releases a blocked machine")
        reason = m.condition.reason
        self._clear_condition(m)
        return f"{m.id} released ({reason})"

    # --- nodes -------------------------------------------------------------------------------------------------------

    def _cmd_node_pause(self, target: str, body: dict[str, Any], operator: str) -> str:
        self._parse(ReasonBody, body)
        n = self._node_for(target)
        if n.paused:
            raise SimCommandError(409, "already_paused", f"node {n.id} is already paused by {n.paused_by}")
        n.paused = True
        n.paused_by = operator
        self._update_node(n)
        for idx in n.machines:  # idle machines now say why they take nothing
            m = self._machines[idx]
            if m.job is None:
                self._emit_machine(m)
        return f"node {n.id} takes no new jobs; running jobs finish"

    def _cmd_node_resume(self, target: str, body: dict[str, Any], operator: str) -> str:
        self._parse(ReasonBody, body)
        n = self._node_for(target)
        if not n.paused:
            raise SimCommandError(409, "not_paused", f"node {n.id} is not paused")
        n.paused = False
        n.paused_by = None
        self._update_node(n)
        for idx in n.machines:
            m = self._machines[idx]
            if not self._settle(m) and m.job is None:
                self._emit_machine(m)
        return f"node {n.id} takes jobs again"

    # --- jobs --------------------------------------------------------------------------------------------------------

    def _cmd_job_pause(self, target: str, body: dict[str, Any], operator: str) -> str:
        self._parse(ReasonBody, body)
        j = self._job_for(target)
        if j.held:
            raise SimCommandError(409, "already_paused", f"job {j.id} is already paused")
        j.held = True
        if j.machine is not None and self._machines[j.machine].job == j.id:
            m = self._machines[j.machine]
            if not m.held:
                m.held = True
                m.hold_kind = "job"
                m.paused_by = operator
            self._touch(m, j)
        else:
            self._emit_job(j)
        return f"job {j.id} paused"

    def _cmd_job_resume(self, target: str, body: dict[str, Any], operator: str) -> str:
        self._parse(ReasonBody, body)
        j = self._job_for(target)
        if not j.held:
            raise SimCommandError(409, "not_paused", f"job {j.id} is not paused (it is {self._job_status(j)})")
        j.held = False
        if j.machine is None:
            if not self._place(j):
                self._emit_job(j)
            return f"job {j.id} resumed"
        m = self._machines[j.machine]
        if m.job == j.id and m.hold_kind == "job":
            m.held = False
            m.hold_kind = None
            m.paused_by = None
        self._touch(m, j)
        return f"job {j.id} resumed"

    def _cmd_job_cancel(self, target: str, body: dict[str, Any], operator: str) -> str:
        self._parse(ReasonBody, body)
        j = self._job_for(target)
        self._finish(j, "cancelled")
        return f"job {j.id} cancelled"

    def _cmd_job_reroute(self, target: str, body: dict[str, Any], operator: str) -> str:
        b: RerouteBody = self._parse(RerouteBody, body)
        if sum((b.machine_id is not None, b.node_id is not None, bool(b.auto))) != 1:
            raise SimCommandError(422, "invalid_body", "give exactly one of machine_id, node_id or auto")
        j = self._job_for(target)
        old = self._machines[j.machine] if j.machine is not None else None
        in_progress = old is not None and old.job == j.id
        if in_progress and not b.restart:
            raise SimCommandError(
                409, "job_running", f"job {j.id} is {self._job_status(j)} on {old.id if old else '?'}; "
                "moving it scraps the part in progress: send restart=true",
            )  # fmt: skip
        if b.machine_id is not None:
            dest = self._machine_by_id.get(b.machine_id)
            if dest is None:
                raise SimCommandError(422, "unknown_target", f"machine {b.machine_id} not found")
            if old is dest:
                raise SimCommandError(409, "same_target", f"job {j.id} is already on {dest.id}")
            blockers = self._blockers(j, dest)
            if blockers:
                raise SimCommandError(409, blockers[0][0], blockers[0][1])
        else:
            cands = self._candidates(j)
            if b.node_id is not None:
                node = self._node_by_id.get(b.node_id)
                if node is None:
                    raise SimCommandError(422, "unknown_target", f"node {b.node_id} not found")
                if not self._reachable(node):
                    raise SimCommandError(409, "target_offline", f"node {node.id} is offline")
                if node.paused:
                    raise SimCommandError(409, "target_paused", f"node {node.id} is paused")
                cands = [c for c in cands if c[0].node == node.idx]
                if not cands:
                    raise SimCommandError(409, "incompatible_process", f"node {node.id} has no {j.process} machine")
            if not cands:
                raise SimCommandError(409, "no_candidate", f"no other machine does {j.process}")
            dest, blockers = cands[0][0], cands[0][1]
            if blockers:
                code, text = blockers[0]
                raise SimCommandError(409, code, f"no machine can take job {j.id}; the best: {text}")
        self._move(j, dest)
        scrapped = " (part in progress scrapped)" if in_progress else ""
        return f"job {j.id} moved from {old.id if old else 'the backlog'} to {dest.id}{scrapped}"

    def _move(self, j: JobRec, dest: MachineRec) -> None:
        old = self._machines[j.machine] if j.machine is not None else None
        if old is not None:
            if old.job == j.id:
                if old.state == "running" and j.batch_end is not None:
                    j.epoch += 1
                j.scrap_qty += 1
                q.add_count(old, self._t, 4, 1)
                old.quality_dirty = True
                j.batch_end = None
                j.batch_left = None
                j.batch_n = 0
                old.job = None
                if old.hold_kind == "job":
                    old.held = False
                    old.hold_kind = None
                    old.paused_by = None
                self._touch(old)
            else:
                pos = old.queue.index(j.id)
                del old.queue[pos]
                for jid in old.queue[pos:]:
                    self._emit_job(self._jobs[jid])
                self._emit_machine(old)
        j.machine = None
        j.node = None
        self._enqueue(j, dest)
        self._emit_job(j)

    # --- alerts ------------------------------------------------------------------------------------------------------

    def _cmd_alert_ack(self, target: str, body: dict[str, Any], operator: str) -> str:
        b: AckBody = self._parse(AckBody, body)
        self._alerts.ack(self.now(), target, operator, b.note)
        return f"alert {target} acknowledged"

    def _cmd_alert_shelve(self, target: str, body: dict[str, Any], operator: str) -> str:
        b: ShelveBody = self._parse(ShelveBody, body)
        until = b.until.astimezone(UTC) if b.until is not None else self._at(self._t + 3600.0)
        self._alerts.shelve(self.now(), target, until, b.note)
        self._push((until - self._start).total_seconds(), _SHELVE, target, until)
        return f"alert {target} shelved until {until.strftime('%Y-%m-%dT%H:%M:%SZ')}"

    def _cmd_alert_unshelve(self, target: str, body: dict[str, Any], operator: str) -> str:
        self._parse(ShelveBody, body)
        self._alerts.unshelve(self.now(), target)
        return f"alert {target} unshelved"


_COMMANDS: dict[str, Callable[[Simulation, str, dict[str, Any], str], str]] = {
    "machine.pause": Simulation._cmd_machine_pause,
    "machine.resume": Simulation._cmd_machine_resume,
    "machine.ready": Simulation._cmd_machine_ready,
    "node.pause": Simulation._cmd_node_pause,
    "node.resume": Simulation._cmd_node_resume,
    "job.pause": Simulation._cmd_job_pause,
    "job.resume": Simulation._cmd_job_resume,
    "job.cancel": Simulation._cmd_job_cancel,
    "job.reroute": Simulation._cmd_job_reroute,
    "alert.ack": Simulation._cmd_alert_ack,
    "alert.shelve": Simulation._cmd_alert_shelve,
    "alert.unshelve": Simulation._cmd_alert_unshelve,
}
