"""The simulation's internal state (plain mutable records) and the builder of the initial world.

The engine keeps these records, not pydantic models: at 20,000 machines, building and validating a model per change
would dominate the cost. Models are made only when something is read or emitted.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from .catalog import ALL_MATERIALS, CITIES, DEFAULT_NODE_SIZES, KIND_MIX, KINDS, City, FaultSpec, KindSpec

__all__ = ["JobRec", "MachineRec", "NodeRec", "build_world", "haversine_km"]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


@dataclass(slots=True)
class NodeRec:
    idx: int
    id: str
    name: str
    city: str
    lat: float
    lon: float
    machines: list[int] = field(default_factory=list)
    online: bool = True  # its WAN link to the cluster is up (the node itself works on either way)
    paused: bool = False
    paused_by: str | None = None
    last_seen: float = 0.0
    bad: int = 0  # machines in fault or blocked
    state: str = "online"
    sent_at: float = 0.0  # when the node was last sent (heartbeats)


@dataclass(slots=True)
class MachineRec:
    idx: int
    id: str
    node: int
    name: str
    spec: KindSpec
    model: str
    materials: tuple[str, ...]
    envelope: tuple[float, float, float]
    env_sorted: tuple[float, ...]
    slowness: float  # actual / ideal cycle time (performance losses)
    defect_p: float
    state: str = "idle"
    state_since: float = 0.0
    condition: FaultSpec | None = None  # fault / blocked / maintenance cause
    condition_epoch: int = 0
    maintenance: bool = False
    warn: FaultSpec | None = None  # a warning that does not stop the machine (tool wear ...)
    bed_not_clear: bool = False
    held: bool = False
    hold_kind: str | None = None  # "machine" (machine.pause) or "job" (job.pause of its current job)
    paused_by: str | None = None
    pause_reason: str | None = None  # the reason given with machine.pause
    draining: bool = False
    job: str | None = None
    queue: list[str] = field(default_factory=list)
    telemetry: dict[str, float] = field(default_factory=dict)
    fault_epoch: int = 0
    # accounting for OEE: time of the last booking and hour buckets [run, down, ideal, good, scrap, first_pass_good]
    acct_since: float = 0.0
    buckets: dict[int, list[float]] = field(default_factory=dict)
    history: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    spc: object | None = None  # quality.MachineSpc, created lazily
    quality_dirty: bool = False
    sent_at: float = 0.0  # when machine.updated was last sent (heartbeats)
    quality_sent_at: float = 0.0

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def process(self) -> str:
        return self.spec.process


@dataclass(slots=True)
class JobRec:
    id: str
    order_id: str
    part: str
    file: str
    sha256: str
    process: str
    material: str
    size: tuple[float, float, float]
    size_sorted: tuple[float, ...]
    quantity: int
    priority: int
    due_at: float
    created: float
    region: int
    unit_s: float
    batch: int  # parts made per progress step
    done_qty: int = 0
    scrap_qty: int = 0
    status: str = "queued"  # stored only for finished jobs; live status is derived by the engine
    node: int | None = None
    machine: int | None = None
    held: bool = False
    batch_n: int = 0  # parts in the batch in progress
    batch_total: float = 0.0  # its duration
    batch_left: float | None = None  # remaining when not running; None: no batch started
    batch_end: float | None = None  # when it ends, while running
    epoch: int = 0  # bumps on every interruption, so stale completion events are ignored
    finished_at: float | None = None


def _city_for(i: int) -> tuple[City, str, str, float, float]:
    """The i-th node's city, id suffix, short code and coordinates; beyond the real list, numbered copies nearby."""
    base = CITIES[i % len(CITIES)]
    rnd = i // len(CITIES)
    if rnd == 0:
        return base, "", base.code, base.lat, base.lon
    # deterministic jitter (a few km) without a random generator: the builder's draws stay the same for any N
    lat = base.lat + 0.03 * math.sin(rnd * 2.1 + i)
    lon = base.lon + 0.05 * math.cos(rnd * 1.7 + i)
    return base, f"-{rnd + 1}", f"{base.code}{rnd + 1}", lat, lon


