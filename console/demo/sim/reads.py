"""Reads: what a server asks of the simulation at any time, as wire models, and which node an object belongs to.

Reads never draw random numbers nor change the story (quality is computed fresh, without the flush's cache), so a
server may read whenever it likes. ``node_of`` / ``node_of_event`` let a node agent's view keep to its own node.
"""

from __future__ import annotations

from datetime import datetime

from console.api.models import (
    Alert,
    AuditEntry,
    Job,
    JobRemoved,
    Machine,
    MachineTelemetry,
    Node,
    Quality,
    RerouteCandidate,
)

from .errors import SimCommandError
from .projection import candidate_model, job_model, machine_model, node_model
from .rollups import cluster_quality, machine_quality, node_quality
from .scheduling import candidates
from .state import Payload, SimState, at, node_index

__all__ = [
    "audit",
    "job",
    "jobs",
    "link_down",
    "machine",
    "machines",
    "node",
    "node_machines",
    "node_of",
    "node_of_event",
    "nodes",
    "quality",
    "reroute_candidates",
]


def nodes(s: SimState) -> list[Node]:
    return [node_model(s, n) for n in s.nodes]


def machines(s: SimState) -> list[Machine]:
    return [machine_model(s, m) for m in s.machines]


def node_machines(s: SimState, node_id: str) -> list[Machine]:
    """The machines of one node (cheap: a view taking one node offline need not build every machine)."""
    n = s.node_by_id.get(node_id)
    return [machine_model(s, s.machines[idx]) for idx in n.machines] if n else []


def jobs(s: SimState) -> list[Job]:
    return [job_model(s, j) for j in s.jobs.values()]


def quality(s: SimState) -> list[Quality]:
    """Cluster, every node, every machine (computed now, without touching the rate-limited cache)."""
    out = [cluster_quality(s, cached=False)]
    out += [node_quality(s, n) for n in s.nodes]
    out += [machine_quality(s, m) for m in s.machines]
    return out


def audit(s: SimState) -> list[AuditEntry]:
    """The recorded audit entries, oldest first (the last 10,000)."""
    return list(s.audit.values())


def link_down(s: SimState) -> dict[str, datetime]:
    """The nodes whose WAN link to the cluster is down now, and since when (see ``LINK_DOWN``)."""
    return {n.id: at(s, n.last_seen) for n in s.nodes if not n.online}


def node(s: SimState, node_id: str) -> Node | None:
    n = s.node_by_id.get(node_id)
    return node_model(s, n) if n else None


def machine(s: SimState, machine_id: str) -> Machine | None:
    m = s.machine_by_id.get(machine_id)
    return machine_model(s, m) if m else None


def job(s: SimState, job_id: str) -> Job | None:
    j = s.jobs.get(job_id)
    return job_model(s, j) if j else None


def node_of(s: SimState, kind: str, object_id: str) -> str | None:
    """The node an object belongs to (``node``, ``machine``, ``job``, ``alert``, ``audit``); None for cluster-wide
    objects, jobs still in the cluster backlog, and unknown ids. A removed job answers its last node for a while."""
    if kind == "node":
        return object_id if object_id in s.node_by_id else None
    if kind == "machine":
        m = s.machine_by_id.get(object_id)
        return s.nodes[m.node].id if m else None
    if kind == "job":
        j = s.jobs.get(object_id)
        if j is None:
            return s.removed_node.get(object_id)
        return s.nodes[j.node].id if j.node is not None else None
    if kind == "alert":
        source = s.alerts.source_of(object_id)
        return node_of(s, *source) if source else None
    if kind == "audit":
        entry = s.audit.get(object_id)
        return node_of(s, entry.target.kind, entry.target.id) if entry else None
    return None


def node_of_event(s: SimState, event_type: str, payload: Payload) -> str | None:
    """The node an event is about (for a node agent's one-node view); None for cluster-wide events."""
    if isinstance(payload, Node):
        return payload.id
    if isinstance(payload, Machine):
        return payload.node_id
    if isinstance(payload, MachineTelemetry):
        return node_of(s, "machine", payload.machine_id)
    if isinstance(payload, Job):
        return payload.node_id
    if isinstance(payload, JobRemoved):
        return node_of(s, "job", payload.id)
    if isinstance(payload, Alert):
        return node_of(s, payload.source.kind, payload.source.id)
    if isinstance(payload, AuditEntry):
        return node_of(s, payload.target.kind, payload.target.id)
    if isinstance(payload, Quality):
        return node_of(s, payload.scope, payload.id)
    return None


def reroute_candidates(s: SimState, job_id: str, local_node: str | None = None) -> list[RerouteCandidate]:
    """Machines that could take the job, best first; those with blockers (cannot take it) after; at most 20.
    ``local_node``: asked by that node's own agent (its machines are reachable whatever its WAN link)."""
    j = s.jobs.get(job_id)
    if j is None:
        raise SimCommandError(404, "not_found", f"job {job_id} not found")
    if j.finished_at is not None:
        return []
    s.local_node = node_index(s, local_node)
    try:
        return [candidate_model(s, j, *c) for c in candidates(s, j)[:20]]
    finally:
        s.local_node = None
