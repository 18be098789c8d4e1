"""Ingest: snapshots and events of a source into its replica, and from there into the merged view.

Why its own module: this is the store's hot path and it is written for that. The target is 100,000 telemetry events a
second, parsing included, on one core, at 20,000 machines; per event the store's share is a few microseconds. So:

* :func:`apply_events` takes a whole read of the stream in one call and loops over it itself: the ``seq`` check,
  the handler lookup and the call are inline, and the source's status is updated once per batch (one clock read),
  not per event. It stops at anything that needs the source's judgement (not an :class:`Event`, not the next
  ``seq``, a ``cluster.updated``); :func:`apply_event` takes those one at a time.
* Each event type has one handler (:data:`HANDLERS`), a plain function called straight from the loop with the store
  as its first argument: no bound method, no further dispatch. With one source (the common case) a handler writes
  the table directly (:mod:`console.store.tables`); with several it lets the merge decide (:mod:`console.store.merge`).
* Telemetry is the one exception to "stored objects are never changed in place": a machine's current values live in
  its source's replica (``Replica.telemetry``), a plain dict of floats per machine that ``machine.telemetry``
  updates in place, appending to a compact history and tracking the change with a set ``add`` and a flag check. No
  new ``Machine`` per telemetry event (that copy, and the garbage collector's walks over the long-lived copies, were
  most of an event's cost).

Objects are :func:`~console.store.compact.compact`-ed as they enter (snapshot or event), so objects of one shape
share one read-only fields set and repeated strings are interned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.api.models import (
    Alert,
    AuditEntry,
    Cluster,
    Event,
    EventType,
    Job,
    JobRemoved,
    Machine,
    MachineTelemetry,
    Node,
    Quality,
    Snapshot,
)
from console.store.changes import ApplyOutcome, touch
from console.store.compact import compact, compact_shared, release_free_memory
from console.store.merge import refresh_cluster, reselect_all, resolve, resolve_refs
from console.store.registry import source_status
from console.store.replicas import TABLES, Replica
from console.store.status import SourceState
from console.store.tables import (
    RESOLVED,
    WRITERS,
    Put,
    Remove,
    put_alert,
    put_job,
    put_machine,
    put_node,
    put_quality,
    remove_job,
)

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = ["BIG_SNAPSHOT", "HANDLERS", "apply_event", "apply_events", "apply_snapshot"]

BIG_SNAPSHOT = 10_000
"""Objects in a snapshot above which the store returns freed memory to the OS after applying it."""

_CLUSTER_UPDATED = str(EventType.CLUSTER_UPDATED)


# --- snapshot -------------------------------------------------------------------------------------------------------


def apply_snapshot(store: Store, source_id: str, snapshot: Snapshot) -> None:
    """Replace this source's replica with a snapshot and take its ``seq`` and ``instance_id``.

    The merged view then follows: objects only this source showed and the snapshot lacks are removed; objects
    equal to the ones shown are not reported as changed.
    """
    status = source_status(store, source_id)
    size = 0
    for objects in (snapshot.nodes, snapshot.machines, snapshot.jobs, snapshot.alerts, snapshot.quality):
        size += len(objects)
    # Records parsed with the snapshot shared their values already (``Snapshot.values_shared``): the rest only.
    shrink = compact_shared if snapshot.values_shared else compact
    for objects in (snapshot.nodes, snapshot.machines, snapshot.jobs, snapshot.alerts, snapshot.quality):
        for obj in objects:
            shrink(obj)
    replica = store._replicas.get(source_id)
    held_before = replica.alerts if replica is not None else {}
    if replica is None:
        replica = Replica(source_id, store._order[source_id], status.kind, status.state == SourceState.LIVE)
        store._replicas[source_id] = replica
        store._replica_list.append(replica)
        store._replica_list.sort(key=lambda r: r.order)
    replica.cluster = snapshot.cluster
    replica.nodes = {n.id: n for n in snapshot.nodes}
    replica.machines = {m.id: m for m in snapshot.machines}
    replica.telemetry = {m.id: dict(m.telemetry) for m in snapshot.machines}
    replica.jobs = {j.id: j for j in snapshot.jobs}
    replica.alerts = {a.id: a for a in snapshot.alerts if a.state != RESOLVED}
    replica.quality = {q.key: q for q in snapshot.quality}
    if len(store._replica_list) == 1:
        # One source: the merged view is its replica (the fast path, as before there were several).
        for table in TABLES:
            put, remove = WRITERS[table]
            _replace(store, table, source_id, replica.table(table), put, remove)
    else:
        reselect_all(store)
    refresh_cluster(store)
    replicas = store._replica_list
    store.journal.observe_snapshot(
        source_id,
        snapshot.alerts,
        held_before,
        lambda alert_id: any(alert_id in r.alerts for r in replicas),
        snapshot.cluster.server_time,
    )
    status.seq = snapshot.seq
    status.instance_id = snapshot.cluster.instance_id
    status.snapshots_total += 1
    store._pending.sources.add(source_id)
    touch(store)
    if size >= BIG_SNAPSHOT:
        release_free_memory()


def _replace(store: Store, table: str, source_id: str, fresh: dict[Any, Any], put: Put, remove: Remove) -> None:
    """One source's table becomes the shown one: what it showed and lacks now goes, what is equal stays unreported."""
    owners = store._owners[table]
    current: dict[Any, Any] = getattr(store, table)
    gone = [oid for oid, owner in owners.items() if owner == source_id and oid not in fresh]
    for oid in gone:
        remove(store, oid)
    for oid, obj in fresh.items():
        held = current.get(oid)
        if held is not None and held == obj:
            current[oid] = obj  # the replica's own object: the telemetry path relies on that
            owners[oid] = source_id
        else:
            put(store, source_id, obj)