def _mix(count: int, offset: int) -> list[str]:
    """Divide ``count`` machines between kinds by ``KIND_MIX`` (largest remainder), every kind once when possible.

    A node too small to have every kind gets a run of kinds starting at ``offset``, so that a cluster of small nodes
    (as tests use) still has them all.
    """
    if count < len(KIND_MIX):
        kinds = [KIND_MIX[(offset + k) % len(KIND_MIX)][0] for k in range(count)]
        return [kind for kind, _ in KIND_MIX if kind in kinds]
    total = sum(w for _, w in KIND_MIX)
    exact = [(kind, count * w / total) for kind, w in KIND_MIX]
    counts = {kind: int(x) for kind, x in exact}
    if count >= len(KIND_MIX):
        for kind, _ in KIND_MIX:
            counts[kind] = max(1, counts[kind])
    rest = count - sum(counts.values())
    order = sorted(exact, key=lambda kx: kx[1] - int(kx[1]), reverse=True)
    i = 0
    while rest > 0:
        counts[order[i % len(order)][0]] += 1
        rest -= 1
        i += 1
    while rest < 0:  # the minimum of one each overshot: take from the largest
        kind = max(counts, key=lambda k: counts[k])
        counts[kind] -= 1
        rest += 1
    return [kind for kind, _ in KIND_MIX for _ in range(counts[kind])]


def build_world(
    rng: random.Random, nodes: int | None, machines_per_node: int | None, window_s: float
) -> tuple[list[NodeRec], list[MachineRec]]:
    """Nodes and machines of a scenario. ``nodes=None``: the default six cities with ~120 machines."""
    n_nodes = len(DEFAULT_NODE_SIZES) if nodes is None else nodes
    node_recs: list[NodeRec] = []
    machine_recs: list[MachineRec] = []
    for i in range(n_nodes):
        city, suffix, code, lat, lon = _city_for(i)
        node_id = f"N-{city.name.upper()}{suffix}"
        name = f"{city.name} Micro-Factory{' ' + suffix[1:] if suffix else ''}"
        node = NodeRec(i, node_id, name, city.name, round(lat, 4), round(lon, 4))
        node_recs.append(node)
        if machines_per_node is not None:
            size = machines_per_node
        elif nodes is None:
            size = DEFAULT_NODE_SIZES[i]
        else:
            size = 20
        width = max(2, len(str(size)))
        model_counts: dict[str, int] = {}
        for j, kind in enumerate(_mix(size, i * size), start=1):
            spec = KINDS[kind]
            model, envelope = spec.models[rng.randrange(len(spec.models))]
            model_counts[model] = model_counts.get(model, 0) + 1
            if spec.materials:
                k = rng.randint(spec.loaded[0], spec.loaded[1])
                materials = tuple(sorted(rng.sample(spec.materials, k)))
            else:
                materials = ALL_MATERIALS
            env = (float(envelope[0]), float(envelope[1]), float(envelope[2]))
            m = MachineRec(
                idx=len(machine_recs),
                id=f"M-{code}-{j:0{width}d}",
                node=i,
                name=f"{city.name} {model} #{model_counts[model]}",
                spec=spec,
                model=model,
                materials=materials,
                envelope=env,
                env_sorted=tuple(sorted(env)),
                slowness=1.0 + rng.random() * 0.18,
                defect_p=0.004 + rng.random() * 0.02,
            )
            # eight hours of plausible history before the start, so OEE means something from the first minute
            util = 0.45 + rng.random() * 0.35
            run = window_s * util
            down = window_s * (0.01 + rng.random() * 0.08)
            ideal = run / m.slowness
            parts = ideal / (sum(spec.unit_s) / 2)
            scrap = parts * m.defect_p
            m.history = (run, down, ideal, parts - scrap, scrap, (parts - scrap) * (1 - rng.random() * 0.03))
            machine_recs.append(m)
            node.machines.append(m.idx)
    return node_recs, machine_recs
