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

Telemetry is the one exception to "never mutated" (see :mod:`console.store.ingest` for why): a machine's current
values live in its source's replica and ``machine.telemetry`` updates them in place. A stored ``Machine``'s own
``telemetry`` field is therefore what its last snapshot or ``machine.updated`` said; read current values with
:meth:`Store.machine_telemetry` (the grid and the machine detail do); :meth:`Store.current_machine` and
:meth:`Store.tables_as_json` merge them back.

How the work is split (one job per module; each is free functions whose first argument is the store):

* :mod:`console.store.changes`: the pending change set, the dirty flag and the listeners;
* :mod:`console.store.tables`: the table writers, which keep the indexes, owners and change set right;
* :mod:`console.store.merge`: which replica each shown object comes from, re-decided when that may change;
* :mod:`console.store.serving`: which source serves a node, or should carry a command (reads only);
* :mod:`console.store.registry`: the sources' statuses, connection logs, malformed events and ``whoami``;
* :mod:`console.store.ingest`: snapshots and events (the hot path);
* :mod:`console.store.views`: the read views the screens ask for;
* :mod:`console.store.journal`: the alert journal, a row per transition of each alert (fed by the ingest);
* :mod:`console.store.timeline`: what happened to each machine, node and job (fed by the table writers).

This module holds the state (every attribute, declared in :meth:`Store.__init__`) and binds those functions as the
store's methods. Why bind rather than wrap: ``Store.apply_events = ingest.apply_events`` makes the method *be* the
module's function, so a call costs what it did when the code lived here, with no delegating layer on the hot path,
and subclasses still override and ``super()`` them as ordinary methods. Why free functions and not mixins: each
module can be read and tested on its own, and the state they share is in one place, here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from console.api.models import Alert, AuditEntry, Cluster, Job, Machine, Node, Quality, WhoAmI
from console.api.wire import utc_now
from console.store import audit_page, changes, ingest, preview, registry, serving, taps, views
from console.store.changes import ChangeSet, Listener
from console.store.history import MachineEvents, TelemetryHistory
from console.store.indexes import GroupIndex
from console.store.ingest import BIG_SNAPSHOT
from console.store.journal import DEFAULT_CAPACITY as JOURNAL_CAPACITY
from console.store.journal import AlertJournal
from console.store.merge import NodeSelections
from console.store.preview import Loading
from console.store.replicas import Replica
from console.store.status import SourceStatus
from console.store.tables import RESOLVED, QualityKey
from console.store.taps import StoreTap
from console.store.timeline import PER_SUBJECT as TIMELINE_PER_SUBJECT
from console.store.timeline import TOTAL as TIMELINE_TOTAL
from console.store.timeline import Timeline
from console.store.views import alert_sort_key, backlog_key, job_queue_key

__all__ = [
    "BIG_SNAPSHOT",
    "RESOLVED",
    "Listener",
    "QualityKey",
    "Store",
    "alert_sort_key",
    "backlog_key",
    "job_queue_key",
]