# --- events ---------------------------------------------------------------------------------------------------------


def apply_event(store: Store, source_id: str, event: Event) -> ApplyOutcome:
    """Apply one event of a source in ``seq`` order (see :class:`ApplyOutcome`)."""
    status = store.sources.get(source_id)
    if status is None or status.seq is None:
        return ApplyOutcome.GAP
    seq = event.seq
    last = status.seq
    if seq <= last:
        return ApplyOutcome.DUPLICATE
    if seq != last + 1:
        return ApplyOutcome.GAP
    status.seq = seq
    status.note_event(time.monotonic())
    handler = HANDLERS.get(event.type)
    if handler is None or event.data is None:
        status.ignored_total += 1
        return ApplyOutcome.IGNORED
    handler(store, source_id, event.data)
    return ApplyOutcome.APPLIED


def apply_events(store: Store, source_id: str, items: list[Any], start: int = 0) -> int:
    """Apply the events of one read of a stream, from ``items[start]`` on, while each is simply the next one.

    Returns the index of the first item not taken: the end, or an item that needs its source's judgement (not
    an :class:`Event`, not the next ``seq``, or a ``cluster.updated``, which may mean a new server instance).
    The source hands that one to :meth:`apply_event` & co and calls again after it. Why a batch: a read of the
    stream brings a few hundred events at a time, and per event this saves the calls and the clock reads that
    :meth:`apply_event` makes (the source's status is updated once per batch).
    """
    status = store.sources.get(source_id)
    end = len(items)
    if status is None or status.seq is None or start >= end:
        return start
    handlers = HANDLERS
    last = status.seq
    i = start
    try:
        while i < end:
            item = items[i]
            if type(item) is not Event:
                break
            seq = item.seq
            if seq != last + 1:
                break
            event_type = item.type
            if event_type == _CLUSTER_UPDATED:
                break
            status.seq = last = seq
            i += 1
            handler = handlers.get(event_type)
            data = item.data
            if handler is None or data is None:
                status.ignored_total += 1
            else:
                handler(store, source_id, data)
    finally:
        if i > start:
            status.note_events(i - start, time.monotonic())
    return i


# --- handlers: one per event type, ``(store, source_id, data)`` -----------------------------------------------------


def _on_telemetry(store: Store, source_id: str, telemetry: MachineTelemetry) -> None:
    machine_id = telemetry.machine_id
    current = store._replicas[source_id].telemetry.get(machine_id)
    if current is None:
        return  # a machine this source never showed
    values = telemetry.values
    current.update(values)  # the one in-place update in the store (see the module docstring)
    if store._machine_owners.get(machine_id) != source_id:
        return  # shown from another source (telemetry moves neither last_seen nor the node: still not ours)
    store.telemetry_history.add(machine_id, values)
    store._pending.telemetry_only.add(machine_id)
    if not store._dirty:
        touch(store)


