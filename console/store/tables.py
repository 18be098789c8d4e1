"""The table writers: the only code that puts an object into the public tables or takes one out.

Why one place: every public table (``nodes``, ``machines``, ``jobs``, ``alerts``, ``quality``) has companions that
must move with it in the same step, or a screen sees a machine that no index lists: the indexes of ids by group
(:class:`~console.store.indexes.GroupIndex`: machines by node, state and kind; jobs by machine and node; the
backlog; alerts by priority and by what they are about), the count of machines per state per node, the owner of
each shown object (the source it is shown from), the pending change set (ids, and ``structure`` when an object
came, went or changed group), the per-machine notable events (state and job changes, new alerts) and the telemetry
history of a machine that goes.

The writers do not decide *which* version to show: the merge does (``console.store.merge``; with one source, the
ingest handlers call the writers directly). They are free functions of the store, called once per stored object on
the ingest path, so they read the store's attributes directly and test ``_dirty`` before calling :func:`touch`.
:data:`WRITERS` gives each table's ``(put, remove)`` pair for the code that works table by table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.api.models import FINISHED_JOB_STATUSES, Alert, Job, Machine, Node, Quality
from console.store.changes import mark_structure, touch
from console.store.history import MachineEvent
from console.store.timeline import FIRST_SIGHT_STATUSES

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = [
    "RESOLVED",
    "WRITERS",
    "Put",
    "QualityKey",
    "Remove",
    "is_backlog",
    "put_alert",
    "put_job",
    "put_machine",
    "put_node",
    "put_quality",
    "remove_alert",
    "remove_job",
    "remove_machine",
    "remove_node",
    "remove_quality",
]

QualityKey = tuple[str, str]

RESOLVED = "resolved"
"""The alert state that takes an alert out of the tables (the store keeps only unresolved alerts)."""


def is_backlog(job: Job) -> bool:
    """An unfinished job on no machine."""
    return job.machine_id is None and job.status not in FINISHED_JOB_STATUSES


def put_node(store: Store, source_id: str, node: Node) -> None:
    old = store.nodes.get(node.id)
    if old is None:
        mark_structure(store, "nodes")
    elif old.state != node.state:
        store.timeline.node(old, node, store.clock)
    store.nodes[node.id] = node
    store._owners["nodes"][node.id] = source_id
    store._pending.nodes.add(node.id)
    touch(store)


def remove_node(store: Store, node_id: str) -> None:
    if store.nodes.pop(node_id, None) is not None:
        store._owners["nodes"].pop(node_id, None)
        store._pending.nodes.add(node_id)
        mark_structure(store, "nodes")
        touch(store)


def _count_state(store: Store, node_id: str, state: str, step: int) -> None:
    """Keep ``Store._node_state_counts`` (machines per state per node) as a machine comes, goes or moves."""
    per_node = store._node_state_counts
    counts = per_node.get(node_id)
    if counts is None:
        counts = per_node[node_id] = {}
    n = counts.get(state, 0) + step
    if n > 0:
        counts[state] = n
    else:
        counts.pop(state, None)
        if not counts:
            del per_node[node_id]


def put_machine(store: Store, source_id: str, machine: Machine) -> None:
    machine_id = machine.id
    old = store.machines.get(machine_id)
    store.machines[machine_id] = machine
    store._owners["machines"][machine_id] = source_id
    if old is None:
        _count_state(store, machine.node_id, machine.state, 1)
        store.machines_by_node_index.add(machine.node_id, machine_id)
        store.machines_by_state_index.add(machine.state, machine_id)
        store.machines_by_kind_index.add(machine.kind, machine_id)
        mark_structure(store, "machines")
        if machine.state not in ("running", "idle"):
            store.timeline.machine(None, machine, store.clock)  # first seen in fault, paused...: since when
    else:
        if old.node_id != machine.node_id or old.state != machine.state:
            _count_state(store, old.node_id, old.state, -1)
            _count_state(store, machine.node_id, machine.state, 1)
        if old.node_id != machine.node_id:
            store.machines_by_node_index.move(old.node_id, machine.node_id, machine_id)
            mark_structure(store, "machines")
        if old.state != machine.state:
            store.machines_by_state_index.move(old.state, machine.state, machine_id)
            mark_structure(store, "machines")
            summary = store.timeline.machine(old, machine, store.clock) or ""
            store.machine_events.add(machine_id, MachineEvent(machine.state_since or store.clock(), "state", summary))
        elif old.draining != machine.draining:
            store.timeline.machine(old, machine, store.clock)
        if old.kind != machine.kind:
            store.machines_by_kind_index.move(old.kind, machine.kind, machine_id)
            mark_structure(store, "machines")
        if old.job_id != machine.job_id:
            summary = f"job {old.job_id or '—'} → {machine.job_id or '—'}"
            store.machine_events.add(machine_id, MachineEvent(store.clock(), "job", summary))
    store._pending.machines.add(machine_id)
    if not store._dirty:
        touch(store)


def remove_machine(store: Store, machine_id: str) -> None:
    old = store.machines.pop(machine_id, None)
    if old is None:
        return
    store._owners["machines"].pop(machine_id, None)
    _count_state(store, old.node_id, old.state, -1)
    store.machines_by_node_index.discard(old.node_id, machine_id)
    store.machines_by_state_index.discard(old.state, machine_id)
    store.machines_by_kind_index.discard(old.kind, machine_id)
    store.telemetry_history.drop(machine_id)
    store.machine_events.drop(machine_id)
    store._pending.machines.add(machine_id)
    mark_structure(store, "machines")
    touch(store)


def put_job(store: Store, source_id: str, job: Job) -> None:
    job_id = job.id
    old = store.jobs.get(job_id)
    store.jobs[job_id] = job
    store._owners["jobs"][job_id] = source_id
    if old is None:
        if job.machine_id is not None:
            store.jobs_by_machine_index.add(job.machine_id, job_id)
        if job.node_id is not None:
            store.jobs_by_node_index.add(job.node_id, job_id)
        mark_structure(store, "jobs")
        if job.status in FIRST_SIGHT_STATUSES:
            store.timeline.job(None, job, store.clock, store.machines)  # first seen paused or failed: say so
    else:
        if (
            old.status != job.status
            or old.machine_id != job.machine_id
            or old.node_id != job.node_id
            or old.scrap_qty != job.scrap_qty
        ):
            store.timeline.job(old, job, store.clock, store.machines)  # history: where it runs, its status, scrap
        if old.machine_id != job.machine_id:
            if old.machine_id is not None:
                store.jobs_by_machine_index.discard(old.machine_id, job_id)
            if job.machine_id is not None:
                store.jobs_by_machine_index.add(job.machine_id, job_id)
            mark_structure(store, "jobs")
        if old.node_id != job.node_id:
            if old.node_id is not None:
                store.jobs_by_node_index.discard(old.node_id, job_id)
            if job.node_id is not None:
                store.jobs_by_node_index.add(job.node_id, job_id)
            mark_structure(store, "jobs")
    if is_backlog(job):
        if job_id not in store.backlog_ids:
            store.backlog_ids.add(job_id)
            mark_structure(store, "jobs")
    elif job_id in store.backlog_ids:
        store.backlog_ids.discard(job_id)
        mark_structure(store, "jobs")
    store._pending.jobs.add(job_id)
    if not store._dirty:
        touch(store)


def remove_job(store: Store, job_id: str) -> None:
    old = store.jobs.pop(job_id, None)
    if old is None:
        return
    store._owners["jobs"].pop(job_id, None)
    if old.machine_id is not None:
        store.jobs_by_machine_index.discard(old.machine_id, job_id)
    if old.node_id is not None:
        store.jobs_by_node_index.discard(old.node_id, job_id)
    store.backlog_ids.discard(job_id)
    store._pending.jobs.add(job_id)
    mark_structure(store, "jobs")
    touch(store)


def put_alert(store: Store, source_id: str, alert: Alert) -> None:
    if alert.state == RESOLVED:
        remove_alert(store, alert.id)
        return
    alert_id = alert.id
    old = store.alerts.get(alert_id)
    store.alerts[alert_id] = alert
    store._owners["alerts"][alert_id] = source_id
    source_key = (alert.source.kind, alert.source.id)
    if old is None:
        store.alerts_by_priority_index.add(alert.priority, alert_id)
        store.alerts_by_source_index.add(source_key, alert_id)
        mark_structure(store, "alerts")
        if alert.source.kind == "machine":
            summary = f"{alert.priority} {alert.code}: {alert.message}"
            store.machine_events.add(
                alert.source.id, MachineEvent(alert.raised_at or store.clock(), "alert", summary[:120])
            )
    else:
        if old.priority != alert.priority:
            store.alerts_by_priority_index.move(old.priority, alert.priority, alert_id)
            mark_structure(store, "alerts")
        old_key = (old.source.kind, old.source.id)
        if old_key != source_key:
            store.alerts_by_source_index.move(old_key, source_key, alert_id)
            mark_structure(store, "alerts")
        if old.state != alert.state:
            mark_structure(store, "alerts")  # the active list is sorted by state within a priority
    store._pending.alerts.add(alert_id)
    touch(store)


def remove_alert(store: Store, alert_id: str) -> None:
    old = store.alerts.pop(alert_id, None)
    if old is None:
        return
    store._owners["alerts"].pop(alert_id, None)
    store.alerts_by_priority_index.discard(old.priority, alert_id)
    store.alerts_by_source_index.discard((old.source.kind, old.source.id), alert_id)
    store._pending.alerts.add(alert_id)
    mark_structure(store, "alerts")
    touch(store)


def put_quality(store: Store, source_id: str, quality: Quality) -> None:
    key = quality.key
    if key not in store.quality:
        mark_structure(store, "quality")
    store.quality[key] = quality
    store._owners["quality"][key] = source_id
    store._pending.quality.add(key)
    touch(store)


def remove_quality(store: Store, key: QualityKey) -> None:
    if store.quality.pop(key, None) is not None:
        store._owners["quality"].pop(key, None)
        store._pending.quality.add(key)
        mark_structure(store, "quality")
        touch(store)


Put = Callable[["Store", str, Any], None]
Remove = Callable[["Store", Any], None]

WRITERS: dict[str, tuple[Put, Remove]] = {
    "nodes": (put_node, remove_node),
    "machines": (put_machine, remove_machine),
    "jobs": (put_job, remove_job),
    "alerts": (put_alert, remove_alert),
    "quality": (put_quality, remove_quality),
}
"""Each table's ``(put, remove)``: ``put(store, source_id, obj)`` shows ``obj`` from ``source_id``; ``remove(store,
key)`` takes the object out (nothing happens if it is not shown)."""
