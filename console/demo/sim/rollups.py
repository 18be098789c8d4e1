"""Roll-ups: what a node and the cluster say about their machines, and the once-a-minute flush that sends it.

A node's state rolls up its machines' (degraded when enough are in fault or blocked); quality rolls up machine
counts and control charts into node and cluster records. Quality is sent by a periodic flush (rate-limited per
machine, chunked so a big cluster's flush is many short heap events), which also re-sends whatever has been quiet
for a heartbeat. Reads compute the same figures fresh, without touching the flush's cache.
"""

from __future__ import annotations

import math

from console.api.models import Quality

from . import quality as q
from .config import CLUSTER, QUALITY_CHUNK
from .projection import emit_machine, node_model
from .state import SimState, send
from .world import MachineRec, NodeRec

__all__ = [
    "cluster_quality",
    "flush_quality",
    "heartbeats",
    "machine_quality",
    "machine_spc",
    "node_quality",
    "node_state",
    "node_sum",
    "update_node",
]


def node_state(n: NodeRec) -> str:
    """The node's own state (its WAN link aside: the cluster's view shows a node it cannot reach as offline)."""
    if n.paused:
        return "paused"
    if n.bad >= max(2, math.ceil(0.15 * len(n.machines))):
        return "degraded"
    return "online"


def update_node(s: SimState, n: NodeRec) -> None:
    state = node_state(n)
    if state != n.state:
        n.state = state
        if s.subs:
            n.sent_at = s.t
            send(s, "node.updated", node_model(s, n))


def heartbeats(s: SimState) -> None:
    """Re-send nodes and machines that sent nothing for ``heartbeat_s``: their ``last_seen`` moves on."""
    if not s.subs:
        return
    t, every = s.t, s.heartbeat_s
    for n in s.nodes:
        if t - n.sent_at >= every:
            n.sent_at = t
            send(s, "node.updated", node_model(s, n))
    for m in s.machines:
        if t - m.sent_at >= every:
            emit_machine(s, m)


def machine_spc(s: SimState, m: MachineRec) -> q.MachineSpc:
    """The machine's measurement generator and control charts (made the first time they are needed)."""
    if m.spc is None:
        m.spc = q.MachineSpc(s.seed, m)
    spc = m.spc
    assert isinstance(spc, q.MachineSpc)
    return spc


def machine_quality(s: SimState, m: MachineRec) -> Quality:
    return q.quality_model("machine", m.id, q.machine_totals(m, s.t), q.spc_of(machine_spc(s, m)))


def node_sum(s: SimState, n: NodeRec) -> list[float]:
    """The node's six totals: its machines' summed in their order (in locals: the same additions as a loop over the
    fields, so the same floats; it runs for every machine of every changed node once a simulated minute)."""
    run = down = ideal = good = scrap = fpg = 0.0
    machines, t, totals = s.machines, s.t, q.machine_totals
    for idx in n.machines:
        m_run, m_down, m_ideal, m_good, m_scrap, m_fpg = totals(machines[idx], t)
        run += m_run
        down += m_down
        ideal += m_ideal
        good += m_good
        scrap += m_scrap
        fpg += m_fpg
    return [run, down, ideal, good, scrap, fpg]


def node_quality(s: SimState, n: NodeRec) -> Quality:
    """The node's quality record computed now (reads)."""
    return q.quality_model("node", n.id, node_sum(s, n), s.node_meas[n.idx].spc())


def flush_quality(s: SimState, first: int = 0) -> bool:
    """Send ``quality.updated`` for machines whose numbers moved (at most every ``quality_min_s``) or that were not
    sent for ``quality_refresh_s``, then their nodes and the cluster: once a minute. One call looks at
    ``QUALITY_CHUNK`` machines from ``first`` (so a big cluster's flush is many short heap events, and a budgeted tick
    can yield between them); True when this was the last chunk (nodes and cluster sent)."""
    dirty_nodes = s.flush_dirty_nodes
    t, refresh, least = s.t, s.config.quality_refresh_s, s.quality_min_s
    machines = s.machines
    for m in machines[first : first + QUALITY_CHUNK]:
        age = t - m.quality_sent_at
        if (m.quality_dirty and age >= least) or age >= refresh:
            m.quality_dirty = False
            m.quality_sent_at = t
            dirty_nodes[m.node] = None
            if s.subs:
                send(s, "quality.updated", machine_quality(s, m))
    if first + QUALITY_CHUNK < len(machines):
        return False
    s.flush_dirty_nodes = {}
    if not dirty_nodes:
        return True
    for idx in dirty_nodes:
        n = s.nodes[idx]
        s.node_totals[idx] = node_sum(s, n)
        if s.subs:
            spc = s.node_meas[idx].spc()
            send(s, "quality.updated", q.quality_model("node", n.id, s.node_totals[idx], spc))
    if s.subs:
        send(s, "quality.updated", cluster_quality(s, cached=True))
    return True


def cluster_quality(s: SimState, cached: bool) -> Quality:
    totals = [0.0] * 6
    for n in s.nodes:
        node_totals = s.node_totals.get(n.idx) if cached else None
        if node_totals is None:
            node_totals = node_sum(s, n)
            if cached:
                s.node_totals[n.idx] = node_totals
        for i, v in enumerate(node_totals):
            totals[i] += v
    return q.quality_model("cluster", CLUSTER.id, totals, s.cluster_meas.spc())
