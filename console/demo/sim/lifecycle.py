"""Job lifecycle on a machine: starting jobs, batches of parts, progress, finishing and removal; machine state.

A machine's state is derived from its records (condition, hold, current job) and every change of it goes through
``transition``, which books the time for OEE, suspends or resumes the batch under way and rolls up to the node. A
running job advances in batches (a heap event each) with progress wake-ups between them; a finished job leaves its
machine to the next one in its queue and is removed a while later. ``touch`` is what every other part calls after
changing a machine. The conditions a machine may be left in when a job ends (tool change, bed not clear) are set
here too (``set_condition``), since finishing a job is where they arise; random faults are ``faults``.
"""

from __future__ import annotations

from . import quality as q
from .catalog import BED_NOT_CLEAR, BED_NOT_CLEAR_P, TOOL_CHANGE, FaultSpec
from .construct import build_job_removed
from .projection import emit_job, emit_machine, job_progress
from .rollups import machine_spc, update_node
from .state import BATCH, CLEAR, PROGRESS, REMOVE, SimState, now, push, send
from .telemetry import sample
from .world import JobRec, MachineRec

__all__ = [
    "derive",
    "finish",
    "loaded_material",
    "new_batch",
    "on_batch",
    "on_progress",
    "on_remove",
    "sample_machine",
    "schedule_progress",
    "set_condition",
    "settle",
    "touch",
    "transition",
]

_UNAVAILABLE = ("fault", "blocked", "maintenance")


def loaded_material(s: SimState, m: MachineRec) -> str | None:
    if m.job is not None:
        return s.jobs[m.job].material
    return m.materials[0] if m.materials and m.kind != "inspection" else None


def sample_machine(s: SimState, m: MachineRec) -> dict[str, float]:
    """New telemetry values for ``m`` (one draw of the telemetry generator); kept as the machine's latest."""
    cond = m.condition or m.warn
    values = sample(m.kind, m.state, loaded_material(s, m), cond.code if cond else None, s.tele_rng)
    m.telemetry = values
    return values


def derive(m: MachineRec) -> str:
    if m.condition is not None:
        return {"fault": "fault", "blocked": "blocked"}.get(m.condition.effect, "maintenance")
    if m.held:
        return "paused"
    if m.job is not None:
        return "running"
    return "idle"


def _can_start(s: SimState, m: MachineRec) -> bool:
    return (
        m.job is None
        and m.condition is None
        and not m.held
        and not m.draining
        and not s.nodes[m.node].paused
        and bool(m.queue)
    )


def settle(s: SimState, m: MachineRec) -> bool:
    """Start the next job if the machine may, and bring its state up to date. True if it changed (and was sent)."""
    started: JobRec | None = None
    if _can_start(s, m):
        for i, jid in enumerate(m.queue):
            j = s.jobs[jid]
            if not j.held:
                del m.queue[i]
                m.job = jid
                new_batch(j, m)
                started = j
                break
    new = derive(m)
    if new == m.state and started is None:
        return False
    if new != m.state or new == "running":  # (a new job on a machine that never stopped still needs its batch)
        transition(s, m, new)
    emit_machine(s, m)
    if started is not None:
        emit_job(s, started)
        for jid in m.queue:
            emit_job(s, s.jobs[jid])
    return True


def touch(s: SimState, m: MachineRec, *jobs: JobRec) -> None:
    """After a change to ``m``: settle, send the machine, its current job and ``jobs``."""
    if not settle(s, m):
        emit_machine(s, m)
    sent: set[str] = set()
    if m.job is not None:
        emit_job(s, s.jobs[m.job])
        sent.add(m.job)
    for j in jobs:
        if j.id not in sent and j.id in s.jobs:
            emit_job(s, j)
            sent.add(j.id)


def transition(s: SimState, m: MachineRec, new: str) -> None:
    old = m.state
    t = s.t
    if old == "running":
        q.book(m, m.acct_since, t, 0)
    elif old in _UNAVAILABLE:
        q.book(m, m.acct_since, t, 1)
    m.acct_since = t
    job = s.jobs[m.job] if m.job is not None else None
    if old == "running" and job is not None and job.batch_end is not None:
        job.batch_left = max(0.0, job.batch_end - t)
        job.batch_end = None
        job.epoch += 1
    m.state = new
    m.state_since = t
    m.quality_dirty = True
    if new == "running" and job is not None:
        if job.batch_left is None:
            new_batch(job, m)
        job.batch_end = t + (job.batch_left or 0.0)
        job.batch_left = None
        job.epoch += 1
        push(s, job.batch_end, BATCH, job.id, job.epoch)
        schedule_progress(s, job)
    node = s.nodes[m.node]
    node.bad += (new in ("fault", "blocked")) - (old in ("fault", "blocked"))
    sample_machine(s, m)
    update_node(s, node)


def new_batch(j: JobRec, m: MachineRec) -> None:
    n = max(1, min(j.batch, j.quantity - j.done_qty))
    j.batch_n = n
    j.batch_total = j.unit_s * n * m.slowness
    j.batch_left = j.batch_total
    j.batch_end = None


