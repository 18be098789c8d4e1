"""Translation: edge nodes and devices as contract objects, their changes as events numbered by this source's ``seq``.

The host (:mod:`.host`) says *what* changed (an edge node born or dead, a device's state, progress, job or
telemetry); the :class:`Translator` holds what this source last told the store (nodes, machines, jobs) and turns each
change into the events that take the store there: ``node.updated``, ``machine.updated``, ``machine.telemetry``,
``job.updated`` and ``job.removed``, each with the next ``seq`` of this source, from 1 up without gaps. Only a change
becomes an event, plus a ``machine.updated`` / ``node.updated`` heartbeat now and then so ``last_seen`` stays fresh.

* An edge node is a contract node (``online``; ``degraded`` while one of its devices is dead; ``offline`` after its
  NDEATH); a device is a machine of that node. A dead device (DDEATH, or its node's NDEATH) stays, ``offline`` with
  the reason, its last values kept: stale, not gone.
* The device's job id metric makes a job (``<machine id>/job/<id>``): running or paused with its machine, ended when
  the id changes or clears (``completed`` at 100 %, ``failed`` when the machine is in fault, else ``cancelled``).
  The last ended job is kept per machine, until the next one ends.
* Telemetry is sent as it came (``machine.telemetry`` with the values of one DATA message).

No I/O, no store: the clocks are passed in, so tests step them by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from console.api.models import Design, Event, EventType, Job, JobRemoved, Machine, MachineTelemetry, Node
from console.sources.sparkplug.state import Device, EdgeNode

__all__ = ["LIVE_JOB", "Translator"]

LIVE_JOB = ("assigned", "running", "paused")
_JOB_STATUS = {"running": "running", "paused": "paused"}
_MACHINE_KEYS = ("state", "state_reason", "job_id", "progress", "kind", "model")

_NODE_UPDATED = str(EventType.NODE_UPDATED)
_MACHINE_UPDATED = str(EventType.MACHINE_UPDATED)
_MACHINE_TELEMETRY = str(EventType.MACHINE_TELEMETRY)
_JOB_UPDATED = str(EventType.JOB_UPDATED)
_JOB_REMOVED = str(EventType.JOB_REMOVED)


class Translator:
    """What this source told the store, and the events that move it on. See the module docstring."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        default_kind: str = "sparkplug_device",
        heartbeat: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._monotonic = monotonic
        self.default_kind = default_kind
        self.heartbeat = heartbeat
        self._seq = 0
        self._out: list[Event] = []
        self.nodes: dict[str, Node] = {}
        self.machines: dict[str, Machine] = {}
        self.jobs: dict[str, Job] = {}
        """Every job held (live and the last ended one per machine), by id."""
        self._live: dict[str, Job] = {}
        self._ended: dict[str, Job] = {}
        self._sent_at: dict[str, float] = {}
        self.lines: list[str] = []
        """Lines for the source's connection log (the source takes them)."""

    # --- what was sent --------------------------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The ``seq`` of the last event made (0 before any): a snapshot of the objects held is at this ``seq``."""
        return self._seq

    def live_job(self, machine_id: str) -> Job | None:
        """The job a machine is working on (as last sent)."""
        return self._live.get(machine_id)

    def take(self) -> list[Event]:
        """The events made since the last call, in ``seq`` order."""
        out, self._out = self._out, []
        return out

    def log(self, line: str) -> None:
        self.lines.append(line)

    def _emit(self, type_: str, data: Any) -> None:
        self._seq += 1
        self._out.append(Event(self._seq, type_, data))

    # --- edge nodes -----------------------------------------------------------------------------------------------

    def node_changed(self, node: EdgeNode) -> None:
        """An edge node was born, died, or one of its devices was (``node.updated`` if anything shown changed)."""
        state = "offline" if not node.online else "degraded" if node.offline_devices() else "online"
        old = self.nodes.get(node.node_id)
        count = len(node.devices)
        if old is not None and old.state == state and old.machine_count == count:
            self.node_seen(node)
            return
        new = Node(
            id=node.node_id,
            name=node.node_id,
            city="",
            lat=0.0,
            lon=0.0,
            state=state,
            last_seen=self._clock(),
            machine_count=count,
            agent_url=None,
        )
        self._put_node(new)

    def node_seen(self, node: EdgeNode) -> None:
        """A message of the edge node: ``last_seen`` moves on, at most once per heartbeat."""
        old = self.nodes.get(node.node_id)
        if old is not None and self._monotonic() - self._sent_at.get(node.node_id, 0.0) >= self.heartbeat:
            self._put_node(old.model_copy(update={"last_seen": self._clock()}))

    def _put_node(self, node: Node) -> None:
        self.nodes[node.id] = node
        self._sent_at[node.id] = self._monotonic()
        self._emit(_NODE_UPDATED, node)

    # --- devices --------------------------------------------------------------------------------------------------

    def device_changed(self, device: Device, telemetry: dict[str, float] | None) -> None:
        """A device's birth, death or data: ``machine.updated`` when its state, job, progress, kind or model changed
        (or on the heartbeat), then ``machine.telemetry`` with the values the message brought."""
        machine_id = device.machine_id
        old = self.machines.get(machine_id)
        now = self._clock()
        if device.online:
            state = device.state or "idle"
            reason = None if device.state else "the device reports no state"
        else:
            state, reason = "offline", device.offline_reason
        job = self._sync_job(device, state, now)
        fields: dict[str, Any] = {
            "state": state,
            "state_reason": reason,
            "job_id": job.id if job is not None else None,
            "progress": device.progress,
            "kind": device.kind or self.default_kind,
            "model": device.model or "Sparkplug B",
        }
        if old is None:
            machine = Machine(
                id=machine_id,
                node_id=device.node_id,
                name=device.device_id,
                state_since=now,
                materials=[],
                processes=[],
                envelope_mm=(0.0, 0.0, 0.0),
                telemetry=dict(device.telemetry),
                last_seen=now,
                **fields,
            )
            self._put_machine(machine)
        else:
            changed = any(getattr(old, key) != fields[key] for key in _MACHINE_KEYS)
            if changed or self._monotonic() - self._sent_at.get(machine_id, 0.0) >= self.heartbeat:
                fields["telemetry"] = dict(device.telemetry)
                fields["last_seen"] = now
                if old.state != state:
                    fields["state_since"] = now
                self._put_machine(old.model_copy(update=fields))
        if telemetry:
            self._emit(
                _MACHINE_TELEMETRY, MachineTelemetry.model_construct(machine_id=machine_id, at=now, values=telemetry)
            )

    def _put_machine(self, machine: Machine) -> None:
        self.machines[machine.id] = machine
        self._sent_at[machine.id] = self._monotonic()
        self._emit(_MACHINE_UPDATED, machine)

    # --- jobs -----------------------------------------------------------------------------------------------------

    def _sync_job(self, device: Device, state: str, now: datetime) -> Job | None:
        """The device's live job after this message (started, moved on or ended as its job id says)."""
        machine_id = device.machine_id
        current = self._live.get(machine_id)
        if not device.online:
            return current  # a dead device's job is left as it was: stale, like the machine
        wanted = f"{machine_id}/job/{device.job_id}" if device.job_id else None
        if current is not None and current.id != wanted:
            self._end_job(current, device, state)  # the job ended now is kept until the next one ends
            current = None
        if wanted is None:
            return None
        progress = device.progress if device.progress is not None else 0.0
        if current is None:
            started = now.replace(microsecond=0)
            job = Job(
                id=wanted,
                order_id="",
                part=device.job_part or device.job_id or "",
                design=Design(file="", sha256=""),
                process="",
                material="",
                size_mm=(0.0, 0.0, 0.0),
                quantity=1,
                done_qty=0,
                scrap_qty=0,
                priority=3,
                # Sparkplug carries no due date; a day after the start keeps the console from calling a job late.
                due_at=started + timedelta(days=1),
                status=_JOB_STATUS.get(state, "assigned"),
                node_id=device.node_id,
                machine_id=machine_id,
                queue_position=None,
                progress=progress,
                eta=None,
                created_at=started,
                customer_region="",
            )
            self._put_job(job)
            return job
        update = {
            "status": _JOB_STATUS.get(state, current.status),
            "progress": progress,
            "part": device.job_part or current.part,
        }
        if any(getattr(current, key) != value for key, value in update.items()):
            current = current.model_copy(update=update)
            self._put_job(current)
        return current

    def _end_job(self, job: Job, device: Device, state: str) -> None:
        done = job.progress >= 0.999 or (device.progress is not None and device.progress >= 0.999)
        if done:
            update: dict[str, Any] = {"status": "completed", "progress": 1.0, "done_qty": 1}
        else:
            update = {"status": "failed" if state == "fault" else "cancelled"}
        ended = job.model_copy(update={**update, "eta": None})
        previous = self._ended.get(job.machine_id or "")
        if previous is not None and previous.id != ended.id:
            self.jobs.pop(previous.id, None)
            self._emit(_JOB_REMOVED, JobRemoved(id=previous.id))
        del self._live[job.machine_id or ""]
        self.jobs[ended.id] = ended
        self._ended[job.machine_id or ""] = ended
        self._emit(_JOB_UPDATED, ended)

    def _put_job(self, job: Job) -> None:
        self.jobs[job.id] = job
        self._live[job.machine_id or ""] = job
        self._emit(_JOB_UPDATED, job)
