"""The simulated regional cluster: a seeded, deterministic discrete-event simulation of micro-factories.

Time is a float of simulated seconds since ``SimConfig.start``. Everything that happens at a known time (an order
arriving, a batch of parts finishing, a fault, a fault clearing, a node losing its WAN link to the cluster, a
finished job being removed, a shelve running out, the periodic quality roll-up) sits in one heap; ``tick()`` pops
what is due, in time order, in sub-steps of at most one simulated second, and spreads telemetry over the step with
a round-robin pointer. So the cost of a tick follows the number of things that happen, not the number of machines.

Determinism: the same seed, the same tick times and the same commands give the same events. Randomness comes from
``random.Random`` generators seeded from ``SimConfig.seed`` (one each for the world, orders, faults, telemetry, and one
per machine for its measurements); ids come from counters; iteration is over lists and insertion-ordered dicts. Reads
never draw random numbers nor change state, so reading (as a server does at any time) cannot change the story.

This module is the interface: ``Simulation``, a thin facade over one ``state.SimState`` that the rest of the
simulation works on as free functions, one module per concern:

* ``config``: ``SimConfig``, the cluster's identity, the link signals, the tuning constants;
* ``state``: the state object and its primitives (time, the heap, sending events);
* ``loop``: the core loop (the clock, the step, the heap's dispatch, telemetry);
* ``scheduling``: how a machine is judged for a job; ``placement``: orders, jobs and queues;
* ``lifecycle``: jobs running on machines, machine state; ``faults``: machine faults and WAN link outages;
* ``rollups``: node state and quality roll-ups, the minute's flush; ``projection``: records to wire models;
* ``reads``: what a server reads; ``commands``: what an operator does;
* ``opening``: the opening scene (``SimConfig.opening_scene``): the demo opens mid-shift.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from console.api.models import (
    Alert,
    AuditEntry,
    Job,
    Machine,
    Node,
    Quality,
    RerouteCandidate,
)

from . import commands, faults, loop, opening, reads
from .config import CLUSTER, LINK_DOWN, LINK_UP, QUALITY_CHUNK, QUALITY_EVERY_S, ClusterInfo, NodeLink, SimConfig
from .errors import SimCommandError
from .state import Callback, Clock, Payload, SimState, now
from .world import MachineRec

__all__ = [
    "LINK_DOWN",
    "LINK_UP",
    "QUALITY_CHUNK",
    "QUALITY_EVERY_S",
    "ClusterInfo",
    "NodeLink",
    "SimCommandError",
    "SimConfig",
    "Simulation",
]


class Simulation:
    """The world. See the module docstring; the server reads it, subscribes to it, ticks it and commands it."""

    def __init__(self, config: SimConfig, clock: Clock) -> None:
        self.config = config
        self._s = SimState(config, clock)
        loop.start(self._s)
        opening.run(self._s)  # with ``config.opening_scene``: the shift so far, simulated now (see ``opening``)

    # --- time, subscribers ---------------------------------------------------------------------------------------

    @property
    def start(self) -> datetime:
        """Where the story begins: ``config.start``, or earlier by the opening scene's warm-up."""
        return self._s.start

    def now(self) -> datetime:
        """The simulated time the world has been advanced to."""
        return now(self._s)

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Receive every event as ``callback(event_type, payload)``, synchronously, unnumbered."""
        subs = self._s.subs
        subs.append(callback)

        def unsubscribe() -> None:
            if callback in subs:
                subs.remove(callback)

        return unsubscribe

    def tick(self, budget_s: float | None = None) -> bool:
        """Advance the world to ``clock.now()``, emitting what happens on the way.

        ``budget_s`` (wall seconds) bounds the work of one call, for a server whose loop must keep answering while a
        big cluster ticks: past the budget the call returns ``False`` between two heap events, mid sub-step (the
        sub-step's end is kept, so resuming gives the same events as one long call), and the caller calls again. A
        call always handles at least one heap event or finishes a sub-step, so repeated calls make progress. It
        returns ``True`` once the world has caught up. Without a budget it always catches up (tests).
        """
        return loop.tick(self._s, budget_s)

    def set_link(self, node_id: str, up: bool) -> None:
        """Cut node ``node_id``'s WAN link now (``up=False``) until told otherwise, or bring it back (demo and tests:
        an outage on demand; the random outages go on as well)."""
        faults.set_link(self._s, node_id, up)

    # --- reads (see ``reads``) -----------------------------------------------------------------------------------

    def cluster_info(self) -> ClusterInfo:
        return CLUSTER

    def nodes(self) -> list[Node]:
        return reads.nodes(self._s)

    def machines(self) -> list[Machine]:
        return reads.machines(self._s)

    def node_machines(self, node_id: str) -> list[Machine]:
        """The machines of one node (cheap: a view taking one node offline need not build every machine)."""
        return reads.node_machines(self._s, node_id)

    def jobs(self) -> list[Job]:
        return reads.jobs(self._s)

    def alerts(self) -> list[Alert]:
        return self._s.alerts.models()

    def quality(self) -> list[Quality]:
        """Cluster, every node, every machine (computed now, without touching the rate-limited cache)."""
        return reads.quality(self._s)

    def audit(self) -> list[AuditEntry]:
        """The recorded audit entries, oldest first (the last 10,000)."""
        return reads.audit(self._s)

    def link_down(self) -> dict[str, datetime]:
        """The nodes whose WAN link to the cluster is down now, and since when (see ``LINK_DOWN``)."""
        return reads.link_down(self._s)

    def node(self, node_id: str) -> Node | None:
        return reads.node(self._s, node_id)

    def machine(self, machine_id: str) -> Machine | None:
        return reads.machine(self._s, machine_id)

    def job(self, job_id: str) -> Job | None:
        return reads.job(self._s, job_id)

    def alert(self, alert_id: str) -> Alert | None:
        return self._s.alerts.get(alert_id)

    def node_of(self, kind: str, object_id: str) -> str | None:
        """The node an object belongs to (``node``, ``machine``, ``job``, ``alert``, ``audit``); None for cluster-wide
        objects, jobs still in the cluster backlog, and unknown ids. A removed job answers its last node for a while.
        """
        return reads.node_of(self._s, kind, object_id)

    def node_of_event(self, event_type: str, payload: Payload) -> str | None:
        """The node an event is about (for a node agent's one-node view); None for cluster-wide events."""
        return reads.node_of_event(self._s, event_type, payload)

    def reroute_candidates(self, job_id: str, local_node: str | None = None) -> list[RerouteCandidate]:
        """Machines that could take the job, best first; those with blockers (cannot take it) after; at most 20.
        ``local_node``: asked by that node's own agent (its machines are reachable whatever its WAN link)."""
        return reads.reroute_candidates(self._s, job_id, local_node)

    # --- commands (see ``commands``) -----------------------------------------------------------------------------

    def execute(
        self,
        action: str,
        target_id: str,
        body: dict[str, Any] | None,
        operator: str,
        idempotency_key: str | None = None,
        local_node: str | None = None,
    ) -> AuditEntry:
        """Apply a command; return its ``applied`` audit entry. A refusal records a ``rejected`` entry and raises
        ``SimCommandError`` (with ``.audit`` set; not for ``invalid_text``, text that is not valid Unicode, which is
        refused before anything, audit included, is touched). ``local_node``: the command comes from that node's own
        agent on the shop floor, so the node's WAN link does not matter (from the cluster, a node whose link is down
        is ``target_offline``)."""
        return commands.execute(self._s, action, target_id, body, operator, idempotency_key, local_node)

    # --- internals some tests look at ----------------------------------------------------------------------------

    @property
    def _machines(self) -> list[MachineRec]:
        return self._s.machines

    @property
    def _quality_min_s(self) -> float:
        return self._s.quality_min_s
