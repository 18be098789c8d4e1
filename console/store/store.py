"""The one in-memory picture of the cluster: tables of contract objects, kept in ``seq`` order, with indexes.

Sources call :meth:`Store.apply_snapshot` and :meth:`Store.apply_event`; screens read the tables and the helper
queries, and call :meth:`Store.take_changes` to learn what to repaint. Everything runs on the app's asyncio loop, so
there is no locking. The store knows nothing about HTTP: it only sees models and ``seq`` numbers.

Each source keeps its own ``seq`` and ``instance_id`` (:class:`SourceStatus`); every object remembers which source
wrote it last, so a source's snapshot replaces only that source's objects, and a later per-node source selection can
ask who owns a node (:meth:`Store.node_source`).

Objects in the tables are never mutated: every change stores a new object (so a screen holding one sees a consistent
value, and an identity check tells it whether anything changed). The ingest path is lean on purpose (the target is
100,000 telemetry events a second, parsing included, on one core): ``machine.telemetry`` makes one shallow model copy
with the merged values, appends to a compact history, and tracks the change with a set ``add`` and a flag check.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from console.api.models import (
    ALERT_PRIORITY_RANK,
    FINISHED_JOB_STATUSES,
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
    WhoAmI,
    utc_now,
)
from console.api.sse import MalformedEvent
from console.store.changes import ApplyOutcome, ChangeSet
from console.store.history import MachineEvent, MachineEvents, TelemetryHistory
from console.store.indexes import GroupIndex
from console.store.status import LogLine, MalformedRecord, SourceState, SourceStatus

__all__ = ["Store"]

log = logging.getLogger(__name__)

QualityKey = tuple[str, str]
Listener = Callable[[], None]

RESOLVED = "resolved"
_ALERT_STATE_RANK = {"active_unacked": 0, "cleared_unacked": 1, "active_acked": 2, "shelved": 3}
_ACTIVE_JOB = frozenset({"running", "paused"})


def _is_backlog(job: Job) -> bool:
    return job.machine_id is None and job.status not in FINISHED_JOB_STATUSES


def alert_sort_key(alert: Alert) -> tuple[int, int, float, str]:
    """Most urgent first: priority, then unacknowledged before acknowledged, then newest, then id."""
    return (
        ALERT_PRIORITY_RANK.get(alert.priority, len(ALERT_PRIORITY_RANK)),
        _ALERT_STATE_RANK.get(alert.state, len(_ALERT_STATE_RANK)),
        -alert.raised_at.timestamp(),
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


class Store:
    """Tables, indexes, per-source state and change sets. See the module docstring."""

    def __init__(self, *, audit_limit: int = 500, history_len: int = 60, machine_events_len: int = 20) -> None:
        self.cluster: Cluster | None = None
        self.whoami: WhoAmI | None = None
        self.nodes: dict[str, Node] = {}
        self.machines: dict[str, Machine] = {}
        self.jobs: dict[str, Job] = {}
        self.alerts: dict[str, Alert] = {}
        """Alerts that are not resolved (shelved ones included; see :meth:`active_alerts`)."""
        self.quality: dict[QualityKey, Quality] = {}
        self.audit: deque[AuditEntry] = deque(maxlen=audit_limit)
        self.sources: dict[str, SourceStatus] = {}

        self.machines_by_node_index: GroupIndex[str] = GroupIndex()
        self.machines_by_state_index: GroupIndex[str] = GroupIndex()
        self.machines_by_kind_index: GroupIndex[str] = GroupIndex()
        self.jobs_by_machine_index: GroupIndex[str] = GroupIndex()
        self.jobs_by_node_index: GroupIndex[str] = GroupIndex()
        self.backlog_ids: set[str] = set()
        self.alerts_by_priority_index: GroupIndex[str] = GroupIndex()
        self.alerts_by_source_index: GroupIndex[tuple[str, str]] = GroupIndex()

        self.telemetry_history = TelemetryHistory(history_len)
        self.machine_events = MachineEvents(machine_events_len)

        # Which source last wrote each object, per table.
        self._owners: dict[str, dict[Any, str]] = {
            "nodes": {},
            "machines": {},
            "jobs": {},
            "alerts": {},
            "quality": {},
        }
        self._pending = ChangeSet()
        self._dirty = False
        self._listeners: list[Listener] = []
        self._handlers: dict[str, Callable[[str, Any], None]] = {
            EventType.MACHINE_TELEMETRY: self._on_telemetry,
            EventType.MACHINE_UPDATED: self._put_machine,
            EventType.JOB_UPDATED: self._put_job,
            EventType.JOB_REMOVED: self._on_job_removed,
            EventType.NODE_UPDATED: self._put_node,
            EventType.ALERT_RAISED: self._put_alert,
            EventType.ALERT_UPDATED: self._put_alert,
            EventType.QUALITY_UPDATED: self._put_quality,
            EventType.AUDIT_APPENDED: self._on_audit,
            EventType.CLUSTER_UPDATED: self._on_cluster,
        }

    # --- change notices ---------------------------------------------------------------------------------------------

    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback()`` each time the store goes from clean to dirty. Returns a function that removes it."""
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    def _touch(self) -> None:
        if self._dirty:
            return
        self._dirty = True
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:  # a broken listener must not stop ingest
                log.exception("store listener failed")

    @property
    def dirty(self) -> bool:
        return self._dirty

    def take_changes(self) -> ChangeSet:
        """What changed since the last call; the store is clean afterwards (the next change notifies again)."""
        changes = self._pending
        changes.telemetry_only -= changes.machines
        self._pending = ChangeSet()
        self._dirty = False
        return changes

    def _structure(self, table: str) -> None:
        self._pending.structure = True
        self._pending.structure_tables.add(table)

    # --- sources ----------------------------------------------------------------------------------------------------

    def register_source(self, source_id: str, *, kind: str = "cluster", url: str = "") -> SourceStatus:
        """Create (or update the kind and url of) a source's status. ``url`` must carry no secrets."""
        status = self.sources.get(source_id)
        if status is None:
            status = self.sources[source_id] = SourceStatus(source_id, kind=kind, url=url)
        else:
            status.kind, status.url = kind, url
        self._pending.sources.add(source_id)
        self._touch()
        return status

    def _source(self, source_id: str) -> SourceStatus:
        status = self.sources.get(source_id)
        if status is None:
            status = self.register_source(source_id, kind="unknown")
        return status

    def log_source(self, source_id: str, message: str) -> None:
        """Add a line to a source's connection log."""
        self._source(source_id).log.append(LogLine(utc_now(), message))
        self._pending.sources.add(source_id)
        self._touch()

    def set_source_state(
        self, source_id: str, state: str, reason: str | None = None, retry_at: float | None = None
    ) -> None:
        """Record a source's connection state; ``retry_at`` is on the ``time.monotonic()`` clock. Logs the change."""
        status = self._source(source_id)
        now = time.monotonic()
        if status.state != state:
            status.state_since = now
        status.state = state
        status.reason = reason
        status.retry_at = retry_at
        status.retry_at_wall = None
        message = str(state)
        if reason:
            message += f": {reason}"
        if retry_at is not None:
            delay = max(0.0, retry_at - now)
            status.retry_at_wall = utc_now() + timedelta(seconds=min(delay, 1e7))
            message += f" (retry in {delay:.1f} s)"
        status.log.append(LogLine(utc_now(), message))
        self._pending.sources.add(source_id)
        self._touch()

    def record_malformed(self, source_id: str, item: MalformedEvent) -> ApplyOutcome:
        """Keep a malformed event for diagnostics and step over its ``seq``.

        Returns ``IGNORED`` when its ``seq`` was the next one (or unknown), ``DUPLICATE`` for an old ``seq``, ``GAP``
        when it skipped some (the source must resync, as for any gap).
        """
        status = self._source(source_id)
        status.malformed_total += 1
        status.malformed.append(MalformedRecord.of(item, utc_now()))
        self._pending.sources.add(source_id)
        self._touch()
        if item.seq is None:
            return ApplyOutcome.IGNORED
        if status.seq is None or item.seq > status.seq + 1:
            return ApplyOutcome.GAP
        if item.seq <= status.seq:
            return ApplyOutcome.DUPLICATE
        status.seq = item.seq
        status.note_event(time.monotonic())
        return ApplyOutcome.IGNORED

    def set_whoami(self, whoami: WhoAmI | None) -> None:
        self.whoami = whoami
        self._pending.whoami = True
        self._touch()

    def node_source(self, node_id: str) -> str | None:
        """The source that last wrote this node."""
        return self._owners["nodes"].get(node_id)

    def owner(self, table: str, object_id: Any) -> str | None:
        """The source that last wrote an object of a table (``nodes``, ``machines``, ``jobs``, ``alerts``,
        ``quality``)."""
        return self._owners[table].get(object_id)

    # --- snapshot ---------------------------------------------------------------------------------------------------

    def apply_snapshot(self, source_id: str, snapshot: Snapshot) -> None:
        """Replace this source's objects with a snapshot's and take its ``seq`` and ``instance_id``.

        Objects this source wrote that the snapshot lacks are removed; objects equal to the ones held are not
        reported as changed.
        """
        self._replace("nodes", source_id, {n.id: n for n in snapshot.nodes}, self._put_node, self._remove_node)
        self._replace(
            "machines", source_id, {m.id: m for m in snapshot.machines}, self._put_machine, self._remove_machine
        )
        self._replace("jobs", source_id, {j.id: j for j in snapshot.jobs}, self._put_job, self._remove_job)
        alerts = {a.id: a for a in snapshot.alerts if a.state != RESOLVED}
        self._replace("alerts", source_id, alerts, self._put_alert, self._remove_alert)
        quality = {q.key: q for q in snapshot.quality}
        self._replace("quality", source_id, quality, self._put_quality, self._remove_quality)
        if self.cluster != snapshot.cluster:
            self.cluster = snapshot.cluster
            self._pending.cluster = True
        status = self._source(source_id)
        status.seq = snapshot.seq
        status.instance_id = snapshot.cluster.instance_id
        status.snapshots_total += 1
        self._pending.sources.add(source_id)
        self._touch()

    def _replace(
        self,
        table: str,
        source_id: str,
        fresh: dict[Any, Any],
        put: Callable[[str, Any], None],
        remove: Callable[[Any], None],
    ) -> None:
        owners = self._owners[table]
        current: dict[Any, Any] = getattr(self, table)
        gone = [oid for oid, owner in owners.items() if owner == source_id and oid not in fresh]
        for oid in gone:
            remove(oid)
        for oid, obj in fresh.items():
            if current.get(oid) == obj:
                owners[oid] = source_id
            else:
                put(source_id, obj)

    def forget_source(self, source_id: str) -> None:
        """Remove a source and every object it wrote last."""
        for table, remove in (
            ("nodes", self._remove_node),
            ("machines", self._remove_machine),
            ("jobs", self._remove_job),
            ("alerts", self._remove_alert),
            ("quality", self._remove_quality),
        ):
            for oid in [oid for oid, owner in self._owners[table].items() if owner == source_id]:
                remove(oid)
        if self.sources.pop(source_id, None) is not None:
            self._pending.sources.add(source_id)
        self._touch()

    # --- events -----------------------------------------------------------------------------------------------------

    def apply_event(self, source_id: str, event: Event) -> ApplyOutcome:
        """Apply one event of a source in ``seq`` order (see :class:`ApplyOutcome`)."""
        status = self.sources.get(source_id)
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
        handler = self._handlers.get(event.type)
        if handler is None or event.data is None:
            status.ignored_total += 1
            return ApplyOutcome.IGNORED
        handler(source_id, event.data)
        return ApplyOutcome.APPLIED

    def _on_telemetry(self, source_id: str, telemetry: MachineTelemetry) -> None:
        machine_id = telemetry.machine_id
        machine = self.machines.get(machine_id)
        if machine is None:
            return
        values = telemetry.values
        # A copy, not an in-place update: objects in the tables are never mutated (a screen may hold one, and a
        # change is always a new object). ~1.5 µs, well inside the ingest budget (measured: see the module doc).
        self.machines[machine_id] = machine.model_copy(update={"telemetry": {**machine.telemetry, **values}})
        self.telemetry_history.add(machine_id, values)
        self._pending.telemetry_only.add(machine_id)
        if not self._dirty:
            self._touch()

    def _on_cluster(self, source_id: str, cluster: Cluster) -> None:
        self.cluster = cluster
        self._pending.cluster = True
        if not self._dirty:
            self._touch()

    def _on_audit(self, source_id: str, entry: AuditEntry) -> None:
        self.audit.append(entry)
        self._pending.audit.add(entry.id)
        if not self._dirty:
            self._touch()

    def _on_job_removed(self, source_id: str, removed: JobRemoved) -> None:
        self._remove_job(removed.id)

    # --- table writers (keep the indexes right) ---------------------------------------------------------------------

    def _put_node(self, source_id: str, node: Node) -> None:
        if node.id not in self.nodes:
            self._structure("nodes")
        self.nodes[node.id] = node
        self._owners["nodes"][node.id] = source_id
        self._pending.nodes.add(node.id)
        self._touch()

    def _remove_node(self, node_id: str) -> None:
        if self.nodes.pop(node_id, None) is not None:
            self._owners["nodes"].pop(node_id, None)
            self._pending.nodes.add(node_id)
            self._structure("nodes")
            self._touch()

    def _put_machine(self, source_id: str, machine: Machine) -> None:
        machine_id = machine.id
        old = self.machines.get(machine_id)
        self.machines[machine_id] = machine
        self._owners["machines"][machine_id] = source_id
        if old is None:
            self.machines_by_node_index.add(machine.node_id, machine_id)
            self.machines_by_state_index.add(machine.state, machine_id)
            self.machines_by_kind_index.add(machine.kind, machine_id)
            self._structure("machines")
        else:
            if old.node_id != machine.node_id:
                self.machines_by_node_index.move(old.node_id, machine.node_id, machine_id)
                self._structure("machines")
            if old.state != machine.state:
                self.machines_by_state_index.move(old.state, machine.state, machine_id)
                self._structure("machines")
                summary = f"{old.state} → {machine.state}"
                if machine.fault_code:
                    summary += f" [{machine.fault_code}]"
                if machine.state_reason:
                    summary += f": {machine.state_reason}"
                self.machine_events.add(machine_id, MachineEvent(time.time(), "state", summary))
            if old.kind != machine.kind:
                self.machines_by_kind_index.move(old.kind, machine.kind, machine_id)
                self._structure("machines")
            if old.job_id != machine.job_id:
                summary = f"job {old.job_id or '—'} → {machine.job_id or '—'}"
                self.machine_events.add(machine_id, MachineEvent(time.time(), "job", summary))
        self._pending.machines.add(machine_id)
        if not self._dirty:
            self._touch()

    def _remove_machine(self, machine_id: str) -> None:
        old = self.machines.pop(machine_id, None)
        if old is None:
            return
        self._owners["machines"].pop(machine_id, None)
        self.machines_by_node_index.discard(old.node_id, machine_id)
        self.machines_by_state_index.discard(old.state, machine_id)
        self.machines_by_kind_index.discard(old.kind, machine_id)
        self.telemetry_history.drop(machine_id)
        self.machine_events.drop(machine_id)
        self._pending.machines.add(machine_id)
        self._structure("machines")
        self._touch()

    def _put_job(self, source_id: str, job: Job) -> None:
        job_id = job.id
        old = self.jobs.get(job_id)
        self.jobs[job_id] = job
        self._owners["jobs"][job_id] = source_id
        if old is None:
            if job.machine_id is not None:
                self.jobs_by_machine_index.add(job.machine_id, job_id)
            if job.node_id is not None:
                self.jobs_by_node_index.add(job.node_id, job_id)
            self._structure("jobs")
        else:
            if old.machine_id != job.machine_id:
                if old.machine_id is not None:
                    self.jobs_by_machine_index.discard(old.machine_id, job_id)
                if job.machine_id is not None:
                    self.jobs_by_machine_index.add(job.machine_id, job_id)
                self._structure("jobs")
            if old.node_id != job.node_id:
                if old.node_id is not None:
                    self.jobs_by_node_index.discard(old.node_id, job_id)
                if job.node_id is not None:
                    self.jobs_by_node_index.add(job.node_id, job_id)
                self._structure("jobs")
        if _is_backlog(job):
            if job_id not in self.backlog_ids:
                self.backlog_ids.add(job_id)
                self._structure("jobs")
        elif job_id in self.backlog_ids:
            self.backlog_ids.discard(job_id)
            self._structure("jobs")
        self._pending.jobs.add(job_id)
        if not self._dirty:
            self._touch()

    def _remove_job(self, job_id: str) -> None:
        old = self.jobs.pop(job_id, None)
        if old is None:
            return
        self._owners["jobs"].pop(job_id, None)
        if old.machine_id is not None:
            self.jobs_by_machine_index.discard(old.machine_id, job_id)
        if old.node_id is not None:
            self.jobs_by_node_index.discard(old.node_id, job_id)
        self.backlog_ids.discard(job_id)
        self._pending.jobs.add(job_id)
        self._structure("jobs")
        self._touch()

    def _put_alert(self, source_id: str, alert: Alert) -> None:
        if alert.state == RESOLVED:
            self._remove_alert(alert.id)
            return
        alert_id = alert.id
        old = self.alerts.get(alert_id)
        self.alerts[alert_id] = alert
        self._owners["alerts"][alert_id] = source_id
        source_key = (alert.source.kind, alert.source.id)
        if old is None:
            self.alerts_by_priority_index.add(alert.priority, alert_id)
            self.alerts_by_source_index.add(source_key, alert_id)
            self._structure("alerts")
            if alert.source.kind == "machine":
                summary = f"{alert.priority} {alert.code}: {alert.message}"
                self.machine_events.add(alert.source.id, MachineEvent(time.time(), "alert", summary[:120]))
        else:
            if old.priority != alert.priority:
                self.alerts_by_priority_index.move(old.priority, alert.priority, alert_id)
                self._structure("alerts")
            old_key = (old.source.kind, old.source.id)
            if old_key != source_key:
                self.alerts_by_source_index.move(old_key, source_key, alert_id)
                self._structure("alerts")
            if old.state != alert.state:
                self._structure("alerts")  # the active list is sorted by state within a priority
        self._pending.alerts.add(alert_id)
        self._touch()

    def _remove_alert(self, alert_id: str) -> None:
        old = self.alerts.pop(alert_id, None)
        if old is None:
            return
        self._owners["alerts"].pop(alert_id, None)
        self.alerts_by_priority_index.discard(old.priority, alert_id)
        self.alerts_by_source_index.discard((old.source.kind, old.source.id), alert_id)
        self._pending.alerts.add(alert_id)
        self._structure("alerts")
        self._touch()

    def _put_quality(self, source_id: str, quality: Quality) -> None:
        key = quality.key
        if key not in self.quality:
            self._structure("quality")
        self.quality[key] = quality
        self._owners["quality"][key] = source_id
        self._pending.quality.add(key)
        self._touch()

    def _remove_quality(self, key: QualityKey) -> None:
        if self.quality.pop(key, None) is not None:
            self._owners["quality"].pop(key, None)
            self._pending.quality.add(key)
            self._structure("quality")
            self._touch()

    # --- queries for screens ----------------------------------------------------------------------------------------

    def machines_by_node(self, node_id: str) -> list[Machine]:
        """A node's machines, by id."""
        machines = self.machines
        return [machines[mid] for mid in sorted(self.machines_by_node_index.get(node_id))]

    def machines_in_state(self, state: str) -> list[Machine]:
        machines = self.machines
        return [machines[mid] for mid in sorted(self.machines_by_state_index.get(state))]

    def machines_of_kind(self, kind: str) -> list[Machine]:
        machines = self.machines
        return [machines[mid] for mid in sorted(self.machines_by_kind_index.get(kind))]

    def jobs_for_machine(self, machine_id: str) -> list[Job]:
        """A machine's jobs in queue order: the running (or paused) one first, then by queue position."""
        jobs = self.jobs
        return sorted((jobs[jid] for jid in self.jobs_by_machine_index.get(machine_id)), key=job_queue_key)

    def jobs_for_node(self, node_id: str) -> list[Job]:
        jobs = self.jobs
        return sorted((jobs[jid] for jid in self.jobs_by_node_index.get(node_id)), key=job_queue_key)

    def backlog(self) -> list[Job]:
        """Unfinished jobs on no machine, most urgent first (priority, then due time)."""
        jobs = self.jobs
        return sorted((jobs[jid] for jid in self.backlog_ids), key=backlog_key)

    def active_alerts(self, *, include_shelved: bool = False) -> list[Alert]:
        """Alerts not resolved (shelved ones only if asked), most urgent first."""
        alerts: Iterable[Alert] = self.alerts.values()
        if not include_shelved:
            alerts = (a for a in alerts if a.state != "shelved")
        return sorted(alerts, key=alert_sort_key)

    def alerts_for(self, kind: str, object_id: str) -> list[Alert]:
        """The unresolved alerts about one object (``kind`` is machine, node, job or cluster), most urgent first."""
        alerts = self.alerts
        return sorted((alerts[aid] for aid in self.alerts_by_source_index.get((kind, object_id))), key=alert_sort_key)

    def alert_counts_by_priority(self) -> dict[str, int]:
        return self.alerts_by_priority_index.counts()

    def counts_by_state(self, node_id: str | None = None) -> dict[str, int]:
        """How many machines are in each state, in the whole cluster or on one node."""
        if node_id is None:
            return self.machines_by_state_index.counts()
        counts: dict[str, int] = {}
        machines = self.machines
        for mid in self.machines_by_node_index.get(node_id):
            state = machines[mid].state
            counts[state] = counts.get(state, 0) + 1
        return counts

    def telemetry_series(self, machine_id: str, name: str) -> list[float]:
        """Recent values of one telemetry name of a machine, oldest first (for a sparkline)."""
        return self.telemetry_history.get(machine_id, name)

    def recent_machine_events(self, machine_id: str) -> list[MachineEvent]:
        """The last notable events of a machine (state and job changes, alerts), oldest first."""
        return self.machine_events.get(machine_id)

    def source_state(self, source_id: str) -> str | None:
        status = self.sources.get(source_id)
        return None if status is None else status.state

    def any_live(self) -> bool:
        return any(s.state == SourceState.LIVE for s in self.sources.values())

    def tables_as_json(self) -> dict[str, Any]:
        """The tables as plain JSON-ready data, sorted by key: for tests and for diagnostics dumps."""

        def dump(table: dict[Any, Any]) -> dict[str, Any]:
            return {
                "/".join(k) if isinstance(k, tuple) else k: v.model_dump(mode="json") for k, v in sorted(table.items())
            }

        return {
            "cluster": None if self.cluster is None else self.cluster.model_dump(mode="json"),
            "nodes": dump(self.nodes),
            "machines": dump(self.machines),
            "jobs": dump(self.jobs),
            "alerts": dump(self.alerts),
            "quality": dump(self.quality),
        }
