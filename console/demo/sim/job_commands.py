"""The job commands of the simulation: pause, resume, cancel and reroute (to a machine, a node or the best
candidate, scrapping the part in progress only when asked to).

One group of ``console.demo.sim.commands``' handlers, split out so each group of commands is a module of its own;
``commands.execute`` dispatches to them and records the audit entry.
"""

from __future__ import annotations

from typing import Any

from console.api.command_bodies import ReasonBody, RerouteBody

from . import quality as q
from .command_checks import job_for, parse_body
from .errors import SimCommandError
from .lifecycle import finish, touch
from .placement import enqueue, place
from .projection import emit_job, emit_machine, job_status
from .scheduling import blockers, candidates
from .state import SimState, reachable
from .world import JobRec, MachineRec

__all__ = ["job_cancel", "job_pause", "job_reroute", "job_resume"]


def job_pause(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    b = parse_body(ReasonBody, body)
    j = job_for(s, target)
    if j.held:
        raise SimCommandError(409, "already_paused", f"job {j.id} is already paused")
    j.held = True
    if j.machine is not None and s.machines[j.machine].job == j.id:
        m = s.machines[j.machine]
        if not m.held:
            m.held = True
            m.hold_kind = "job"
            m.paused_by = operator
            m.pause_reason = b.reason
        touch(s, m, j)
    else:
        emit_job(s, j)
    return f"job {j.id} paused"


def job_resume(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    parse_body(ReasonBody, body)
    j = job_for(s, target)
    if not j.held:
        raise SimCommandError(409, "not_paused", f"job {j.id} is not paused (it is {job_status(s, j)})")
    j.held = False
    if j.machine is None:
        if not place(s, j):
            emit_job(s, j)
        return f"job {j.id} resumed"
    m = s.machines[j.machine]
    if m.job == j.id and m.hold_kind == "job":
        m.held = False
        m.hold_kind = None
        m.paused_by = None
        m.pause_reason = None
    touch(s, m, j)
    return f"job {j.id} resumed"


def job_cancel(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    parse_body(ReasonBody, body)
    j = job_for(s, target)
    finish(s, j, "cancelled")
    return f"job {j.id} cancelled"


def job_reroute(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    b = parse_body(RerouteBody, body)
    if sum((b.machine_id is not None, b.node_id is not None, bool(b.auto))) != 1:
        raise SimCommandError(422, "invalid_body", "give exactly one of machine_id, node_id or auto")
    j = job_for(s, target)
    old = s.machines[j.machine] if j.machine is not None else None
    in_progress = old is not None and old.job == j.id
    if in_progress and not b.restart:
        raise SimCommandError(
            409, "job_running", f"job {j.id} is {job_status(s, j)} on {old.id if old else '?'}; "
            "moving it scraps the part in progress: send restart=true",
        )  # fmt: skip
    if b.machine_id is not None:
        dest = s.machine_by_id.get(b.machine_id)
        if dest is None:
            raise SimCommandError(422, "unknown_target", f"machine {b.machine_id} not found")
        if old is dest:
            raise SimCommandError(409, "same_target", f"job {j.id} is already on {dest.id}")
        found = blockers(s, j, dest)
        if found:
            raise SimCommandError(409, found[0][0], found[0][1])
    else:
        cands = candidates(s, j)
        if b.node_id is not None:
            node = s.node_by_id.get(b.node_id)
            if node is None:
                raise SimCommandError(422, "unknown_target", f"node {b.node_id} not found")
            if not reachable(s, node):
                raise SimCommandError(409, "target_offline", f"node {node.id} is offline")
            if node.paused:
                raise SimCommandError(409, "target_paused", f"node {node.id} is paused")
            cands = [c for c in cands if c[0].node == node.idx]
            if not cands:
                raise SimCommandError(409, "incompatible_process", f"node {node.id} has no {j.process} machine")
        if not cands:
            raise SimCommandError(409, "no_candidate", f"no other machine does {j.process}")
        dest, found = cands[0][0], cands[0][1]
        if found:
            code, text = found[0]
            raise SimCommandError(409, code, f"no machine can take job {j.id}; the best: {text}")
    _move(s, j, dest)
    scrapped = " (part in progress scrapped)" if in_progress else ""
    return f"job {j.id} moved from {old.id if old else 'the backlog'} to {dest.id}{scrapped}"


def _move(s: SimState, j: JobRec, dest: MachineRec) -> None:
    old = s.machines[j.machine] if j.machine is not None else None
    if old is not None:
        if old.job == j.id:
            if old.state == "running" and j.batch_end is not None:
                j.epoch += 1
            j.scrap_qty += 1
            q.add_count(old, s.t, 4, 1)
            old.quality_dirty = True
            j.batch_end = None
            j.batch_left = None
            j.batch_n = 0
            old.job = None
            if old.hold_kind == "job":
                old.held = False
                old.hold_kind = None
                old.paused_by = None
                old.pause_reason = None
            touch(s, old)
        else:
            pos = old.queue.index(j.id)
            del old.queue[pos]
            for jid in old.queue[pos:]:
                emit_job(s, s.jobs[jid])
            emit_machine(s, old)
    j.machine = None
    j.node = None
    enqueue(s, j, dest)
    emit_job(s, j)
