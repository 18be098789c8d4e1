"""The one in-memory picture of the cluster: tables of contract objects, kept in ``seq`` order, with indexes.

Sources call :meth:`Store.apply_snapshot` and :meth:`Store.apply_events` (a read of the stream at a time; or
:meth:`Store.apply_event` one by one); screens read the tables and the helper
queries, and call :meth:`Store.take_changes` to learn what to repaint. Everything runs on the app's asyncio loop, so
there is no locking. The store knows nothing about HTTP: it only sees models and ``seq`` numbers.

Several sources at once (the cluster API, node agents, OctoPrint printers): each keeps its own ``seq`` and
``instance_id`` (:class:`SourceStatus`) and its own :class:`~console.store.replicas.Replica` of what it said. The
public tables are the *merge* of the replicas, decided per node and per object by the rule in
:mod:`console.store.replicas` (the cluster while it is live, else the node's live agent, else the freshest; newest
``last_seen`` between live sources). The merge is re-decided for an object when a replica changes it, and for every
object when a source's liveness changes or it takes a snapshot; screens see ordinary change sets either way.
:meth:`Store.node_source` names the source serving a node, :meth:`Store.owner` the source an object is shown from,
:meth:`Store.command_source` the one that should carry a command.

Objects in the tables are never mutated: every change stores a new object (so a screen holding one sees a consistent
value, and an identity check tells it whether anything changed). The store relies on it to save memory: objects are
:func:`~console.store.compact.compact`-ed as they enter (snapshot or event), which gives all objects of one shape one
shared, read-only pydantic fields set and interns repeated strings; setting an attribute on a stored model raises
``TypeError`` (use ``model_copy(update=...)``, which still works, and store the copy). Jobs, quality records and SPC
series are lean records (``console.api.lean``), frozen by their type.

The ingest path is lean on purpose (the target is 100,000 telemetry events a second, parsing included, on one core).
Telemetry is the one exception to "never mutated": a machine's current values live in its source's replica
(``Replica.telemetry``), a plain dict of floats per machine that ``machine.telemetry`` updates in place, appending to
a compact history and tracking the change with a set ``add`` and a flag check. No new ``Machine`` per telemetry event
(that copy, and the garbage collector's walks over the long-lived copies, were most of an event's cost). A stored
``Machine``'s own ``telemetry`` field is therefore what its last snapshot or ``machine.updated`` said; read current
values with :meth:`Store.machine_telemetry` (the grid and the machine detail do); :meth:`Store.current_machine` and
:meth:`Store.tables_as_json` merge them back.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
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
from console.store.compact import compact, release_free_memory
from console.store.history import MachineEvent, MachineEvents, TelemetryHistory
from console.store.indexes import GroupIndex
from console.store.replicas import (
    TABLES,
    Disagreement,
    NodeSource,
    Replica,
    Selection,
    differing_fields,
    merged_cluster,
    node_of,
    select,
    winner,
)
from console.store.status import LogLine, MalformedRecord, SourceState, SourceStatus

__all__ = ["Store"]

log = logging.getLogger(__name__)

QualityKey = tuple[str, str]
Listener = Callable[[], None]

RESOLVED = "resolved"
_ALERT_STATE_RANK = {"active_unacked": 0, "cleared_unacked": 1, "active_acked": 2, "shelved": 3}
_ACTIVE_JOB = frozenset({"running", "paused"})
BIG_SNAPSHOT = 10_000
"""Objects in a snapshot above which the store returns freed memory to the OS after applying it."""


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

        # Which source each shown object comes from, per table.
        self._owners: dict[str, dict[Any, str]] = {
            "nodes": {},
            "machines": {},
            "jobs": {},
            "alerts": {},
            "quality": {},
        }
        self._machine_owners = self._owners["machines"]
        # Each source's own view, in registration order (the merge's last tie-break).
        self._replicas: dict[str, Replica] = {}
        self._replica_list: list[Replica] = []
        self._order: dict[str, int] = {}
        self._selections: dict[str, Selection | None] = {}
        """Cached node selections; every node some replica object is tied to is here (see ``_selection_changed``)."""
        self._alert_refs: dict[tuple[str, str], set[str]] = {}
        """Alert ids by what they are about, over all replicas: an alert's node follows its machine's or job's."""
        self._whoami_by_source: dict[str | None, WhoAmI] = {}
        self._audit_ids: set[str] = set()
        self._pending = ChangeSet()
        self._dirty = False
        self._listeners: list[Listener] = []
        self._writers: dict[str, tuple[Callable[[str, Any], None], Callable[[Any], None]]] = {
            "nodes": (self._put_node, self._remove_node),
            "machines": (self._put_machine, self._remove_machine),
            "jobs": (self._put_job, self._remove_job),
            "alerts": (self._put_alert, self._remove_alert),
            "quality": (self._put_quality, self._remove_quality),
        }
        self._handlers: dict[str, Callable[[str, Any], None]] = {
            EventType.MACHINE_TELEMETRY: self._on_telemetry,
            EventType.MACHINE_UPDATED: self._on_machine,
            EventType.JOB_UPDATED: self._on_job,
            EventType.JOB_REMOVED: self._on_job_removed,
            EventType.NODE_UPDATED: self._on_node,
            EventType.ALERT_RAISED: self._on_alert,
            EventType.ALERT_UPDATED: self._on_alert,
            EventType.QUALITY_UPDATED: self._on_quality,
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
            self._order.setdefault(source_id, len(self._order))
        else:
            status.kind, status.url = kind, url
            replica = self._replicas.get(source_id)
            if replica is not None and replica.kind != kind:
                replica.kind = kind
                self._remerge()
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
        replica = self._replicas.get(source_id)
        live = state == SourceState.LIVE
        if replica is not None and replica.live != live:
            replica.live = live
            self._remerge()

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

    def set_whoami(self, whoami: WhoAmI | None, source_id: str | None = None) -> None:
        """Who we are at a source. Shown: the one set without a source, else a cluster source's, else an agent's."""
        if whoami is None:
            self._whoami_by_source.pop(source_id, None)
        else:
            self._whoami_by_source[source_id] = whoami
        self.whoami = self._merged_whoami()
        self._pending.whoami = True
        self._touch()

    def _merged_whoami(self) -> WhoAmI | None:
        by_source = self._whoami_by_source
        if None in by_source:
            return by_source[None]
        rank = {"cluster": 0, "agent": 1}
        best: tuple[tuple[int, int], WhoAmI] | None = None
        for source_id, whoami in by_source.items():
            status = self.sources.get(source_id or "")
            key = (rank.get(status.kind, 2) if status else 3, self._order.get(source_id or "", 1 << 30))
            if best is None or key < best[0]:
                best = (key, whoami)
        return None if best is None else best[1]

    def node_source(self, node_id: str) -> str | None:
        """The source serving this node: its cluster source while live, else its live agent, else the freshest."""
        selection = select(node_id, self._replica_list)
        if selection is not None:
            return selection.primary
        return self._owners["nodes"].get(node_id)

    def node_sources(self, node_id: str) -> list[NodeSource]:
        """Every source that holds this node, in registration order, with its state and how old its data is."""
        primary = self.node_source(node_id)
        now = time.monotonic()
        found = []
        for replica in self._replica_list:
            node = replica.nodes.get(node_id)
            if node is None:
                continue
            status = self.sources.get(replica.source_id)
            found.append(
                NodeSource(
                    replica.source_id,
                    status.state if status else "unknown",
                    status.seconds_since_event(now) if status else None,
                    node.last_seen,
                    replica.kind,
                    replica.source_id == primary,
                )
            )
        return found

    def disagreements(self, node_id: str) -> list[Disagreement]:
        """Objects of this node that live sources hold in different versions (computed now: for the node detail).

        The merged view shows the newest ``last_seen`` (nodes, machines) or the serving source's version (jobs,
        alerts); this says where the sources differ and what each one's ``last_seen`` is.
        """
        live = [r for r in self._replica_list if r.live and node_id in r.nodes]
        if len(live) < 2:
            return []
        found: list[Disagreement] = []
        for table, kind in (("nodes", "node"), ("machines", "machine"), ("jobs", "job"), ("alerts", "alert")):
            versions: dict[Any, dict[str, Any]] = {}
            for replica in live:
                for key, obj in replica.table(table).items():
                    if node_of(replica, table, obj) == node_id:
                        versions.setdefault(key, {})[replica.source_id] = obj
            for key in sorted(versions):
                by_source = versions[key]
                if len(by_source) < 2:
                    continue
                objs = list(by_source.values())
                fields = sorted({name for other in objs[1:] for name in differing_fields(objs[0], other)})
                if fields:
                    found.append(Disagreement(kind, key, fields, {sid: _stamp(o) for sid, o in by_source.items()}))
        return found

    def command_source(self, kind: str, target_id: str) -> str | None:
        """The source that should carry a command on this target (``machine``, ``node``, ``job``, ``alert``): the
        source serving the target's node when it is live (the cluster while live, else the node's live agent); for a
        target tied to no node, a live source holding it (a cluster source first). ``None`` when none is live."""
        table = _TABLE_OF_KIND.get(kind)
        if table is None:
            return None
        owner = self._owners[table].get(target_id)
        if owner is None:
            return None
        replica = self._replicas.get(owner)
        obj = getattr(self, table)[target_id]
        node_id = None if replica is None or replica.kind == "octoprint" else node_of(replica, table, obj)
        selection = None if node_id is None else select(node_id, self._replica_list)
        if selection is not None:
            if not selection.live:
                return None
            if target_id in self._replicas[selection.primary].table(table):
                return selection.primary
        holders = [r for r in self._replica_list if r.live and target_id in r.table(table)]
        if not holders:
            return None
        if replica is not None and replica in holders:
            return owner
        holders.sort(key=lambda r: r.kind != "cluster")
        return holders[0].source_id

    def replica(self, source_id: str) -> Replica | None:
        """A source's own view (read it, never change it): for diagnostics and tests."""
        return self._replicas.get(source_id)

    def owner(self, table: str, object_id: Any) -> str | None:
        """The source that last wrote an object of a table (``nodes``, ``machines``, ``jobs``, ``alerts``,
        ``quality``)."""
        return self._owners[table].get(object_id)

    # --- snapshot ---------------------------------------------------------------------------------------------------

    def apply_snapshot(self, source_id: str, snapshot: Snapshot) -> None:
        """Replace this source's replica with a snapshot and take its ``seq`` and ``instance_id``.

        The merged view then follows: objects only this source showed and the snapshot lacks are removed; objects
        equal to the ones shown are not reported as changed.
        """
        status = self._source(source_id)
        size = 0
        for objects in (snapshot.nodes, snapshot.machines, snapshot.jobs, snapshot.alerts, snapshot.quality):
            size += len(objects)
            for obj in objects:
                compact(obj)
        replica = self._replicas.get(source_id)
        if replica is None:
            replica = Replica(source_id, self._order[source_id], status.kind, status.state == SourceState.LIVE)
            self._replicas[source_id] = replica
            self._replica_list.append(replica)
            self._replica_list.sort(key=lambda r: r.order)
        replica.cluster = snapshot.cluster
        replica.nodes = {n.id: n for n in snapshot.nodes}
        replica.machines = {m.id: m for m in snapshot.machines}
        replica.telemetry = {m.id: dict(m.telemetry) for m in snapshot.machines}
        replica.jobs = {j.id: j for j in snapshot.jobs}
        replica.alerts = {a.id: a for a in snapshot.alerts if a.state != RESOLVED}
        replica.quality = {q.key: q for q in snapshot.quality}
        if len(self._replica_list) == 1:
            # One source: the merged view is its replica (the fast path, as before there were several).
            for table in TABLES:
                put, remove = self._writers[table]
                self._replace(table, source_id, replica.table(table), put, remove)
        else:
            self._reselect_all()
        self._refresh_cluster()
        status.seq = snapshot.seq
        status.instance_id = snapshot.cluster.instance_id
        status.snapshots_total += 1
        self._pending.sources.add(source_id)
        self._touch()
        if size >= BIG_SNAPSHOT:
            release_free_memory()

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
            held = current.get(oid)
            if held is not None and held == obj:
                current[oid] = obj  # the replica's own object: the telemetry path relies on that
                owners[oid] = source_id
            else:
                put(source_id, obj)

    def forget_source(self, source_id: str) -> None:
        """Remove a source and its replica; what it alone showed goes, what others hold is shown from them."""
        replica = self._replicas.pop(source_id, None)
        if replica is not None:
            self._replica_list.remove(replica)
            self._reselect_all()
        if self._whoami_by_source.pop(source_id, None) is not None:
            self._refresh_whoami()
        if self.sources.pop(source_id, None) is not None:
            self._pending.sources.add(source_id)
        self._touch()

    # --- the merge ----------------------------------------------------------------------------------------------------

    def _selection_of(self, node_id: str) -> Selection | None:
        selections = self._selections
        if node_id in selections:
            return selections[node_id]
        selection = selections[node_id] = select(node_id, self._replica_list)
        return selection

    def _selection_changed(self, node_id: str) -> bool:
        """Whether a node's selection moved. A node not in the cache has no object tied to it: nothing to redo."""
        if node_id not in self._selections:
            return False
        return select(node_id, self._replica_list) != self._selections[node_id]

    def _resolve(self, table: str, key: Any) -> None:
        """Show the winning version of one object (or none), reporting a change only when what is shown changes."""
        found = winner(table, key, self._replica_list, self._selection_of)
        current: dict[Any, Any] = getattr(self, table)
        put, remove = self._writers[table]
        if found is None:
            if key in current:
                remove(key)
            return
        replica, obj = found
        held = current.get(key)
        if held is not None and (held is obj or held == obj):
            current[key] = obj
            self._owners[table][key] = replica.source_id
            return
        put(replica.source_id, obj)

    def _resolve_refs(self, kind: str, ref: str) -> None:
        """An object's node moved in a replica: alerts (and quality) about it follow it."""
        refs = self._alert_refs.get((kind, ref))
        if refs:
            for alert_id in list(refs):
                self._resolve("alerts", alert_id)
        if kind == "machine":
            self._resolve("quality", ("machine", ref))

    def _remerge(self) -> None:
        """A source's liveness or kind changed: with several sources, decide everything again."""
        if len(self._replica_list) > 1:
            self._reselect_all()
        else:
            self._refresh_cluster()
            self._refresh_whoami()

    def _reselect_all(self) -> None:
        """Decide every object again (a source's liveness changed, or a snapshot came, with several sources)."""
        self._selections.clear()
        refs: dict[tuple[str, str], set[str]] = {}
        for replica in self._replica_list:
            for alert in replica.alerts.values():
                refs.setdefault((alert.source.kind, alert.source.id), set()).add(alert.id)
        self._alert_refs = refs
        for table in TABLES:
            keys = set(getattr(self, table))
            for replica in self._replica_list:
                keys.update(replica.table(table))
            for key in keys:
                self._resolve(table, key)
        self._refresh_cluster()
        self._refresh_whoami()

    def _refresh_whoami(self) -> None:
        whoami = self._merged_whoami()
        if whoami != self.whoami:
            self.whoami = whoami
            self._pending.whoami = True
            self._touch()

    def _refresh_cluster(self) -> None:
        cluster = merged_cluster(self._replica_list)
        if cluster is not None and cluster != self.cluster:
            self.cluster = cluster
            self._pending.cluster = True
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

    def apply_events(self, source_id: str, items: list[Any], start: int = 0) -> int:
        """Apply the events of one read of a stream, from ``items[start]`` on, while each is simply the next one.

        Returns the index of the first item not taken: the end, or an item that needs its source's judgement (not
        an :class:`Event`, not the next ``seq``, or a ``cluster.updated``, which may mean a new server instance).
        The source hands that one to :meth:`apply_event` & co and calls again after it. Why a batch: a read of the
        stream brings a few hundred events at a time, and per event this saves the calls and the clock reads that
        :meth:`apply_event` makes (the source's status is updated once per batch).
        """
        status = self.sources.get(source_id)
        end = len(items)
        if status is None or status.seq is None or start >= end:
            return start
        handlers = self._handlers
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
                    handler(source_id, data)
        finally:
            if i > start:
                status.note_events(i - start, time.monotonic())
        return i

    def _on_telemetry(self, source_id: str, telemetry: MachineTelemetry) -> None:
        machine_id = telemetry.machine_id
        current = self._replicas[source_id].telemetry.get(machine_id)
        if current is None:
            return  # a machine this source never showed
        values = telemetry.values
        current.update(values)  # the one in-place update in the store (see the module docstring)
        if self._machine_owners.get(machine_id) != source_id:
            return  # shown from another source (telemetry moves neither last_seen nor the node: still not ours)
        self.telemetry_history.add(machine_id, values)
        self._pending.telemetry_only.add(machine_id)
        if not self._dirty:
            self._touch()

    def _on_machine(self, source_id: str, machine: Machine) -> None:
        compact(machine)
        replica = self._replicas[source_id]
        held = replica.machines
        old = held.get(machine.id)
        held[machine.id] = machine
        replica.telemetry[machine.id] = dict(machine.telemetry)  # its values now; later telemetry merges in
        if len(self._replica_list) == 1:
            self._put_machine(source_id, machine)
            return
        self._resolve("machines", machine.id)
        if old is None or old.node_id != machine.node_id:
            self._resolve_refs("machine", machine.id)

    def _on_node(self, source_id: str, node: Node) -> None:
        compact(node)
        held = self._replicas[source_id].nodes
        old = held.get(node.id)
        held[node.id] = node
        if len(self._replica_list) == 1:
            self._put_node(source_id, node)
            return
        if (old is None or old.last_seen != node.last_seen) and self._selection_changed(node.id):
            self._reselect_all()
        else:
            self._resolve("nodes", node.id)

    def _on_job(self, source_id: str, job: Job) -> None:
        compact(job)
        held = self._replicas[source_id].jobs
        old = held.get(job.id)
        held[job.id] = job
        if len(self._replica_list) == 1:
            self._put_job(source_id, job)
            return
        self._resolve("jobs", job.id)
        if old is None or old.node_id != job.node_id:
            self._resolve_refs("job", job.id)

    def _on_job_removed(self, source_id: str, removed: JobRemoved) -> None:
        old = self._replicas[source_id].jobs.pop(removed.id, None)
        if len(self._replica_list) == 1:
            self._remove_job(removed.id)
        elif old is not None:
            self._resolve("jobs", removed.id)
            self._resolve_refs("job", removed.id)

    def _on_alert(self, source_id: str, alert: Alert) -> None:
        compact(alert)
        held = self._replicas[source_id].alerts
        alert_id = alert.id
        if alert.state == RESOLVED:
            old = held.pop(alert_id, None)
        else:
            old = held.get(alert_id)
            held[alert_id] = alert
        if len(self._replica_list) == 1:
            self._put_alert(source_id, alert)
            return
        refs = self._alert_refs
        if alert.state != RESOLVED:
            refs.setdefault((alert.source.kind, alert.source.id), set()).add(alert_id)
        elif old is not None and not any(alert_id in r.alerts for r in self._replica_list):
            key = (old.source.kind, old.source.id)
            group = refs.get(key)
            if group is not None:
                group.discard(alert_id)
                if not group:
                    del refs[key]
        self._resolve("alerts", alert_id)

    def _on_quality(self, source_id: str, quality: Quality) -> None:
        compact(quality)
        self._replicas[source_id].quality[quality.key] = quality
        if len(self._replica_list) == 1:
            self._put_quality(source_id, quality)
            return
        self._resolve("quality", quality.key)

    def _on_cluster(self, source_id: str, cluster: Cluster) -> None:
        self._replicas[source_id].cluster = cluster
        self._refresh_cluster()

    def _on_audit(self, source_id: str, entry: AuditEntry) -> None:
        # The cluster and a node's agent may both report one command: keep it once.
        ids = self._audit_ids
        if entry.id in ids:
            return
        audit = self.audit
        if audit.maxlen is not None and len(audit) == audit.maxlen:
            ids.discard(audit[0].id)
        audit.append(entry)
        ids.add(entry.id)
        self._pending.audit.add(entry.id)
        if not self._dirty:
            self._touch()

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

    def machine_telemetry(self, machine_id: str) -> Mapping[str, float]:
        """A machine's current telemetry values, from the source that shows it (empty if none).

        Read-only, and live: the store updates it in place as telemetry arrives (copy it to keep a moment's values).
        """
        owner = self._machine_owners.get(machine_id)
        replica = None if owner is None else self._replicas.get(owner)
        if replica is not None:
            values = replica.telemetry.get(machine_id)
            if values is not None:
                return values
        machine = self.machines.get(machine_id)
        return {} if machine is None else machine.telemetry

    def current_machine(self, machine_id: str) -> Machine | None:
        """The machine shown, with its current telemetry values (a copy when they moved since its last update)."""
        machine = self.machines.get(machine_id)
        if machine is None:
            return None
        values = self.machine_telemetry(machine_id)
        return machine if values == machine.telemetry else machine.model_copy(update={"telemetry": dict(values)})

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

        machines = {machine_id: self.current_machine(machine_id) for machine_id in self.machines}

        return {
            "cluster": None if self.cluster is None else self.cluster.model_dump(mode="json"),
            "nodes": dump(self.nodes),
            "machines": dump(machines),
            "jobs": dump(self.jobs),
            "alerts": dump(self.alerts),
            "quality": dump(self.quality),
        }


_CLUSTER_UPDATED = str(EventType.CLUSTER_UPDATED)

_TABLE_OF_KIND = {"machine": "machines", "node": "nodes", "job": "jobs", "alert": "alerts"}


def _stamp(obj: Any) -> datetime | None:
    """How new a version is, for a disagreement: ``last_seen``, an alert's ``updated_at``, else unknown."""
    return getattr(obj, "last_seen", None) or getattr(obj, "updated_at", None)
