"""Per-source replicas and the rule that merges them into the one view the screens read (pure: no change tracking).

Several sources may describe the same node: the cluster API, the node's own agent ("a cluster of one", same object
ids, its own ``seq``), and OctoPrint printers that share one synthetic node. Each source keeps its own
:class:`Replica`; the store's public tables are the merge, decided per object by :func:`winner` from the replicas and
the sources' liveness alone, so the merged view never depends on the order in which sources happened to write.

The rule, per node (:func:`select`):

* the sources *holding* the node are those whose replica has the node object (OctoPrint sources aside: each owns
  what it holds, and their objects are always shown);
* if any of them is live: the *chosen* ones are the live cluster sources, else the live agents, else the live others
  (OctoPrint); every live holder is *eligible* for the node object and its machines;
* if none is live: the holders whose node object has the newest ``last_seen`` (all stale; the screens say so);
* the *primary* (``Store.node_source``) is the chosen source with the newest node ``last_seen``, then the first
  registered.

Per object: the node object and machines come from an eligible source, the newest ``last_seen`` winning (ties: the
primary, then a chosen source, then a live one, then the first registered); jobs, alerts and quality come from a
chosen source (the primary first). Objects tied to no node (the backlog, cluster-scope alerts and quality, or a
reference a replica cannot resolve) come from a cluster source while one has them, else from any source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from console.api.models import Alert, Cluster, Job, Machine, Node, Quality
from console.store.clusters import SEVERAL_ID

__all__ = [
    "NODE_TABLES",
    "TABLES",
    "Disagreement",
    "NodeSource",
    "Replica",
    "Selection",
    "node_of",
    "select",
    "winner",
]

TABLES = ("nodes", "machines", "jobs", "alerts", "quality")
NODE_TABLES = frozenset({"nodes", "machines"})
"""Tables whose objects carry ``last_seen``: between eligible sources the newest wins."""

CLUSTER = "cluster"
AGENT = "agent"
INDEPENDENT_KINDS = frozenset({"octoprint", "opcua", "moonraker"})
"""Sources that own what they hold alone (OctoPrint and Moonraker printers: each its machine, sharing one synthetic
node object; OPC UA servers: their machines, on a node of their own or one a cluster serves): they take no part in a
node's selection, and their objects are always shown."""


@dataclass(slots=True, eq=False)
class Replica:
    """One source's own view, as its snapshot and events left it (resolved alerts are not kept)."""

    source_id: str
    order: int
    """Registration order: the last tie-break, so the merge is the same whatever order events arrive in."""
    kind: str = CLUSTER
    live: bool = False
    cluster: Cluster | None = None
    nodes: dict[str, Node] = field(default_factory=dict)
    machines: dict[str, Machine] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    quality: dict[tuple[str, str], Quality] = field(default_factory=dict)
    telemetry: dict[str, dict[str, float]] = field(default_factory=dict)
    """Each machine's current telemetry values, as this source said them: the machine's own values from its last
    snapshot or ``machine.updated``, merged with every ``machine.telemetry`` since, in place (see the store's
    docstring: this is the one mutable table)."""

    def table(self, name: str) -> dict[Any, Any]:
        return getattr(self, name)  # type: ignore[no-any-return]

    def current_machine(self, machine_id: str) -> Machine | None:
        """The machine as this source says it is now: its object with the current telemetry values (a copy)."""
        machine = self.machines.get(machine_id)
        values = self.telemetry.get(machine_id)
        if machine is None or values is None or values == machine.telemetry:
            return machine
        return machine.model_copy(update={"telemetry": dict(values)})


@dataclass(slots=True, frozen=True)
class Selection:
    """Which sources serve one node (see the module docstring)."""

    primary: str
    chosen: frozenset[str]
    eligible: frozenset[str]
    live: bool


class NodeSource(NamedTuple):
    """One source that holds a node, for the header and the node detail."""

    source_id: str
    state: str
    age_s: float | None
    """Seconds since the source's last event (``None``: none yet)."""
    last_seen: datetime
    """The node's ``last_seen`` in this source's replica."""
    kind: str
    chosen: bool
    """This source serves the node now (``Store.node_source``)."""


@dataclass(slots=True, frozen=True)
class Disagreement:
    """Live sources holding different versions of one object of a node (``kind``: node, machine, job or alert).

    ``fields`` names what differs (telemetry and ``last_seen`` alone are not a disagreement: they move all the time);
    ``by_source`` gives each source's ``last_seen`` (an alert's ``updated_at``; ``None`` for a job).
    """

    kind: str
    id: str
    fields: list[str]
    by_source: dict[str, datetime | None]


