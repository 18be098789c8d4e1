"""The opening scene: the demo opens mid-shift, with every state an operator has to handle on screen at once.

A newcomer should not wait for the story to get going (all machines running or idle, no alert for a minute, empty
control charts). With ``SimConfig.opening_scene`` the simulation's history begins ``SimState.warmup_s`` before
``start`` (an hour of the shift for the default scenario) and ``run`` simulates it while the simulation is built,
silently (no subscriber exists yet, so no event is built or sent). That history is the ordinary story (orders,
batches, random faults, quality roll-ups), so OEE, control charts, finished jobs and alerts all have a past.

Into its last half hour a seeded scene is written, one beat at a time at fixed times before ``start``, each through
the simulation's own paths (a fault strikes as ``faults`` strikes, an operator acts through ``commands.execute`` and
is in the audit trail), so that at ``start`` there are, whatever the seed:

* a machine in fault with a critical alert, acknowledged by the shift lead with a note (its job failed);
* a machine in fault with a high alert nobody has answered yet, and its job, due meanwhile, overdue;
* a blocked machine (waiting for an operator's ``ready``) with its alert;
* a paused machine, with the operator's reason;
* a worn tool (a low alert, acked with a note) whose control chart breaks Western Electric rules;
* a nuisance warning shelved for two hours with a note;
* a rush order bigger than its machines' queues: jobs at risk of missing their due time, the rest in the backlog.

Conditions the scene sets clear some 20-40 simulated minutes after ``start`` (a minute or two of the demo), so the
live story takes over. A beat that finds no machine to act on (a small test cluster lacking a kind) is skipped.
Determinism: the scene draws from a generator of its own, seeded from the seed, and picks among lists in order.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .catalog import FAULTS, FaultSpec
from .commands import execute
from .config import MAX_QUEUE, OPENING_WARMUP_S
from .errors import SimCommandError
from .faults import strike
from .loop import advance
from .placement import new_job, new_order_id, place
from .reads import node_of
from .rollups import machine_spc
from .scheduling import remaining_s
from .state import SimState, at
from .world import MachineRec

__all__ = ["OPERATORS", "run"]

OPERATORS = ("priya.s", "tom.w", "omar.b")
"""The shift's people in the scene's audit trail: the shift lead, a maintenance technician, the quality engineer."""

_SPECS: dict[str, FaultSpec] = {spec.code: spec for spec in FAULTS}
_MIN = 60.0


@dataclass
class _Scene:
    """What the beats share: the scene's generator, the end of the warm-up, the machines and alerts used so far."""

    rng: random.Random
    end: float
    scale: float
    used: set[int] = field(default_factory=set)
    nodes: list[int] = field(default_factory=list)
    alerts: dict[str, str] = field(default_factory=dict)  # the scene's role -> alert id


def run(s: SimState) -> None:
    """Simulate the history before ``start`` and play the scene into its last half hour (see the module)."""
    end = s.warmup_s
    if end <= 0:
        return
    scene = _Scene(random.Random(s.seed * 31 + 5), end, end / OPENING_WARMUP_S)
    for minutes_before, beat in _BEATS:
        advance(s, max(s.t, end - minutes_before * _MIN * scene.scale), telemetry=False)
        beat(s, scene)
    advance(s, end, telemetry=False)


# --- picking machines ------------------------------------------------------------------------------------------------


def _running(s: SimState, scene: _Scene, kinds: tuple[str, ...]) -> list[MachineRec]:
    """Running machines of ``kinds`` the scene has not used, on nodes it has not used yet if there are any."""
    found = [
        m
        for m in s.machines
        if m.kind in kinds
        and m.state == "running"
        and m.job is not None
        and m.warn is None
        and m.idx not in scene.used
        and s.nodes[m.node].online
    ]
    fresh = [m for m in found if m.node not in scene.nodes]
    return fresh or found


def _take(scene: _Scene, m: MachineRec) -> MachineRec:
    scene.used.add(m.idx)
    if m.node not in scene.nodes:
        scene.nodes.append(m.node)
    return m


def _strike(s: SimState, scene: _Scene, role: str, codes: tuple[str, ...], clear_min: float) -> MachineRec | None:
    """The first of ``codes`` that can strike a running machine strikes one (its condition clearing ``clear_min``
    simulated minutes after ``start``); the alert is remembered as ``role``."""
    for code in codes:
        spec = _SPECS[code]
        found = _running(s, scene, spec.kinds)
        if not found:
            continue
        m = _take(scene, found[scene.rng.randrange(len(found))])
        strike(s, m, spec, clear_at=scene.end + clear_min * _MIN * (0.8 + 0.4 * scene.rng.random()))
        alert_id = s.alerts.find("machine", m.id, spec.code)
        if alert_id is not None:
            scene.alerts[role] = alert_id
        return m
    return None


def _act(s: SimState, action: str, kind: str, target: str, body: dict[str, object], operator: str) -> None:
    """An operator's command, applied and audited as the server applies one. The shift's people work on the shop
    floor, through their node's own agent (``local_node``), so a node whose WAN link is down does not stop them;
    a refusal (the alert resolved meanwhile ...) is in the audit trail, as a real one would be."""
    with contextlib.suppress(SimCommandError):
        execute(s, action, target, dict(body), operator, local_node=node_of(s, kind, target))


def _ack(s: SimState, scene: _Scene, role: str, operator: str, note: str) -> None:
    alert_id = scene.alerts.get(role)
    alert = s.alerts.get(alert_id) if alert_id is not None else None
    if alert is not None and alert.acked_by is None:
        _act(s, "alert.ack", "alert", alert.id, {"note": note}, operator)