def _on_machine(store: Store, source_id: str, machine: Machine) -> None:
    compact(machine)
    replica = store._replicas[source_id]
    held = replica.machines
    old = held.get(machine.id)
    held[machine.id] = machine
    replica.telemetry[machine.id] = dict(machine.telemetry)  # its values now; later telemetry merges in
    if len(store._replica_list) == 1:
        put_machine(store, source_id, machine)
        return
    resolve(store, "machines", machine.id)
    if old is None or old.node_id != machine.node_id:
        resolve_refs(store, "machine", machine.id)


def _on_node(store: Store, source_id: str, node: Node) -> None:
    compact(node)
    held = store._replicas[source_id].nodes
    old = held.get(node.id)
    held[node.id] = node
    if len(store._replica_list) == 1:
        put_node(store, source_id, node)
        return
    if (old is None or old.last_seen != node.last_seen) and store._selections.changed(node.id):
        reselect_all(store)
    else:
        resolve(store, "nodes", node.id)


def _on_job(store: Store, source_id: str, job: Job) -> None:
    compact(job)
    held = store._replicas[source_id].jobs
    old = held.get(job.id)
    held[job.id] = job
    if len(store._replica_list) == 1:
        put_job(store, source_id, job)
        return
    resolve(store, "jobs", job.id)
    if old is None or old.node_id != job.node_id:
        resolve_refs(store, "job", job.id)


def _on_job_removed(store: Store, source_id: str, removed: JobRemoved) -> None:
    old = store._replicas[source_id].jobs.pop(removed.id, None)
    if len(store._replica_list) == 1:
        remove_job(store, removed.id)
    elif old is not None:
        resolve(store, "jobs", removed.id)
        resolve_refs(store, "job", removed.id)


def _on_alert(store: Store, source_id: str, alert: Alert) -> None:
    compact(alert)
    store.journal.observe(source_id, alert)
    held = store._replicas[source_id].alerts
    alert_id = alert.id
    if alert.state == RESOLVED:
        old = held.pop(alert_id, None)
    else:
        old = held.get(alert_id)
        held[alert_id] = alert
    if len(store._replica_list) == 1:
        put_alert(store, source_id, alert)
        return
    refs = store._alert_refs
    if alert.state != RESOLVED:
        refs.setdefault((alert.source.kind, alert.source.id), set()).add(alert_id)
    elif old is not None and not any(alert_id in r.alerts for r in store._replica_list):
        key = (old.source.kind, old.source.id)
        group = refs.get(key)
        if group is not None:
            group.discard(alert_id)
            if not group:
                del refs[key]
    resolve(store, "alerts", alert_id)


def _on_quality(store: Store, source_id: str, quality: Quality) -> None:
    compact(quality)
    store._replicas[source_id].quality[quality.key] = quality
    if len(store._replica_list) == 1:
        put_quality(store, source_id, quality)
        return
    resolve(store, "quality", quality.key)


def _on_cluster(store: Store, source_id: str, cluster: Cluster) -> None:
    store._replicas[source_id].cluster = cluster
    refresh_cluster(store)


def _on_audit(store: Store, source_id: str, entry: AuditEntry) -> None:
    # The cluster and a node's agent may both report one command: keep it once.
    ids = store._audit_ids
    if entry.id in ids:
        return
    audit = store.audit
    if audit.maxlen is not None and len(audit) == audit.maxlen:
        ids.discard(audit[0].id)
    audit.append(entry)
    ids.add(entry.id)
    store.journal.note_audit(entry)
    store._pending.audit.add(entry.id)
    if not store._dirty:
        touch(store)


Handler = Callable[["Store", str, Any], None]

HANDLERS: dict[str, Handler] = {
    EventType.MACHINE_TELEMETRY: _on_telemetry,
    EventType.MACHINE_UPDATED: _on_machine,
    EventType.JOB_UPDATED: _on_job,
    EventType.JOB_REMOVED: _on_job_removed,
    EventType.NODE_UPDATED: _on_node,
    EventType.ALERT_RAISED: _on_alert,
    EventType.ALERT_UPDATED: _on_alert,
    EventType.QUALITY_UPDATED: _on_quality,
    EventType.AUDIT_APPENDED: _on_audit,
    EventType.CLUSTER_UPDATED: _on_cluster,
}
"""The handler of each event type the store knows; any other type is counted as ignored and its ``seq`` taken."""
