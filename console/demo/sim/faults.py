"""Faults: what goes wrong at random on machines and on nodes' WAN links, and how it clears.

Each machine has its next fault scheduled from the rates of its kind (the fault generator); a fault strikes only a
running machine and is a warning (tool wear ...), a stop that clears by itself, or a block an operator releases
(``machine.ready``). Nodes lose their WAN link now and then (``sim.link_down``): the node works on, only the
cluster's view of it goes dark until the link comes back.
"""

from __future__ import annotations

from . import quality as q
from .catalog import FAULTS, NODE_OUTAGE_PER_HOUR, NODE_OUTAGE_S, TOOL_CHANGE, FaultSpec
from .config import LINK_DOWN, LINK_UP, NodeLink
from .lifecycle import finish, sample_machine, set_condition, settle, touch
from .projection import emit_machine
from .rollups import machine_spc
from .state import FAULT, OUTAGE, RESTORE, WARN_END, SimState, now, push, send
from .world import MachineRec

__all__ = [
    "clear_condition",
    "on_clear",
    "on_fault",
    "on_outage",
    "on_restore",
    "on_warn_end",
    "schedule_fault",
    "schedule_outage",
    "set_link",
    "strike",
]


def _faults_by_kind() -> dict[str, list[FaultSpec]]:
    out: dict[str, list[FaultSpec]] = {}
    for spec in FAULTS:
        for kind in spec.kinds:
            out.setdefault(kind, []).append(spec)
    return out


_KIND_FAULTS = _faults_by_kind()


def schedule_fault(s: SimState, m: MachineRec) -> None:
    specs = _KIND_FAULTS.get(m.kind)
    if not specs:
        return
    rate = sum(spec.per_hour for spec in specs) / 3600.0
    m.fault_epoch += 1
    push(s, s.t + s.fault_rng.expovariate(rate), FAULT, m.idx, m.fault_epoch)


def schedule_outage(s: SimState, idx: int) -> None:
    """Node ``idx``'s next WAN link outage."""
    push(s, s.t + s.fault_rng.expovariate(NODE_OUTAGE_PER_HOUR / 3600.0), OUTAGE, idx)


def on_fault(s: SimState, idx: int, epoch: int) -> None:
    m = s.machines[idx]
    if m.fault_epoch != epoch:
        return
    schedule_fault(s, m)
    if m.state != "running":
        return  # faults here strike running machines (an idle one has nothing to go wrong)
    specs = _KIND_FAULTS[m.kind]
    x = s.fault_rng.random() * sum(sp.per_hour for sp in specs)
    spec = specs[-1]
    for sp in specs:
        if x < sp.per_hour:
            spec = sp
            break
        x -= sp.per_hour
    strike(s, m, spec)


def strike(s: SimState, m: MachineRec, spec: FaultSpec, clear_at: float | None = None) -> None:
    """Fault ``spec`` strikes machine ``m`` now: a warning, or a condition (fault, blocked) that stops it, with its
    alert; the condition clears at ``clear_at`` (None: after a random time of the spec's)."""
    at_now = now(s)
    if spec.effect == "warn":
        if m.warn is None:
            m.warn = spec
            s.alerts.raise_(at_now, "machine", m.id, spec.code, spec.priority, f"{m.id}: {spec.reason}")
            if spec.code != "tool_wear":  # tool wear ends with a tool change after the job
                lo, hi = spec.auto_clear_s
                push(s, s.t + lo + (hi - lo) * s.fault_rng.random(), WARN_END, m.idx, spec.code)
            sample_machine(s, m)
            emit_machine(s, m)
        return
    job = s.jobs[m.job] if m.job is not None else None
    set_condition(s, m, spec, clear_at)
    detail = f" during job {job.id}" if job else ""
    s.alerts.raise_(at_now, "machine", m.id, spec.code, spec.priority, f"{m.id}: {spec.reason}{detail}")
    if job is not None and spec.scrap:
        settle(s, m)  # suspends the batch
        job.scrap_qty += 1
        q.add_count(m, s.t, 4, 1)
        job.batch_left = None  # the part in progress is lost: the batch starts again
        if spec.fail_job:
            finish(s, job, "failed", spec.reason)
            return
    touch(s, m)


def on_clear(s: SimState, idx: int, epoch: int) -> None:
    """A condition's time is up (unless it was cleared or replaced meanwhile)."""
    m = s.machines[idx]
    if m.condition is not None and m.condition_epoch == epoch:
        clear_condition(s, m)


def on_warn_end(s: SimState, idx: int, code: str) -> None:
    """A warning's time is up (unless another one replaced it)."""
    m = s.machines[idx]
    if m.warn is not None and m.warn.code == code:
        m.warn = None
        s.alerts.clear(now(s), "machine", m.id, code)
        touch(s, m)


def clear_condition(s: SimState, m: MachineRec) -> None:
    spec = m.condition
    if spec is None:
        return
    m.condition = None
    m.condition_epoch += 1
    at_now = now(s)
    s.alerts.clear(at_now, "machine", m.id, spec.code)
    if spec is TOOL_CHANGE:
        m.warn = None
        s.alerts.clear(at_now, "machine", m.id, "tool_wear")
        machine_spc(s, m).reset_drift()
    touch(s, m)


def set_link(s: SimState, node_id: str, up: bool) -> None:
    """Cut node ``node_id``'s WAN link now (``up=False``) until told otherwise, or bring it back."""
    n = s.node_by_id.get(node_id)
    if n is None:
        raise KeyError(node_id)
    if up and not n.online:
        on_restore(s, n.idx, reschedule=False)
    elif not up and n.online:
        on_outage(s, n.idx, restore=False)


def on_outage(s: SimState, idx: int, restore: bool = True) -> None:
    """The node's WAN link goes down: a signal for the views, and the cluster's alert. The node works on."""
    n = s.nodes[idx]
    if not n.online:
        return
    n.online = False
    n.last_seen = s.t
    if s.subs:
        send(s, LINK_DOWN, NodeLink(node_id=n.id, at=now(s)))
    s.alerts.raise_(now(s), "node", n.id, "node_offline", "high", f"{n.name}: network connection lost")
    if restore:
        lo, hi = NODE_OUTAGE_S
        push(s, s.t + lo + (hi - lo) * s.fault_rng.random(), RESTORE, idx)


def on_restore(s: SimState, idx: int, reschedule: bool = True) -> None:
    n = s.nodes[idx]
    if n.online:
        return
    n.online = True
    n.last_seen = s.t
    if s.subs:
        send(s, LINK_UP, NodeLink(node_id=n.id, at=now(s)))
    s.alerts.clear(now(s), "node", n.id, "node_offline")
    if reschedule:
        schedule_outage(s, idx)
