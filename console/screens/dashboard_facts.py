"""What the dashboard's panels say, read from the store: the grid's machine source, alert counts per machine and per
node, which machines may be stale, the node strip's nodes, and each side panel's rows and title.

Why apart from the screen: these are reads of the store with rules in them (which node an alert belongs to, when a
panel's figures may be old); the screen only decides when to ask and where to put the answer. Nothing here touches a
widget, so each rule is tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from console.api.models import Alert, Job, Machine, Node
from console.store.views import unordered_active_alerts
from widgets.charset import pick
from widgets.safe_text import clean

if TYPE_CHECKING:
    from console.store.store import Store


@dataclass(eq=False)
class StoreMachines:
    """The machine grid's source (:class:`widgets.machine_source.MachineSource`) over the store: machines, jobs and
    telemetry are read live from the store when a line is drawn; node names, alert counts and stale flags are worked
    out by the screen, which repaints the machines whose facts it changed."""

    store: Store
    node_names: dict[str, str] = field(default_factory=dict)
    alert_counts: dict[str, int] = field(default_factory=dict)
    stale_ids: set[str] = field(default_factory=set)
    stale: bool = False

    @property
    def machines(self) -> Mapping[str, Machine]:
        return self.store.machines

    @property
    def jobs(self) -> Mapping[str, Job]:
        return self.store.jobs

    def telemetry(self, machine: Machine) -> Mapping[str, float]:
        """Current values: the store keeps telemetry apart from the machine objects."""
        return self.store.machine_telemetry(machine.id)


def grid_source(store: Store) -> StoreMachines:
    """A fresh grid source: node names, active alerts per machine and stale machines as they are now."""
    return StoreMachines(
        store,
        node_names={n.id: n.name for n in store.nodes.values()},
        alert_counts=alert_counts(store),
        stale_ids=stale_machine_ids(store),
    )


def alert_counts(store: Store) -> dict[str, int]:
    """Active alerts per machine (the tiles' badge)."""
    counts: dict[str, int] = {}
    for alert in unordered_active_alerts(store):  # counted: no need to sort
        if alert.source.kind == "machine":
            counts[alert.source.id] = counts.get(alert.source.id, 0) + 1
    return counts


def _stale_nodes(store: Store) -> set[str]:
    """Nodes served by a source that is not live: what is shown of them may be old."""
    return {
        node_id
        for node_id in store.nodes
        if (source := store.node_source(node_id)) is not None and store.source_state(source) != "live"
    }


def stale_machine_ids(store: Store) -> set[str]:
    """Machines whose node is served by a source that is not live (their values may be old)."""
    stale_nodes = _stale_nodes(store)
    if not stale_nodes:
        return set()
    return {m.id for node_id in stale_nodes for m in store.machines_by_node(node_id)}


def alert_node(store: Store, alert: Alert) -> str | None:
    """The node an alert is about: its source node, or the node of its machine or job."""
    kind, ident = alert.source.kind, alert.source.id
    if kind == "node":
        return ident
    if kind == "machine":
        machine = store.machines.get(ident)
        return machine.node_id if machine else None
    if kind == "job":
        job = store.jobs.get(ident)
        return job.node_id if job else None
    return None


@dataclass(frozen=True)
class StripFacts:
    """What the node strip shows: nodes by name (a node whose source is not live is in state ``stale``), machines
    per state per node, and active alerts per node."""

    nodes: list[Node]
    counts: dict[str, dict[str, int]]
    alerts: dict[str, int]

    @property
    def signature(self) -> object:
        """Equal when the strip would show the same: it repaints only when this changes."""
        return ([(n.id, n.name, n.state) for n in self.nodes], self.counts, self.alerts)


def strip_facts(store: Store) -> StripFacts:
    alerts_by_node: dict[str, int] = {}
    for alert in unordered_active_alerts(store):  # counted: no need to sort
        node_id = alert_node(store, alert)
        if node_id:
            alerts_by_node[node_id] = alerts_by_node.get(node_id, 0) + 1
    stale = _stale_nodes(store)
    # A node whose source is not live shows the word "stale" instead of a state that may no longer be true.
    nodes = [
        n.model_copy(update={"state": "stale"}) if n.id in stale else n
        for n in sorted(store.nodes.values(), key=lambda n: n.name)
    ]
    return StripFacts(nodes, {n.id: store.counts_by_state(n.id) for n in nodes}, alerts_by_node)


def stale_note(store: Store, node_ids: Iterable[str] = (), *, cluster_wide: bool = False) -> str:
    """A word for a panel's title when what it shows may be old: the sources that serve its nodes (each node is
    served by the cluster API while it is live, else by a live agent of the node) and, for what only the cluster
    API knows (the backlog), the cluster-kind sources, that are not live. A panel kept current by agents while the
    cluster API is down is not stale."""
    down: dict[str, None] = {}
    for node_id in node_ids:
        source = store.node_source(node_id)
        if source is not None and store.source_state(source) != "live":
            down[source] = None
    if cluster_wide:
        for source_id, status in store.sources.items():
            if status.kind == "cluster" and store.source_state(source_id) != "live":
                down[source_id] = None
    if not down:
        return ""
    return f"  {pick('·', '-')} STALE ({', '.join(clean(s, 20) for s in down)} not live)"


def queue_panel(store: Store, machine_id: str | None, node_id: str | None) -> tuple[str, list[Job]]:
    """The side queue's title and jobs: the cursor machine's queue, else the selected node's, else the backlog."""
    machine = store.machines.get(machine_id) if machine_id is not None else None
    if machine_id is not None:
        jobs = store.jobs_for_machine(machine_id)
        name = f"{clean(machine_id, 30)} {clean(machine.name, 30)}" if machine is not None else clean(machine_id, 30)
        title = f"Queue of {name} ({len(jobs)})" + stale_note(store, [machine.node_id] if machine else [])
    elif node_id is not None:
        jobs = store.jobs_for_node(node_id)
        node = store.nodes.get(node_id)
        name = f"{clean(node.name, 30)} ({clean(node_id, 20)})" if node is not None else clean(node_id, 30)
        title = f"Queue of {name}: {len(jobs)}" + stale_note(store, [node_id])
    else:
        jobs = store.backlog()
        title = f"Cluster backlog ({len(jobs)})" + stale_note(store, cluster_wide=True)
    return title, jobs


def alerts_stale_note(store: Store, alerts: Iterable[Alert]) -> str:
    """The active alerts panel's stale word: the sources serving the nodes its alerts are about."""
    nodes = {node_id for alert in alerts if (node_id := alert_node(store, alert)) is not None}
    return stale_note(store, nodes)


def queue_touched(
    store: Store, job_ids: set[str], shown: set[str], machine_id: str | None, node_id: str | None
) -> bool:
    """Does the queue panel show (``shown``), or should it now show, any of these jobs?"""
    if shown & job_ids:
        return True
    for job_id in job_ids:
        job = store.jobs.get(job_id)
        if job is None:
            continue
        if machine_id is not None:
            if job.machine_id == machine_id:
                return True
        elif node_id is not None:
            if job.node_id == node_id:
                return True
        elif job.node_id is None:
            return True
    return False


def job_to_reroute(store: Store, machine_id: str | None) -> str | None:
    """``r`` on a machine: its running job, else the first job in its queue."""
    machine = store.machines.get(machine_id or "")
    if machine is None:
        return None
    if machine.job_id is not None:
        return machine.job_id
    queued = store.jobs_for_machine(machine.id)
    return queued[0].id if queued else None