def on_batch(s: SimState, job_id: str, epoch: int) -> None:
    """A batch of parts is done: measure it, count it, then finish the job or start its next batch."""
    j = s.jobs.get(job_id)
    if j is None or j.epoch != epoch or j.batch_end is None or j.machine is None:
        return
    m = s.machines[j.machine]
    wear = m.warn is not None
    spc = machine_spc(s, m)
    good, scrap, rework = spc.measure(j.batch_n, m.defect_p * (3.0 if wear else 1.0), wear)
    for c in spc.chars:  # the node's and the cluster's charts get the same measurements
        s.node_meas[m.node].add(m.process, c.spec, c.values[-1])
        s.cluster_meas.add(m.process, c.spec, c.values[-1])
    t = s.t
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
        finish(s, j, "completed")
    elif j.scrap_qty > j.quantity // 2 + 3:
        finish(s, j, "failed", "too many parts scrapped")
    else:
        new_batch(j, m)
        j.batch_end = t + (j.batch_left or 0.0)
        j.batch_left = None
        j.epoch += 1
        push(s, j.batch_end, BATCH, j.id, j.epoch)
        schedule_progress(s, j)
        emit_job(s, j)
        emit_machine(s, m)


def schedule_progress(s: SimState, j: JobRec) -> None:
    """Wake up when the running batch of ``j`` takes its progress one ``progress_step`` further (not at or after the
    batch's end: finishing a batch sends the job anyway)."""
    step = s.progress_step
    if step <= 0 or j.batch_end is None or j.batch_n <= 0 or j.batch_total <= 0:
        return
    target = (job_progress(s, j) + step) * j.quantity  # parts done then
    frac = (target - j.done_qty) / j.batch_n
    if frac >= 1.0:
        return
    when = j.batch_end - (1.0 - max(0.0, frac)) * j.batch_total
    push(s, max(when, s.t), PROGRESS, j.id, j.epoch)


def on_progress(s: SimState, job_id: str, epoch: int) -> None:
    j = s.jobs.get(job_id)
    if j is None or j.epoch != epoch or j.batch_end is None or j.machine is None:
        return
    m = s.machines[j.machine]
    if m.job != j.id:
        return
    emit_machine(s, m)
    emit_job(s, j)
    schedule_progress(s, j)


def set_condition(s: SimState, m: MachineRec, spec: FaultSpec, clear_at: float | None = None) -> None:
    """Put ``m`` in a condition (fault, blocked, maintenance) and schedule its clearing (at ``clear_at``, or after a
    random time within the spec's ``auto_clear_s``)."""
    m.condition = spec
    m.condition_epoch += 1
    if clear_at is None:
        lo, hi = spec.auto_clear_s
        clear_at = s.t + lo + (hi - lo) * s.fault_rng.random()
    push(s, clear_at, CLEAR, m.idx, m.condition_epoch)


def finish(s: SimState, j: JobRec, status: str, why: str | None = None) -> None:
    """End a job (completed, failed, cancelled); its machine, if it was running it, goes on."""
    t = s.t
    j.status = status
    j.finished_at = t
    j.batch_end = None
    j.batch_left = None
    j.epoch += 1
    j.held = False
    push(s, t + s.remove_after_s, REMOVE, j.id)
    s.backlog.pop(j.id, None)
    if status == "failed":  # an event, not a lasting condition: it is raised and cleared at once
        at_now = now(s)
        s.alerts.raise_(at_now, "job", j.id, "job_failed", "medium", f"job {j.id} ({j.part}) failed: {why}")
        s.alerts.clear(at_now, "job", j.id, "job_failed")
    if j.machine is None:
        emit_job(s, j)
        return
    m = s.machines[j.machine]
    if m.job != j.id:
        if j.id in m.queue:
            pos = m.queue.index(j.id)
            del m.queue[pos]
            for jid in m.queue[pos:]:
                emit_job(s, s.jobs[jid])
        emit_job(s, j)
        return
    m.job = None
    if m.hold_kind == "job":
        m.held = False
        m.hold_kind = None
        m.paused_by = None
        m.pause_reason = None
    if m.draining:
        m.draining = False
        m.held = True
        m.hold_kind = "machine"
    if status != "cancelled" and m.condition is None:
        if m.warn is not None and m.warn.code == "tool_wear":
            set_condition(s, m, TOOL_CHANGE)
        elif m.kind in BED_NOT_CLEAR.kinds and s.fault_rng.random() < BED_NOT_CLEAR_P:
            set_condition(s, m, BED_NOT_CLEAR)
            s.alerts.raise_(
                now(s), "machine", m.id, BED_NOT_CLEAR.code, BED_NOT_CLEAR.priority,
                f"{m.id}: bed not clear after job {j.id}; confirm with ready",
            )  # fmt: skip
    touch(s, m, j)


def on_remove(s: SimState, job_id: str) -> None:
    """A finished job's time is up: it goes (``job.removed``); its node is remembered a while for ``node_of``."""
    j = s.jobs.pop(job_id, None)
    if j is None:
        return
    node = s.nodes[j.node] if j.node is not None else None
    s.removed_node[job_id] = node.id if node else None
    while len(s.removed_node) > 20000:
        s.removed_node.popitem(last=False)
    if s.subs:
        send(s, "job.removed", build_job_removed(id=job_id))
