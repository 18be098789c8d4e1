"""How the scheduler judges a machine for a job: whether it can take it, why not, how long it would wait, what it costs.

Pure reads of the state (no events, no random draws), so placement, reroute commands, reroute candidates and the
ETA of a job's wire model can all ask the same questions and get the same answers.
"""

from __future__ import annotations

from .config import KM_COST_S
from .state import SimState, reachable
from .world import JobRec, MachineRec, NodeRec

__all__ = ["Blocker", "Candidate", "blockers", "can_take", "candidates", "cost", "distance_km", "remaining_s", "wait_s"]

Blocker = tuple[str, str]  # (the contract's code, human text)
Candidate = tuple[MachineRec, list[Blocker], float, float, float]  # (machine, blockers, cost, wait, distance)


def distance_km(s: SimState, node: NodeRec, region: int) -> float:
    return s.distances[node.idx][region]


def can_take(s: SimState, j: JobRec, m: MachineRec) -> bool:
    """The scheduler's fast check: ``blockers`` is empty and the machine is not down (no strings built)."""
    node = s.nodes[m.node]
    return (
        m.condition is None
        and not m.held
        and not m.draining
        and reachable(s, node)
        and not node.paused
        and j.process == m.process
        and j.material in m.materials
        and all(sz <= e for sz, e in zip(j.size_sorted, m.env_sorted, strict=True))
    )


def remaining_s(s: SimState, j: JobRec, m: MachineRec) -> float:
    """Machine time the job still needs on ``m``."""
    if j.batch_end is not None:
        current = max(0.0, j.batch_end - s.t)
        rest = j.quantity - j.done_qty - j.batch_n
    elif j.batch_left is not None:
        current = j.batch_left
        rest = j.quantity - j.done_qty - j.batch_n
    else:
        current = 0.0
        rest = j.quantity - j.done_qty
    return current + max(0, rest) * j.unit_s * m.slowness


def wait_s(s: SimState, m: MachineRec, before: int | None = None) -> float:
    """How long until ``m`` could start a new job (or the job at queue index ``before``)."""
    wait = 0.0
    if m.job is not None:
        wait += remaining_s(s, s.jobs[m.job], m)
    queue = m.queue if before is None else m.queue[:before]
    for jid in queue:
        wait += remaining_s(s, s.jobs[jid], m)
    if m.condition is not None:
        wait += 600.0
    return wait


def blockers(s: SimState, j: JobRec, m: MachineRec) -> list[Blocker]:
    """Why ``m`` cannot take ``j``: (code, human text) pairs, the contract's codes first."""
    out: list[Blocker] = []
    node = s.nodes[m.node]
    if j.process != m.process:
        out.append(("incompatible_process", f"job {j.id} needs {j.process}; {m.id} does {m.process}"))
    elif j.material not in m.materials:
        loaded = ", ".join(m.materials) or "nothing"
        out.append(("incompatible_material", f"job {j.id} needs {j.material}; {m.id} has {loaded} loaded"))
    if any(sz > e for sz, e in zip(j.size_sorted, m.env_sorted, strict=True)):
        size = "x".join(f"{v:g}" for v in j.size)
        env = "x".join(f"{v:g}" for v in m.envelope)
        out.append(("envelope_too_small", f"part {size} mm does not fit {m.id} ({env} mm)"))
    if not reachable(s, node):
        out.append(("target_offline", f"{node.id} is offline"))
    if node.paused:
        out.append(("target_paused", f"{node.id} is paused"))
    elif m.held or m.draining:
        out.append(("target_paused", f"{m.id} is paused" if m.held else f"{m.id} is draining"))
    if m.condition is not None and m.condition.effect == "fault":
        out.append(("target_unavailable", f"{m.id} is in fault ({m.condition.reason})"))
    return out


def cost(s: SimState, j: JobRec, m: MachineRec) -> tuple[float, float, float]:
    """(cost in seconds, wait, distance km): waiting weighs more for urgent jobs; late delivery costs double."""
    wait = wait_s(s, m)
    own = remaining_s(s, j, m) if j.machine == m.idx else j.quantity * j.unit_s * m.slowness
    dist = distance_km(s, s.nodes[m.node], j.region)
    total = wait * (6 - j.priority) / 3.0 + dist * KM_COST_S
    late = s.t + wait + own - j.due_at
    if late > 0:
        total += 2.0 * late
    return total, wait, dist


def candidates(s: SimState, j: JobRec) -> list[Candidate]:
    """(machine, blockers, cost, wait, distance) of every other machine of the job's process, best first."""
    scored: list[tuple[int, float, int, MachineRec, list[Blocker], float, float]] = []
    for idx in s.by_process.get(j.process, []):
        if j.machine == idx:
            continue
        m = s.machines[idx]
        found = blockers(s, j, m)
        total, wait, dist = cost(s, j, m)
        scored.append((1 if found else 0, total, idx, m, found, wait, dist))
    scored.sort(key=lambda c: (c[0], c[1], c[2]))
    return [(c[3], c[4], c[1], c[5], c[6]) for c in scored]