def select(node_id: str, replicas: list[Replica]) -> Selection | None:
    """The selection for one node, or ``None`` when no replica holds the node object (then every source may serve
    what it has about the node)."""
    holders = [
        (r, node) for r in replicas if (node := r.nodes.get(node_id)) is not None and r.kind not in INDEPENDENT_KINDS
    ]
    if not holders:
        return None
    live = [h for h in holders if h[0].live]
    if live:
        chosen = [h for h in live if h[0].kind == CLUSTER] or [h for h in live if h[0].kind == AGENT] or live
        eligible = live
    else:
        newest = max(node.last_seen for _, node in holders)
        chosen = eligible = [h for h in holders if h[1].last_seen == newest]
    primary = chosen[0]
    for h in chosen[1:]:
        if h[1].last_seen > primary[1].last_seen:
            primary = h
    return Selection(
        primary[0].source_id,
        frozenset(r.source_id for r, _ in chosen),
        frozenset(r.source_id for r, _ in eligible),
        bool(live),
    )


def node_of(replica: Replica, table: str, obj: Any) -> str | None:
    """The node an object belongs to in this replica (``None``: tied to no node, or a reference it cannot resolve)."""
    if table == "machines" or table == "jobs":
        return obj.node_id  # type: ignore[no-any-return]
    if table == "nodes":
        return obj.id  # type: ignore[no-any-return]
    if table == "alerts":
        kind, ref = obj.source.kind, obj.source.id
    else:
        kind, ref = obj.scope, obj.id
    if kind == "node":
        return ref  # type: ignore[no-any-return]
    if kind == "machine":
        machine = replica.machines.get(ref)
        return None if machine is None else machine.node_id
    if kind == "job":
        job = replica.jobs.get(ref)
        return None if job is None else job.node_id
    return None


SelectionOf = Callable[[str], "Selection | None"]


def winner(table: str, key: Any, replicas: list[Replica], selection_of: SelectionOf) -> tuple[Replica, Any] | None:
    """The replica whose version of ``table[key]`` the merged view shows, with that version; ``None``: not shown."""
    best: tuple[Replica, Any] | None = None
    best_rank: tuple[Any, ...] | None = None
    timed = table in NODE_TABLES
    for replica in replicas:
        obj = replica.table(table).get(key)
        if obj is None:
            continue
        sid = replica.source_id
        if replica.kind in INDEPENDENT_KINDS:
            selection = None
        else:
            node_id = node_of(replica, table, obj)
            selection = None if node_id is None else selection_of(node_id)
        if selection is None:
            preferred = replica.kind == CLUSTER
            chosen = False
        else:
            if sid not in (selection.eligible if timed else selection.chosen):
                continue
            preferred = sid == selection.primary
            chosen = sid in selection.chosen
        rank: tuple[Any, ...]
        if timed:
            rank = (obj.last_seen, preferred, chosen, replica.live, -replica.order)
        else:
            rank = (preferred, replica.live, -replica.order)
        if best_rank is None or rank > best_rank:
            best, best_rank = (replica, obj), rank
    return best


def merged_cluster(replicas: list[Replica]) -> Cluster | None:
    """The cluster object to show: a cluster source's (never an agent's own "cluster of one" over it), or with
    several cluster sources a synthetic "N clusters"; with agents only, the one agent's, or a synthetic "N nodes via
    agents"; else the first other source's."""
    clusters = [r for r in replicas if r.kind == CLUSTER and r.cluster is not None]
    if len(clusters) > 1:  # several clusters (docs/multi-cluster.md): the header names each beside its state
        return _several(clusters)
    if clusters:
        return max(clusters, key=lambda r: (r.live, -r.order)).cluster
    agents = [r for r in replicas if r.kind == AGENT and r.cluster is not None]
    if len(agents) == 1:
        return agents[0].cluster
    if agents:
        first = agents[0].cluster
        assert first is not None
        return Cluster(
            id="agents",
            name=f"{len(agents)} nodes via agents",
            region=first.region,
            server_time=max(r.cluster.server_time for r in agents if r.cluster is not None),
            seq=0,
            instance_id="agents",
        )
    others = [r for r in replicas if r.cluster is not None]
    return others[0].cluster if others else None


def _several(replicas: list[Replica]) -> Cluster:
    """The cluster object shown for several clusters: ``3 clusters``, on the newest of their clocks."""
    shown = [r.cluster for r in replicas if r.cluster is not None]
    regions = sorted({c.region for c in shown})
    return Cluster(
        id=SEVERAL_ID,
        name=f"{len(shown)} clusters",
        region=regions[0] if len(regions) == 1 else "several",
        server_time=max(c.server_time for c in shown),
        seq=0,
        instance_id=SEVERAL_ID,
    )


_QUIET_FIELDS = frozenset({"telemetry", "last_seen"})


def field_values(obj: Any) -> dict[str, Any]:
    """A contract object's fields by name: a ``BaseModel``'s ``__dict__``, or a lean record's slots."""
    values = getattr(obj, "__dict__", None)
    if values is not None:
        return values  # type: ignore[no-any-return]
    return {name: getattr(obj, name) for name in type(obj).__slots__}


def differing_fields(a: Any, b: Any) -> list[str]:
    """The fields in which two versions of an object differ (telemetry and ``last_seen`` aside)."""
    da, db = field_values(a), field_values(b)
    return sorted(name for name in da.keys() | db.keys() if name not in _QUIET_FIELDS and da.get(name) != db.get(name))
