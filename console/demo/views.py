"""What one server shows of the simulation: the whole cluster, or one node as "a cluster of one node".

A view answers the live reads (filtered for a node agent: they seed the feed's served state, see
``console.demo.state``), tells whether a command target is in it, and turns the
simulation's unnumbered events into the events this view publishes (:meth:`View.translate`): a node agent drops
what is not about its node, and sends ``job.removed`` when a job leaves it. The :class:`~console.demo.feed.EventFeed`
and the app of one server share one view, so the snapshot and the stream always agree on what belongs.

A node's WAN outage is a property of the cluster's view. The simulation signals it (``sim.link_down`` /
``sim.link_up``) and goes on emitting the node's events: its agent on the shop floor passes them through live, while
the cluster API (:class:`View`) shows the node and its machines offline, holds back what it hears of the node
meanwhile (the latest event per object), and catches up when the link returns.

Every method runs on the server's event loop thread, like the simulation's ``tick`` (the simulation is not
thread-safe).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from console.api.models import (
    AuditEntry,
    Cluster,
    EventType,
    Job,
    JobRemoved,
    Machine,
    Node,
    Quality,
    RerouteCandidate,
)

LINK_DOWN = "sim.link_down"  # the simulation's signals (``console.demo.sim.engine``); not contract events
LINK_UP = "sim.link_up"
OFFLINE_REASON = "node offline: no network"
NODE_OFFLINE_CODE = "node_offline"  # the cluster's own alert about an unreachable node: never held back


def _with_agent_url(node: Node, agent_urls: Mapping[str, str]) -> Node:
    url = agent_urls.get(node.id)
    return node.model_copy(update={"agent_url": url}) if url and node.agent_url != url else node


def _cluster(sim: Any, seq: int, instance_id: str) -> Cluster:
    """The ``Cluster`` object: the simulation's identity (id, name, region), its time, and the feed's seq/instance."""
    info = sim.cluster_info()
    return Cluster(
        id=info.id,
        name=info.name,
        region=info.region,
        server_time=getattr(info, "server_time", None) or sim.now(),
        seq=seq,
        instance_id=instance_id,
    )


class View:
    """The whole cluster (the cluster API). ``agent_urls`` fills ``Node.agent_url`` when agents run beside it."""

    node_id: str | None = None

    def __init__(self, sim: Any, agent_urls: Mapping[str, str] | None = None) -> None:
        self.sim = sim
        self.agent_urls: Mapping[str, str] = agent_urls if agent_urls is not None else {}
        # Nodes the cluster cannot reach now (since when), and what it heard of each meanwhile, held back: the latest
        # (type, payload) per object key, in first-heard order; audit entries all, in order.
        link_down = getattr(sim, "link_down", None)
        self._down: dict[str, datetime] = dict(link_down()) if callable(link_down) else {}
        self._held: dict[str, dict[tuple[str, ...], tuple[str, Any]]] = {n: {} for n in self._down}

    # --- reachability ----------------------------------------------------------------------------------------------

    def is_down(self, node_id: str | None) -> bool:
        """Whether this view cannot reach ``node_id`` now (its WAN link is down)."""
        return node_id is not None and node_id in self._down

    def _offline_node(self, node: Node) -> Node:
        since = self._down.get(node.id)
        if since is None:
            return node
        return node.model_copy(update={"state": "offline", "last_seen": since})

    def _offline_machine(self, machine: Machine) -> Machine:
        since = self._down.get(machine.node_id)
        if since is None:
            return machine
        return machine.model_copy(
            update={"state": "offline", "state_since": since, "last_seen": since, "state_reason": OFFLINE_REASON}
        )

    # --- reads -----------------------------------------------------------------------------------------------------

    def cluster(self, seq: int, instance_id: str) -> Cluster:
        return _cluster(self.sim, seq, instance_id)

    def present_node(self, node: Node) -> Node:
        """A node as this server shows it (``agent_url`` filled when an agent serves it)."""
        return _with_agent_url(node, self.agent_urls)

    def nodes(self) -> list[Node]:
        return [_with_agent_url(self._offline_node(n), self.agent_urls) for n in self.sim.nodes()]

    def node(self, node_id: str) -> Node | None:
        node = self.sim.node(node_id) if self.contains("node", node_id) else None
        return _with_agent_url(self._offline_node(node), self.agent_urls) if node is not None else None

    def machines(self) -> list[Machine]:
        return [self._offline_machine(m) for m in self.sim.machines()]

    def machine(self, machine_id: str) -> Machine | None:
        machine = self.sim.machine(machine_id) if self.contains("machine", machine_id) else None
        return self._offline_machine(machine) if machine is not None else None

    def jobs(self) -> list[Job]:
        return list(self.sim.jobs())

    def job(self, job_id: str) -> Job | None:
        return self.sim.job(job_id) if self.contains("job", job_id) else None

    def alerts(self) -> list[Any]:
        return list(self.sim.alerts())

    def alert(self, alert_id: str) -> Any | None:
        alert = self.sim.alert(alert_id)
        return alert if alert is not None and self.has_source(alert.source.kind, alert.source.id) else None

    def quality(self) -> list[Quality]:
        return list(self.sim.quality())

    def quality_of(self, scope: str, object_id: str | None) -> Quality | None:
        """The quality record of ``scope`` (``cluster``, ``node``, ``machine``) and ``object_id``."""
        for q in self.quality():
            if q.scope == scope and (scope == "cluster" or q.id == object_id):
                return q
        return None

    def audit(self) -> list[AuditEntry]:
        held = {key for h in self._held.values() for key in h if key[0] == "audit"}
        return [e for e in self.sim.audit() if ("audit", e.id) not in held]

    def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]:
        return list(self.sim.reroute_candidates(job_id))

    # --- membership ------------------------------------------------------------------------------------------------

    def contains(self, kind: str, object_id: str) -> bool:
        """Whether a command target (``machine``, ``node``, ``job``, ``alert``) exists in this view."""
        getter = {"machine": "machine", "node": "node", "job": "job", "alert": "alert"}.get(kind)
        return getter is not None and getattr(self.sim, getter)(object_id) is not None

    def has_source(self, kind: str, object_id: str) -> bool:
        """Whether an alert source or an audit target belongs to this view (the whole cluster: always)."""
        return True

    # --- events ----------------------------------------------------------------------------------------------------

    def translate(self, type_: str, payload: Any) -> list[tuple[str, Any]]:
        """The events this view publishes for one simulation event (zero, one or more)."""
        if type_ == LINK_DOWN:
            return self._link_down(payload.node_id, payload.at)
        if type_ == LINK_UP:
            return self._link_up(payload.node_id)
        if type_.startswith("sim."):
            return []  # a signal of the simulation this view does not know: never a client's business
        if self._down:
            node_id = self._node_of(type_, payload)
            if node_id in self._down:
                self._hold(node_id, type_, payload)
                return []
        if type_ == EventType.NODE_UPDATED and isinstance(payload, Node):
            return [(type_, _with_agent_url(payload, self.agent_urls))]
        return [(type_, payload)]

    # --- a node's outage, as the cluster sees it -------------------------------------------------------------------

    def _node_of(self, type_: str, payload: Any) -> str | None:
        """The node an event is about, when it is one the cluster could be cut off from (else None)."""
        if type_ in (EventType.ALERT_RAISED, EventType.ALERT_UPDATED) and (
            payload.source.kind == "node" and payload.code == NODE_OFFLINE_CODE
        ):
            return None  # the cluster's own alert about the node
        if type_ == EventType.AUDIT_APPENDED and payload.outcome != "applied":
            return None  # the cluster's own refusals (target_offline) are news at once
        node_of_event = getattr(self.sim, "node_of_event", None)
        return node_of_event(type_, payload) if callable(node_of_event) else None

    def _hold(self, node_id: str, type_: str, payload: Any) -> None:
        held = self._held.setdefault(node_id, {})
        if type_ in (EventType.MACHINE_UPDATED, EventType.MACHINE_TELEMETRY, EventType.NODE_UPDATED):
            return  # the node and every machine are read afresh when the link returns
        if type_ in (EventType.JOB_UPDATED, EventType.JOB_REMOVED):
            key: tuple[str, ...] = ("job", payload.id)
        elif type_ in (EventType.ALERT_RAISED, EventType.ALERT_UPDATED):
            key = ("alert", payload.id)
        elif type_ == EventType.QUALITY_UPDATED:
            key = ("quality", payload.scope, payload.id)
        elif type_ == EventType.AUDIT_APPENDED:
            key = ("audit", payload.id)
        else:
            key = ("other", type_, str(len(held)))
        if key[0] == "alert" and key in held and held[key][0] == EventType.ALERT_RAISED:
            type_ = EventType.ALERT_RAISED.value  # raised and updated while away: the cluster first hears it raised
        held.pop(key, None)
        held[key] = (str(type_), payload)

    def _machines_of(self, node_id: str) -> list[Machine]:
        """The simulation's machines of one node, as they are (not every machine: a 20,000-machine cluster would
        spend a second building them all for one node's outage)."""
        node_machines = getattr(self.sim, "node_machines", None)
        if callable(node_machines):
            return list(node_machines(node_id))
        return [m for m in self.sim.machines() if m.node_id == node_id]

    def _link_down(self, node_id: str, since: datetime) -> list[tuple[str, Any]]:
        if node_id in self._down:
            return []
        self._down[node_id] = since
        self._held[node_id] = {}
        out: list[tuple[str, Any]] = []
        node = self.node(node_id)
        if node is not None:
            out.append((EventType.NODE_UPDATED.value, node))
        out += [(EventType.MACHINE_UPDATED.value, self._offline_machine(m)) for m in self._machines_of(node_id)]
        return out

    def _link_up(self, node_id: str) -> list[tuple[str, Any]]:
        """The node is back: send it and its machines as they are now, then what was held back, in order."""
        if self._down.pop(node_id, None) is None:
            return []
        held = self._held.pop(node_id, {})
        out: list[tuple[str, Any]] = []
        node = self.node(node_id)
        if node is not None:
            out.append((EventType.NODE_UPDATED.value, node))
        out += [(EventType.MACHINE_UPDATED.value, m) for m in self._machines_of(node_id)]
        for key, (type_, payload) in held.items():
            if key[0] == "job":
                job = self.sim.job(payload.id)
                if job is None:
                    out.append((EventType.JOB_REMOVED.value, JobRemoved(id=payload.id)))
                else:
                    out.append((EventType.JOB_UPDATED.value, job))
            else:
                out.append((type_, payload))
        return out


