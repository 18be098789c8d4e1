"""How a simulation is configured and tuned, and the few names its callers share with it.

Split out of the engine so every part of the simulation (core loop, scheduling, faults, roll-ups ...) reads its
settings and tuning constants from one place that imports nothing of the simulation itself: ``SimConfig`` (what a
caller chooses), the cluster's identity, the ``sim.link_down`` / ``sim.link_up`` signals the views translate, and the
constants that shape the story (changing one changes the events a seed gives).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from pydantic import BaseModel

__all__ = [
    "BACKLOG_EVERY_S",
    "CLUSTER",
    "CO2E_KG_PER_KM",
    "KM_COST_S",
    "LINK_DOWN",
    "LINK_UP",
    "MAX_QUEUE",
    "MAX_STEP_S",
    "MIN_REMOVE_AFTER_S",
    "OPENING_WARMUP_S",
    "QUALITY_CHUNK",
    "QUALITY_EVERY_S",
    "QUALITY_MAX_EVERY_S",
    "REMOVE_AFTER_S",
    "SAMPLE",
    "SCALE_MACHINES",
    "TARGET_UTILISATION",
    "WARMUP_MACHINE_S",
    "ClusterInfo",
    "NodeLink",
    "SimConfig",
]


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

    ``opening_scene``: open mid-shift (see ``opening``). The story then begins ``warmup_s`` before ``start`` (an hour
    of the shift for up to 400 machines, less beyond) and that history is simulated silently while the simulation
    is built (about 0.1 s for the default scenario), with a seeded scene in its last half hour that leaves every
    state on screen at ``start``: machines in fault, blocked and paused, alerts of every priority (acked with a note,
    unacked, shelved), overdue and at-risk jobs, a backlog, control charts breaking rules. ``start`` stays the time of
    the first snapshot, so a clock that starts at ``start`` needs no change. ``None`` (the default) is off here:
    ``console.demo.runner.make_simulation`` turns it on for the live demo on a wall clock (``--demo`` and
    ``demo-server``), while a simulation on a caller's clock (tests, screenshots, benchmarks) starts empty unless
    asked (``True``).
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
    opening_scene: bool | None = None


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
OPENING_WARMUP_S = 3600.0  # an opening scene's simulated history: an hour of the shift already run ...
WARMUP_MACHINE_S = 1_500_000.0  # ... at most this many machine-seconds (~0.4 s of work): shorter beyond ~400 machines
KM_COST_S = 30.0  # scheduler: one km of delivery weighs like 30 s of waiting
CO2E_KG_PER_KM = 0.12  # a shared van load