class Store:
    """Tables, indexes, per-source state and change sets. See the module docstring."""

    def __init__(
        self,
        *,
        audit_limit: int = 500,
        history_len: int = 60,
        machine_events_len: int = 20,
        journal_limit: int = JOURNAL_CAPACITY,
        timeline_per_subject: int = TIMELINE_PER_SUBJECT,
        timeline_limit: int = TIMELINE_TOTAL,
    ) -> None:
        self.clock: Callable[[], datetime] = utc_now
        """When the store stamps what it hears (connection log, malformed events, machine events): the session
        sets the server's clock, so every time the console shows is on one clock."""
        # --- the merged view: what the screens read ---
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
        self.previews: dict[str, Loading] = {}
        """Sources showing a preview while their first snapshot loads, and how much (:mod:`console.store.preview`)."""

        # --- indexes, kept by the table writers (console.store.tables) ---
        self.machines_by_node_index: GroupIndex[str] = GroupIndex()
        self.machines_by_state_index: GroupIndex[str] = GroupIndex()
        self.machines_by_kind_index: GroupIndex[str] = GroupIndex()
        self._node_state_counts: dict[str, dict[str, int]] = {}
        """Machines per state per node (``counts_by_state``): the node strip and the nodes list ask for every node."""
        self.jobs_by_machine_index: GroupIndex[str] = GroupIndex()
        self.jobs_by_node_index: GroupIndex[str] = GroupIndex()
        self.backlog_ids: set[str] = set()
        self.alerts_by_priority_index: GroupIndex[str] = GroupIndex()
        self.alerts_by_source_index: GroupIndex[tuple[str, str]] = GroupIndex()

        self.telemetry_history = TelemetryHistory(history_len)
        self.machine_events = MachineEvents(machine_events_len)
        self.journal = AlertJournal(journal_limit)
        """Every transition of every alert, resolved ones included (:mod:`console.store.journal`)."""
        self.timeline = Timeline(timeline_per_subject, timeline_limit)
        """What happened to each machine, node and job (:mod:`console.store.timeline`), fed by the table writers."""

        # --- the merge's state (console.store.merge) ---
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
        """The replicas sorted by registration order; changed in place only (``_selections`` holds it)."""
        self._order: dict[str, int] = {}
        self._selections = NodeSelections(self._replica_list)
        self._alert_refs: dict[tuple[str, str], set[str]] = {}
        """Alert ids by what they are about, over all replicas: an alert's node follows its machine's or job's."""
        self._whoami_by_source: dict[str | None, WhoAmI] = {}
        self._audit_ids: set[str] = set()

        # --- change notices (console.store.changes) ---
        self._pending = ChangeSet()
        self._dirty = False
        self._listeners: list[Listener] = []
        self.taps: list[StoreTap] = []
        """Observers of what enters the store (:meth:`add_tap`, :mod:`console.store.taps`; the recorder is one)."""

    # --- change notices ---------------------------------------------------------------------------------------------

    add_listener = changes.add_listener
    take_changes = changes.take_changes

    @property
    def dirty(self) -> bool:
        return self._dirty

    # --- sources ----------------------------------------------------------------------------------------------------

    register_source = registry.register_source
    log_source = registry.log_source
    set_source_state = registry.set_source_state
    record_malformed = registry.record_malformed
    set_whoami = registry.set_whoami
    whoami_of = registry.whoami_of
    forget_source = registry.forget_source

    # --- who serves what --------------------------------------------------------------------------------------------

    node_source = serving.node_source
    node_sources = serving.node_sources
    disagreements = serving.disagreements
    command_source = serving.command_source
    replica = serving.replica
    owner = serving.owner

    # --- ingest -----------------------------------------------------------------------------------------------------

    apply_snapshot = ingest.apply_snapshot
    apply_event = ingest.apply_event
    apply_events = ingest.apply_events
    apply_preview = preview.apply_preview
    merge_audit = audit_page.merge_audit
    end_preview = preview.end_preview

    # --- taps (observers of the inputs) and starting again ------------------------------------------------------

    add_tap = taps.add_tap
    remove_tap = taps.remove_tap
    clear = taps.clear

    # --- queries for screens ----------------------------------------------------------------------------------------

    machines_by_node = views.machines_by_node
    machines_in_state = views.machines_in_state
    machines_of_kind = views.machines_of_kind
    jobs_for_machine = views.jobs_for_machine
    jobs_for_node = views.jobs_for_node
    backlog = views.backlog
    active_alerts = views.active_alerts
    alerts_for = views.alerts_for
    alert_counts_by_priority = views.alert_counts_by_priority
    counts_by_state = views.counts_by_state
    machine_telemetry = views.machine_telemetry
    current_machine = views.current_machine
    telemetry_series = views.telemetry_series
    recent_machine_events = views.recent_machine_events
    source_state = views.source_state
    any_live = views.any_live
    tables_as_json = views.tables_as_json
