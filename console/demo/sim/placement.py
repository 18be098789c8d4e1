"""Orders and placement: work arrives, becomes jobs, and each job goes to the queue of the best machine that has room.

Orders arrive at random (the orders generator) at a rate that keeps the cluster about 80 % busy; the shop starts
already busy. A job is placed on the cheapest compatible machine (``scheduling.cost``) with a free queue slot,
sampling a few machines when its pool is large; a job that fits nowhere waits in the cluster backlog, retried
periodically. Queues are kept in (priority, due) order.
"""

from __future__ import annotations

import hashlib
import math

from .catalog import ALL_MATERIALS, CUSTOMER_REGIONS, PARTS
from .config import MAX_QUEUE, SAMPLE
from .lifecycle import schedule_progress, settle
from .projection import emit_job, emit_machine
from .scheduling import can_take, cost
from .state import BATCH, ORDER, SimState, push
from .world import JobRec, MachineRec

__all__ = ["enqueue", "initial_work", "new_job", "new_order_id", "on_order", "place", "retry_backlog"]

_PRIORITY_WEIGHTS = ((1, 5), (2, 15), (3, 50), (4, 20), (5, 10))


def initial_work(s: SimState) -> None:
    """Start with the shop already busy: about one job per machine, the running ones part-way done."""
    for _ in range(len(s.machines)):
        job = new_job(s, new_order_id(s), s.orders_rng.randrange(len(CUSTOMER_REGIONS)))
        s.jobs[job.id] = job
        if not place(s, job):
            s.backlog[job.id] = None
    for m in s.machines:
        if m.job is None:
            continue
        j = s.jobs[m.job]
        steps = math.ceil(j.quantity / j.batch)
        j.done_qty = min(j.quantity - j.batch_n, j.batch * s.rng.randrange(steps))
        j.done_qty = max(0, j.done_qty)
        left = j.batch_total * (0.05 + 0.95 * s.rng.random())
        j.epoch += 1
        j.batch_end = s.t + left
        push(s, j.batch_end, BATCH, j.id, j.epoch)
        schedule_progress(s, j)


def new_order_id(s: SimState) -> str:
    s.order_n += 1
    return f"O-{s.order_n}"


def on_order(s: SimState) -> None:
    """An order arrives (one to three jobs for one customer region); the next one is scheduled first."""
    rng = s.orders_rng
    push(s, s.t + rng.expovariate(s.job_rate / 2.0), ORDER)
    if len(s.backlog) > 3 * len(s.machines):
        return  # the cluster is saturated (everything paused?): the sales desk stops promising
    order_id = new_order_id(s)
    region = rng.randrange(len(CUSTOMER_REGIONS))
    for _ in range(1 + int(rng.random() < 0.5) + int(rng.random() < 0.5)):
        job = new_job(s, order_id, region)
        s.jobs[job.id] = job
        if not place(s, job):
            s.backlog[job.id] = None
            emit_job(s, job)


def new_job(s: SimState, order_id: str, region: int, process: str | None = None) -> JobRec:
    """A new job of a random process (in proportion to the work each takes), or of ``process``."""
    rng = s.orders_rng
    if process is None:
        x = rng.random() * s.job_rate
        process = s.process_weights[-1][0]
        for name, r in s.process_weights:
            if x < r:
                process = name
                break
            x -= r
    pool = s.by_process[process]
    template = s.machines[pool[rng.randrange(len(pool))]]
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
    s.job_n += 1
    job_id = f"J-{s.job_n}"
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
        due_at=s.t + 1800.0 + duration * (2.0 + 6.0 * rng.random()),
        created=s.t,
        region=region,
        unit_s=unit_s,
        batch=max(1, math.ceil(quantity / 8)),
    )


def place(s: SimState, j: JobRec) -> bool:
    """Put a job in the queue of the best compatible machine that has room; False if none has."""
    pool = s.by_pm.get((j.process, j.material)) or s.by_process.get(j.process, [])
    if j.process == "inspection":
        pool = s.by_process.get("inspection", [])
    picks = pool if len(pool) <= SAMPLE * 2 else s.rng.choices(pool, k=SAMPLE)
    best: MachineRec | None = None
    best_cost = math.inf
    for idx in picks:
        m = s.machines[idx]
        if len(m.queue) >= MAX_QUEUE or not can_take(s, j, m):
            continue
        c = cost(s, j, m)[0]
        if c < best_cost:
            best, best_cost = m, c
    if best is None:
        return False
    enqueue(s, j, best)
    return True


def enqueue(s: SimState, j: JobRec, m: MachineRec) -> None:
    """Put ``j`` in ``m``'s queue in (priority, due) order; the machine starts it if it may."""
    key = (j.priority, j.due_at)
    pos = len(m.queue)
    for i, jid in enumerate(m.queue):
        other = s.jobs[jid]
        if key < (other.priority, other.due_at):
            pos = i
            break
    m.queue.insert(pos, j.id)
    j.machine = m.idx
    j.node = m.node
    s.backlog.pop(j.id, None)
    if not settle(s, m):
        emit_machine(s, m)  # its queue grew: nothing visible on the machine, but keep readers in step
    for jid in m.queue[pos:]:
        emit_job(s, s.jobs[jid])
    if m.job == j.id:
        emit_job(s, j)


def retry_backlog(s: SimState) -> None:
    if not s.backlog:
        return
    order = sorted(s.backlog, key=lambda jid: (s.jobs[jid].priority, s.jobs[jid].due_at, jid))
    for jid in order[:300]:
        j = s.jobs[jid]
        if not j.held:
            place(s, j)
