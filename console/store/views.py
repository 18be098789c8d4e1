"""Read views for the screens: a node's machines, a machine's job queue, the backlog, the active alerts, counts, and a
machine's current telemetry.

Why apart from the writers: screens call these when they redraw, not per event, so they are built from the indexes
the writers keep (:mod:`console.store.tables`) at the moment they are asked, sorted in the order the screens show
(:func:`alert_sort_key`, :func:`job_queue_key`, :func:`backlog_key`), and never change the store. The one live view
is :func:`machine_telemetry`: the replica's own dict of current values, which ingest updates in place (a screen
copies it to keep a moment's values).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console.api.models import ALERT_PRIORITY_RANK, Alert, Job, Machine
from console.store.history import MachineEvent
from console.store.status import SourceState

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = [
    "active_alerts",
    "alert_counts_by_priority",
    "alert_sort_key",
    "alerts_for",
    "any_live",
    "backlog",
    "backlog_key",
    "counts_by_state",
    "current_machine",
    "job_queue_key",
    "jobs_for_machine",
    "jobs_for_node",
    "machine_telemetry",
    "machines_by_node",
    "machines_in_state",
    "machines_of_kind",
    "recent_machine_events",
    "source_state",
    "tables_as_json",
    "telemetry_series",
    "unordered_active_alerts",
]

_ALERT_STATE_RANK = {"active_unacked": 0, "cleared_unacked": 1, "active_acked": 2, "shelved": 3}
_ACTIVE_JOB = frozenset({"running", "paused"})


_NEG_TIMESTAMPS: dict[datetime, float] = {}
"""``-raised_at.timestamp()`` by time: ``datetime.timestamp`` was most of an alert's sort key, and the dashboard sorts
every active alert each time alerts change (12,000 of them after a few simulated days of the demo at 20,000
machines: 12.8 ms a sort, 6.0 with this). Equal times (whatever their offsets) have equal timestamps, so keying by
the time is exact. Cleared when it reaches :data:`_NEG_TIMESTAMPS_LIMIT`."""
_NEG_TIMESTAMPS_LIMIT = 65_536


def alert_sort_key(alert: Alert) -> tuple[int, int, float, str]:
    """Most urgent first: priority, then unacknowledged before acknowledged, then newest, then id."""
    raised_at = alert.raised_at
    newest_first = _NEG_TIMESTAMPS.get(raised_at)
    if newest_first is None:
        if len(_NEG_TIMESTAMPS) >= _NEG_TIMESTAMPS_LIMIT:
            _NEG_TIMESTAMPS.clear()
        newest_first = _NEG_TIMESTAMPS[raised_at] = -raised_at.timestamp()
    return (
        ALERT_PRIORITY_RANK.get(alert.priority, len(ALERT_PRIORITY_RANK)),
        _ALERT_STATE_RANK.get(alert.state, len(_ALERT_STATE_RANK)),
        newest_first,
        alert.id,
    )


def job_queue_key(job: Job) -> tuple[int, int, int, datetime, str]:
    """A machine's queue order: the running (or paused) job first, then by queue position, then priority."""
    position = job.queue_position
    return (
        0 if job.status in _ACTIVE_JOB else 1,
        position if position is not None else 1 << 30,
        job.priority,
        job.due_at,
        job.id,
    )


def backlog_key(job: Job) -> tuple[int, datetime, datetime, str]:
    return (job.priority, job.due_at, job.created_at, job.id)


def machines_by_node(store: Store, node_id: str) -> list[Machine]:
    """A node's machines, by id."""
    machines = store.machines
    return [machines[mid] for mid in sorted(store.machines_by_node_index.get(node_id))]


def machines_in_state(store: Store, state: str) -> list[Machine]:
    machines = store.machines
    return [machines[mid] for mid in sorted(store.machines_by_state_index.get(state))]


def machines_of_kind(store: Store, kind: str) -> list[Machine]:
    machines = store.machines
    return [machines[mid] for mid in sorted(store.machines_by_kind_index.get(kind))]


def jobs_for_machine(store: Store, machine_id: str) -> list[Job]:
    """A machine's jobs in queue order: the running (or paused) one first, then by queue position."""
    jobs = store.jobs
    return sorted((jobs[jid] for jid in store.jobs_by_machine_index.get(machine_id)), key=job_queue_key)


