"""Projection of the internal records onto the contract's wire models (reads build them; events carry them).

The simulation keeps plain mutable records (``world``) and makes pydantic models only when something is read or
sent, so the derived fields a client sees (a job's status, progress, ETA, queue position; a machine's state reason)
are computed here, in one place, for reads and events alike. ``emit_job`` / ``emit_machine`` send them.
"""

from __future__ import annotations

from datetime import datetime

from console.api.models import Job, Machine, Node, RerouteCandidate

from .catalog import CUSTOMER_REGIONS
from .config import CO2E_KG_PER_KM
from .construct import build_design, build_job, build_machine, build_node
from .scheduling import Blocker, remaining_s, wait_s
from .state import SimState, at, send
from .world import JobRec, MachineRec, NodeRec

__all__ = [
    "candidate_model",
    "emit_job",
    "emit_machine",
    "job_eta",
    "job_model",
    "job_progress",
    "job_status",
    "machine_model",
    "machine_reason",
    "node_model",
]


def node_model(s: SimState, n: NodeRec) -> Node:
    return build_node(
        id=n.id,
        name=n.name,
        city=n.city,
        lat=n.lat,
        lon=n.lon,
        state=n.state,
        last_seen=at(s, s.t),
        machine_count=len(n.machines),
        agent_url=None,
    )


def job_status(s: SimState, j: JobRec) -> str:
    if j.finished_at is not None:
        return j.status
    if j.machine is None:
        return "paused" if j.held else "queued"
    m = s.machines[j.machine]
    if m.job == j.id:
        return "running" if m.state == "running" else "paused"
    return "paused" if j.held else "assigned"


def job_progress(s: SimState, j: JobRec) -> float:
    done = float(j.done_qty)
    if j.finished_at is None and j.batch_n:
        if j.batch_end is not None and j.batch_total > 0:
            done += j.batch_n * (1.0 - max(0.0, j.batch_end - s.t) / j.batch_total)
        elif j.batch_left is not None and j.batch_total > 0:
            done += j.batch_n * (1.0 - j.batch_left / j.batch_total)
    return round(min(1.0, max(0.0, done / j.quantity)), 4)


def job_eta(s: SimState, j: JobRec) -> datetime | None:
    if j.finished_at is not None:
        return at(s, j.finished_at) if j.status == "completed" else None
    if j.machine is None:
        return None
    m = s.machines[j.machine]
    if m.job == j.id:
        return at(s, s.t + remaining_s(s, j, m))
    pos = m.queue.index(j.id)
    return at(s, s.t + wait_s(s, m, before=pos) + remaining_s(s, j, m))


def job_model(s: SimState, j: JobRec) -> Job:
    status = job_status(s, j)
    queue_position = None
    if j.finished_at is None and j.machine is not None:
        m = s.machines[j.machine]
        if m.job != j.id:
            queue_position = m.queue.index(j.id) + 1
    return build_job(
        id=j.id,
        order_id=j.order_id,
        part=j.part,
        design=build_design(file=j.file, sha256=j.sha256),
        process=j.process,
        material=j.material,
        size_mm=j.size,
        quantity=j.quantity,
        done_qty=j.done_qty,
        scrap_qty=j.scrap_qty,
        priority=j.priority,
        due_at=at(s, j.due_at),
        status=status,
        node_id=s.nodes[j.node].id if j.node is not None else None,
        machine_id=s.machines[j.machine].id if j.machine is not None else None,
        queue_position=queue_position,
        progress=job_progress(s, j),
        eta=job_eta(s, j),
        created_at=at(s, j.created),
        customer_region=CUSTOMER_REGIONS[j.region][0],
    )


def machine_reason(m: MachineRec, node: NodeRec) -> str | None:
    if m.condition is not None:
        return m.condition.reason
    if m.held:
        why = f": {m.pause_reason}" if m.pause_reason else ""
        if m.hold_kind == "job" and m.job is not None:
            return f"job {m.job} paused by {m.paused_by or 'operator'}{why}"
        return f"paused by {m.paused_by or 'operator'}{why}"
    if m.draining:
        return "draining: stops after the current job"
    if m.warn is not None:
        return m.warn.reason
    if node.paused and m.job is None:
        return "node paused"
    return None


def machine_model(s: SimState, m: MachineRec) -> Machine:
    node = s.nodes[m.node]
    return build_machine(
        id=m.id,
        node_id=node.id,
        name=m.name,
        kind=m.kind,
        model=m.model,
        state=m.state,
        state_since=at(s, m.state_since),
        job_id=m.job,
        progress=job_progress(s, s.jobs[m.job]) if m.job is not None else None,
        materials=list(m.materials),
        processes=[m.process],
        envelope_mm=m.envelope,
        telemetry=dict(m.telemetry),
        state_reason=machine_reason(m, node),
        fault_code=m.condition.fault_code if m.condition is not None else None,
        paused_by=m.paused_by if (m.held or m.draining) else None,
        draining=m.draining,
        last_seen=at(s, s.t),
    )


def candidate_model(
    s: SimState, j: JobRec, m: MachineRec, blockers: list[Blocker], cost: float, wait: float, dist: float
) -> RerouteCandidate:
    own = j.quantity * j.unit_s * m.slowness
    reasons = [
        f"{len(m.queue) + (m.job is not None)} job(s) ahead, ~{round(wait / 60)} min wait",
        f"{dist:.0f} km to {CUSTOMER_REGIONS[j.region][0]}",
    ]
    if j.node == m.node:
        reasons.append("same node")
    if s.t + wait + own > j.due_at:
        reasons.append("would finish after the due time")
    return RerouteCandidate(
        machine_id=m.id,
        node_id=s.nodes[m.node].id,
        score=round(1.0 / (1.0 + cost / 3600.0), 4),
        eta=at(s, s.t + wait + own),
        distance_km=round(dist, 1),
        co2e_kg=round(dist * CO2E_KG_PER_KM, 2),
        reasons=reasons,
        blockers=[f"{code}: {text}" for code, text in blockers],
    )


def emit_machine(s: SimState, m: MachineRec) -> None:
    if not s.subs:
        return
    m.sent_at = s.t
    send(s, "machine.updated", machine_model(s, m))


def emit_job(s: SimState, j: JobRec) -> None:
    if not s.subs:
        return
    send(s, "job.updated", job_model(s, j))