class NodeView(View):
    """One node as a cluster of one node: what its node agent serves."""

    node_id: str

    def __init__(self, sim: Any, node_id: str, agent_urls: Mapping[str, str] | None = None) -> None:
        super().__init__(sim, agent_urls)
        if sim.node(node_id) is None:
            raise ValueError(f"no node {node_id!r} in the simulation")
        self.node_id = node_id
        self._down = {}  # the agent is on the node's side of the WAN: the node's outage is not its own
        self._held = {}
        self._machine_node: dict[str, str | None] = {}
        # Jobs this agent has shown as its own, so it can send job.removed when one leaves the node.
        self._jobs_here: set[str] = {j.id for j in sim.jobs() if j.node_id == node_id}

    def _node_of_machine(self, machine_id: str) -> str | None:
        # Machines never move between nodes, and telemetry asks this many times a second: cache it.
        if machine_id not in self._machine_node:
            self._machine_node[machine_id] = self.sim.node_of("machine", machine_id)
        return self._machine_node[machine_id]

    def has_source(self, kind: str, object_id: str) -> bool:
        if kind == "node":
            return object_id == self.node_id
        if kind == "machine":
            return self._node_of_machine(object_id) == self.node_id
        if kind in ("job", "alert"):
            return bool(self.sim.node_of(kind, object_id) == self.node_id)
        return False  # cluster-wide things are not the node's

    def contains(self, kind: str, object_id: str) -> bool:
        return super().contains(kind, object_id) and (
            self.has_source(kind, object_id) if kind != "alert" else self.alert(object_id) is not None
        )

    def cluster(self, seq: int, instance_id: str) -> Cluster:
        return self._own_cluster(_cluster(self.sim, seq, instance_id), seq, instance_id)

    def _own_cluster(self, whole: Cluster, seq: int, instance_id: str) -> Cluster:
        node = self.sim.node(self.node_id)
        return Cluster(
            id=self.node_id,
            name=node.name if node is not None else self.node_id,
            region=whole.region,
            server_time=whole.server_time,
            seq=seq,
            instance_id=instance_id,
        )

    def nodes(self) -> list[Node]:
        return [_with_agent_url(n, self.agent_urls) for n in self.sim.nodes() if n.id == self.node_id]

    def machines(self) -> list[Machine]:
        return [m for m in self.sim.machines() if m.node_id == self.node_id]

    def jobs(self) -> list[Job]:
        return [j for j in self.sim.jobs() if j.node_id == self.node_id]

    def alerts(self) -> list[Any]:
        return [a for a in self.sim.alerts() if self.has_source(a.source.kind, a.source.id)]

    def _quality_here(self, q: Quality) -> bool:
        if q.scope == "node":
            return q.id == self.node_id
        if q.scope == "machine":
            return self._node_of_machine(q.id) == self.node_id
        return False

    def quality(self) -> list[Quality]:
        return [q for q in self.sim.quality() if self._quality_here(q)]

    def quality_of(self, scope: str, object_id: str | None) -> Quality | None:
        # The agent's "cluster" is its node.
        if scope == "cluster":
            scope, object_id = "node", self.node_id
        return super().quality_of(scope, object_id)

    def audit(self) -> list[AuditEntry]:
        return [e for e in self.sim.audit() if self.has_source(e.target.kind, e.target.id)]

    def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]:
        candidates = self.sim.reroute_candidates(job_id, local_node=self.node_id)
        return [c for c in candidates if c.node_id == self.node_id]

    def translate(self, type_: str, payload: Any) -> list[tuple[str, Any]]:
        here = self.node_id
        if type_ == EventType.CLUSTER_UPDATED and isinstance(payload, Cluster):
            return [(type_, self._own_cluster(payload, payload.seq, payload.instance_id))]
        if type_ == EventType.NODE_UPDATED:
            return super().translate(type_, payload) if payload.id == here else []
        if type_ == EventType.MACHINE_UPDATED:
            return [(type_, payload)] if payload.node_id == here else []
        if type_ == EventType.MACHINE_TELEMETRY:
            return [(type_, payload)] if self._node_of_machine(payload.machine_id) == here else []
        if type_ == EventType.JOB_UPDATED:
            if payload.node_id == here:
                self._jobs_here.add(payload.id)
                return [(type_, payload)]
            if payload.id in self._jobs_here:  # it left this node
                self._jobs_here.discard(payload.id)
                return [(EventType.JOB_REMOVED.value, JobRemoved(id=payload.id))]
            return []
        if type_ == EventType.JOB_REMOVED:
            if payload.id in self._jobs_here:
                self._jobs_here.discard(payload.id)
                return [(type_, payload)]
            return []
        if type_ in (EventType.ALERT_RAISED, EventType.ALERT_UPDATED):
            return [(type_, payload)] if self.has_source(payload.source.kind, payload.source.id) else []
        if type_ == EventType.QUALITY_UPDATED:
            return [(type_, payload)] if self._quality_here(payload) else []
        if type_ == EventType.AUDIT_APPENDED:
            return [(type_, payload)] if self.has_source(payload.target.kind, payload.target.id) else []
        return []  # an event type this view does not know how to place: not the node's