def jobs_for_node(store: Store, node_id: str) -> list[Job]:
    jobs = store.jobs
    return sorted((jobs[jid] for jid in store.jobs_by_node_index.get(node_id)), key=job_queue_key)


def backlog(store: Store) -> list[Job]:
    """Unfinished jobs on no machine, most urgent first (priority, then due time)."""
    jobs = store.jobs
    return sorted((jobs[jid] for jid in store.backlog_ids), key=backlog_key)


def active_alerts(store: Store, *, include_shelved: bool = False) -> list[Alert]:
    """Alerts not resolved (shelved ones only if asked), most urgent first."""
    return sorted(unordered_active_alerts(store, include_shelved=include_shelved), key=alert_sort_key)


def unordered_active_alerts(store: Store, *, include_shelved: bool = False) -> Iterable[Alert]:
    """The alerts of :func:`active_alerts`, in no particular order: for counting them. Sorting 12,000 alerts (the demo
    at 20,000 machines after a few simulated days) takes ~6 ms, and the dashboard counted them per machine and per
    node on most flushes (issue 15)."""
    alerts: Iterable[Alert] = store.alerts.values()
    if not include_shelved:
        alerts = (a for a in alerts if a.state != "shelved")
    return alerts


def alerts_for(store: Store, kind: str, object_id: str) -> list[Alert]:
    """The unresolved alerts about one object (``kind`` is machine, node, job or cluster), most urgent first."""
    alerts = store.alerts
    return sorted((alerts[aid] for aid in store.alerts_by_source_index.get((kind, object_id))), key=alert_sort_key)


def alert_counts_by_priority(store: Store) -> dict[str, int]:
    return store.alerts_by_priority_index.counts()


def counts_by_state(store: Store, node_id: str | None = None) -> dict[str, int]:
    """How many machines are in each state, in the whole cluster or on one node."""
    if node_id is None:
        return store.machines_by_state_index.counts()
    # Kept by the table writers: the node strip asks for all 200 nodes at 20,000 machines, and counting each
    # node's machines took ~30 ms a strip (ten times a second under the demo's stream).
    return dict(store._node_state_counts.get(node_id, ()))


def machine_telemetry(store: Store, machine_id: str) -> Mapping[str, float]:
    """A machine's current telemetry values, from the source that shows it (empty if none).

    Read-only, and live: the store updates it in place as telemetry arrives (copy it to keep a moment's values).
    """
    owner = store._machine_owners.get(machine_id)
    replica = None if owner is None else store._replicas.get(owner)
    if replica is not None:
        values = replica.telemetry.get(machine_id)
        if values is not None:
            return values
    machine = store.machines.get(machine_id)
    return {} if machine is None else machine.telemetry


def current_machine(store: Store, machine_id: str) -> Machine | None:
    """The machine shown, with its current telemetry values (a copy when they moved since its last update)."""
    machine = store.machines.get(machine_id)
    if machine is None:
        return None
    values = store.machine_telemetry(machine_id)
    return machine if values == machine.telemetry else machine.model_copy(update={"telemetry": dict(values)})


def telemetry_series(store: Store, machine_id: str, name: str) -> list[float]:
    """Recent values of one telemetry name of a machine, oldest first (for a sparkline)."""
    return store.telemetry_history.get(machine_id, name)


def recent_machine_events(store: Store, machine_id: str) -> list[MachineEvent]:
    """The last notable events of a machine (state and job changes, alerts), oldest first."""
    return store.machine_events.get(machine_id)


def source_state(store: Store, source_id: str) -> str | None:
    status = store.sources.get(source_id)
    return None if status is None else status.state


def any_live(store: Store) -> bool:
    return any(s.state == SourceState.LIVE for s in store.sources.values())


def tables_as_json(store: Store) -> dict[str, Any]:
    """The tables as plain JSON-ready data, sorted by key: for tests and for diagnostics dumps."""

    def dump(table: dict[Any, Any]) -> dict[str, Any]:
        return {"/".join(k) if isinstance(k, tuple) else k: v.model_dump(mode="json") for k, v in sorted(table.items())}

    machines = {machine_id: store.current_machine(machine_id) for machine_id in store.machines}

    return {
        "cluster": None if store.cluster is None else store.cluster.model_dump(mode="json"),
        "nodes": dump(store.nodes),
        "machines": dump(machines),
        "jobs": dump(store.jobs),
        "alerts": dump(store.alerts),
        "quality": dump(store.quality),
    }