# --- the beats, in time order ----------------------------------------------------------------------------------------


def _critical_fault(s: SimState, scene: _Scene) -> None:
    """A printer runs away thermally: a critical alert, the job failed, the machine down for half an hour."""
    _strike(s, scene, "critical", ("thermal_runaway", "e_stop"), 30.0)


def _critical_acked(s: SimState, scene: _Scene) -> None:
    _ack(s, scene, "critical", OPERATORS[0], "power isolated at the panel; maintenance ticket MT-4471 raised")


def _worn_tool(s: SimState, scene: _Scene) -> None:
    """A cutting tool wears (a low alert) and an assignable cause shifts the parts it makes: on the machine with the
    shortest batches among those whose job runs on past ``start`` (the tool is changed after the job), so its control
    chart has points to break rules with by then, and still does."""
    found = _running(s, scene, _SPECS["tool_wear"].kinds)
    if not found:
        return
    lasting = scene.end - s.t + 10.0 * _MIN * scene.scale

    def rank(m: MachineRec) -> tuple[bool, float, int]:
        j = s.jobs[m.job] if m.job is not None else None
        if j is None:
            return (True, 0.0, m.idx)
        left = remaining_s(s, j, m)
        return (left < lasting, j.unit_s * j.batch * m.slowness if left >= lasting else -left, m.idx)

    m = _take(scene, min(found, key=rank))
    strike(s, m, _SPECS["tool_wear"])
    machine_spc(s, m).assignable_cause(2.5, 25)  # a chipped insert: a step, then the wear's ramp
    alert_id = s.alerts.find("machine", m.id, "tool_wear")
    if alert_id is not None:
        scene.alerts["wear"] = alert_id


def _overdue_fault(s: SimState, scene: _Scene) -> None:
    """A machine stops with a high alert; its job was promised for a time that passes while it waits: overdue."""
    m = _strike(s, scene, "fault", ("nozzle_clog", "spindle_overload", "recoater_jam", "e_stop"), 25.0)
    if m is not None and m.job is not None:
        j = s.jobs[m.job]
        j.due_at = min(j.due_at, scene.end - 7.0 * _MIN * scene.scale)


def _blocked(s: SimState, scene: _Scene) -> None:
    """A machine waits for an operator (filament ran out, resin low, a door open)."""
    _strike(s, scene, "blocked", ("filament_runout", "resin_tank_low", "laser_door_open"), 35.0)


def _nuisance(s: SimState, scene: _Scene) -> None:
    """A warning that stays on for a known reason: it is shelved a little later."""
    _strike(s, scene, "shelve", ("mould_temp_deviation",), 40.0)


def _shelved(s: SimState, scene: _Scene) -> None:
    alert_id = scene.alerts.get("shelve")
    if alert_id is None:  # no moulding machine: the least urgent alert nobody is looking at stands in
        mine = set(scene.alerts.values())
        standing = [a for a in s.alerts.models() if a.state == "active_unacked" and a.id not in mine]
        standing.sort(key=lambda a: (a.priority != "low", a.priority != "medium", a.id))
        alert_id = standing[0].id if standing and standing[0].priority in ("low", "medium") else None
    if alert_id is not None and s.alerts.get(alert_id) is not None:
        until = at(s, scene.end + 120.0 * _MIN)
        note = "chiller under service; QA checked the parts: in tolerance"
        _act(s, "alert.shelve", "alert", alert_id, {"until": until.isoformat(), "note": note}, OPERATORS[2])


def _paused(s: SimState, scene: _Scene) -> None:
    """An operator pauses a running machine, saying why."""
    kinds = tuple(sorted({m.kind for m in s.machines}))
    found = _running(s, scene, kinds)
    if found:
        m = _take(scene, found[scene.rng.randrange(len(found))])
        reason = "first-article check on the new fixture"
        _act(s, "machine.pause", "machine", m.id, {"mode": "now", "reason": reason}, OPERATORS[1])


def _rush_order(s: SimState, scene: _Scene) -> None:
    """A customer's rush order, due soon, for the process with the least room: the jobs that find a queue are at
    risk of missing their due time, the others wait in the backlog."""

    def room(process: str) -> int:
        return sum(
            MAX_QUEUE - len(s.machines[i].queue) for i in s.by_process[process] if s.machines[i].condition is None
        )

    processes = sorted(p for p, idxs in s.by_process.items() if len(idxs) >= 2 and p != "inspection")
    if not processes:
        return
    process = min(processes, key=lambda p: (room(p), p))
    order_id = new_order_id(s)
    region = scene.rng.randrange(len(s.distances[0]))
    waiting = 0
    for _ in range(min(300, max(60, room(process) + 6))):
        j = new_job(s, order_id, region, process)
        j.priority = 2
        j.due_at = s.t + 900.0 + j.unit_s * j.quantity * 1.2
        s.jobs[j.id] = j
        if not place(s, j):
            s.backlog[j.id] = None
            waiting += 1
            if waiting >= 6:
                break


def _wear_acked(s: SimState, scene: _Scene) -> None:
    _ack(s, scene, "wear", OPERATORS[2], "tool change booked after this job; parts from it held for inspection")


_BEATS: tuple[tuple[float, Callable[[SimState, _Scene], None]], ...] = (
    (28.0, _worn_tool),
    (26.0, _critical_fault),
    (23.0, _critical_acked),
    (16.0, _overdue_fault),
    (12.0, _blocked),
    (10.0, _nuisance),
    (8.0, _shelved),
    (6.0, _paused),
    (4.0, _rush_order),
    (2.0, _wear_acked),
)
"""(minutes before ``start`` at the full warm-up, beat); a shorter warm-up (a big cluster) compresses them."""
