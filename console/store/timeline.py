"""Per-subject history: what happened to each machine, node and job, kept as the store takes their updates.

The tables hold what is true now; the alert journal (:mod:`console.store.journal`) the life of each alert. This is
the third record: for each subject (``("machine", id)``, ``("node", id)``, ``("job", id)``) the changes the console
heard of, oldest first, so a machine's or a job's timeline can be read back after the fact:

* a machine: its state changes (with the fault code, the reason and who paused it), draining on and off, and the
  jobs that started, paused, resumed, finished, failed, were scrapped or cancelled on it, or were rerouted to or
  from it;
* a job: where it was placed and where it was rerouted (machine or node changed), started, paused, resumed,
  completed, failed, cancelled, sent back to the queue, and each time its ``scrap_qty`` went up;
* a node: its state changes.

The table writers (:mod:`console.store.tables`) call :meth:`Timeline.machine`, :meth:`Timeline.job` and
:meth:`Timeline.node` with the object they replace and the new one; only a real change makes an entry, so a
re-applied snapshot or a second source reporting the same object adds nothing. An object seen for the first time
makes no entry (the console did not see it change; a job's ``created_at`` says when it came, and the timeline view
shows that).

Bounds: :data:`PER_SUBJECT` entries a subject (its oldest go first) and :data:`TOTAL` in all (the oldest entry of
the whole store goes first, whichever subject it belongs to), both O(1) per entry: every entry is also queued in one
global FIFO, and when that is over its cap its oldest entry is dropped from its subject's ring unless that ring's
own cap dropped it already (``kept``); a ring only ever loses its oldest entries, so a kept one is at its head. A
subject whose ring empties is forgotten. Histories are kept after their subject leaves the tables (a finished job's
story is what a handover asks about); the global cap bounds them.

Times are on the server's clock: a machine's state change at its ``state_since``; anything else when the store
heard of it (``Store.clock``, the server's estimated time), but never before the ``last_seen`` of the machine
concerned, so a job's start sorts after the machine update that carried it.

Limits: a job's update carries no time of its own, so its entries are stamped when heard; with several sources a
failover to a source whose view of a job is older can record a step back and forth (the journal has ``updated_at``
to ignore a lagging alert, a job has nothing like it). No Textual, no Rich: this is the store layer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime

from console.api.models import Job, Machine, Node

__all__ = ["JOB_EVENTS", "PER_SUBJECT", "TOTAL", "Subject", "Timeline", "TimelineEntry"]

PER_SUBJECT = 500
"""Entries kept per subject."""
TOTAL = 100_000
"""Entries kept in all (about 20 MB at most)."""

Subject = tuple[str, str]
"""``(kind, id)``: ``("machine", "M-07")``, ``("job", "J-1042")``, ``("node", "N-LDS")``."""

STATE = "state"
DRAINING = "draining"
ASSIGNED = "assigned"
REROUTED = "rerouted"
UNASSIGNED = "unassigned"
STARTED = "started"
PAUSED = "paused"
RESUMED = "resumed"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
QUEUED = "queued"
SCRAPPED = "scrapped"
STATUS = "status"

JOB_EVENTS: tuple[str, ...] = (
    ASSIGNED,
    REROUTED,
    UNASSIGNED,
    STARTED,
    PAUSED,
    RESUMED,
    COMPLETED,
    FAILED,
    CANCELLED,
    QUEUED,
    SCRAPPED,
    STATUS,
)
"""What a job entry can say (``status``: a status this console does not know, shown as it is)."""

_ON_MACHINE = frozenset({STARTED, PAUSED, RESUMED, COMPLETED, FAILED, CANCELLED, SCRAPPED})
"""Job events also entered in the timeline of the machine the job is on."""

_WAITING = frozenset({"queued", "assigned"})

_STATUS_EVENT = {"completed": COMPLETED, "failed": FAILED, "cancelled": CANCELLED, "paused": PAUSED}


class TimelineEntry:
    """One thing that happened to a subject.

    ``event`` says what (:data:`STATE`, :data:`DRAINING` or one of :data:`JOB_EVENTS`), ``value`` the new state or
    status where there is one (the new node of a placement or reroute), ``summary`` the words, ``ref`` the other
    subject it concerns (a machine's entry about a job names the job; a job's entry about a machine names the
    machine), ``was`` the machine or node it left (a reroute), ``who`` the operator where the object names one
    (``paused_by``)."""

    __slots__ = ("at", "event", "kept", "ref", "subject", "summary", "value", "was", "who")

    def __init__(
        self,
        subject: Subject,
        at: datetime,
        event: str,
        summary: str,
        *,
        value: str | None = None,
        ref: Subject | None = None,
        was: Subject | None = None,
        who: str | None = None,
    ) -> None:
        self.subject = subject
        self.at = at
        self.event = event
        self.summary = summary
        self.value = value
        self.ref = ref
        self.was = was
        self.who = who
        self.kept = True
        """Still in its subject's ring (``False`` once a cap dropped it)."""

    def __repr__(self) -> str:
        return f"TimelineEntry({self.subject}, {self.at.isoformat()}, {self.event}, {self.summary!r})"


class Timeline:
    """The per-subject rings, and the global FIFO that bounds them all (see the module docstring)."""

    def __init__(self, per_subject: int = PER_SUBJECT, total: int = TOTAL) -> None:
        self.per_subject = max(1, per_subject)
        self.total = max(1, total)
        self.version = 0
        """Grows with every entry: a screen compares it to know whether to read again."""
        self.dropped = 0
        """Entries dropped by the global cap (a subject's own cap drops silently: its ring says how far it reaches)."""
        self._rings: dict[Subject, list[TimelineEntry]] = {}
        """Each subject's ring, a list: most subjects have one or two entries, and an empty ``deque`` alone takes
        ~620 bytes (a 64-slot block) against a one-entry list's 64 (8,000 subjects: 6.2 MB -> 0.5 MB). Dropping the
        oldest of up to ``per_subject`` (500) entries is a short memmove."""
        self._order: deque[TimelineEntry] = deque()

    # --- reading --------------------------------------------------------------------------------------------------

    def entries(self, subject: Subject) -> list[TimelineEntry]:
        """A subject's kept entries, oldest first."""
        ring = self._rings.get(subject)
        return [] if ring is None else list(ring)

    def subjects(self) -> Iterator[Subject]:
        return iter(self._rings)

    def __iter__(self) -> Iterator[TimelineEntry]:
        """Every kept entry, in the order they were recorded (across subjects: for a handover)."""
        return (entry for entry in self._order if entry.kept)

    def __len__(self) -> int:
        """Entries kept (O(subjects))."""
        return sum(len(ring) for ring in self._rings.values())

    # --- writing --------------------------------------------------------------------------------------------------

    def add(self, entry: TimelineEntry) -> None:
        rings = self._rings
        ring = rings.get(entry.subject)
        if ring is None:
            ring = rings[entry.subject] = []
        elif len(ring) >= self.per_subject:
            ring.pop(0).kept = False
        ring.append(entry)
        order = self._order
        order.append(entry)
        if len(order) > self.total:
            old = order.popleft()
            if old.kept:
                old.kept = False
                held = rings[old.subject]
                del held[0]  # a ring loses only its oldest: a kept entry older than all others is at its head
                self.dropped += 1
                if not held:
                    del rings[old.subject]
        self.version += 1

    def machine(self, old: Machine | None, new: Machine, now: Callable[[], datetime]) -> str | None:
        """Record what changed from ``old`` to ``new``; returns the state change's words (for the recent events)."""
        subject = ("machine", new.id)
        if old is None:
            if new.state not in _NORMAL_STATES:  # "since when" is the first thing on-call asks of a machine in fault
                words = f"{new.state} when first seen" + (f" [{new.fault_code}]" if new.fault_code else "")
                words += f": {new.state_reason}" if new.state_reason else ""
                who = new.paused_by if new.state == "paused" else None
                self.add(TimelineEntry(subject, new.state_since, STATE, words, value=new.state, who=who))
            return None
        said: str | None = None
        if old.state != new.state:
            said = f"{old.state} → {new.state}"
            if new.fault_code:
                said += f" [{new.fault_code}]"
            if new.state_reason:
                said += f": {new.state_reason}"
            who = new.paused_by if new.state == "paused" else None
            summary = said if who is None or who in said else f"{said} (by {who})"  # the reason may name them
            self.add(TimelineEntry(subject, new.state_since, STATE, summary, value=new.state, who=who))
        if old.draining != new.draining:
            at = max(now(), new.last_seen)
            words = "draining: finishes its job, then takes no more" if new.draining else "no longer draining"
            self.add(TimelineEntry(subject, at, DRAINING, words, value=str(new.draining).lower(), who=new.paused_by))
        return said

    def node(self, old: Node | None, new: Node, now: Callable[[], datetime]) -> None:
        if old is None or old.state == new.state:
            return
        at = max(now(), new.last_seen)
        summary = f"{old.state} → {new.state}"
        self.add(TimelineEntry(("node", new.id), at, STATE, summary, value=new.state))

    def job(self, old: Job | None, new: Job, now: Callable[[], datetime], machines: dict[str, Machine]) -> None:
        """Record what changed from ``old`` to ``new`` (``machines``: the shown machines, for their ``last_seen``)."""
        if old is None:  # first seen (a snapshot, or a new job): its created_at says when it came (the view shows it)
            if new.status in FIRST_SIGHT_STATUSES:  # ... but not that it was already held, as a machine's would
                where = _place(new.machine_id, new.node_id)
                words = f"{new.status} when first seen" + (f" on {where}" if new.machine_id or new.node_id else "")
                at = _when(now, machines, new.machine_id)
                self.add(TimelineEntry(("job", new.id), at, STATUS, words, value=new.status, ref=_ref(new)))
            return
        status = new.status
        placed = old.machine_id != new.machine_id or old.node_id != new.node_id
        if not placed and old.status == status and new.scrap_qty <= old.scrap_qty:
            return  # progress, an ETA, a queue position: not history
        at = _when(now, machines, new.machine_id or old.machine_id)
        if new.scrap_qty > old.scrap_qty:  # before a move: a restart scraps the part on the machine it leaves
            extra = new.scrap_qty - old.scrap_qty
            words = f"scrapped {extra} (scrap {new.scrap_qty}, done {new.done_qty})"
            self._job_event(new, at, SCRAPPED, words, on=old if placed else new)
        if placed:
            self._placed(old, new, at)
        if old.status != status and not (placed and status in _WAITING):
            self._status(old, new, at)  # (waiting where it was placed: the placement says so)

    # --- how job entries are made ---------------------------------------------------------------------------------

    def _placed(self, old: Job, new: Job, at: datetime) -> None:
        subject = ("job", new.id)
        ref = _ref(new)
        was = _ref(old)
        before, after = _place(old.machine_id, old.node_id), _place(new.machine_id, new.node_id)
        if old.machine_id and new.machine_id and old.node_id == new.node_id:
            before = old.machine_id  # on the same node: say the node once (``M-1 → M-2 (node N-1)``)
        node = new.node_id
        if was is None:
            self.add(TimelineEntry(subject, at, ASSIGNED, f"placed on {after}", value=node, ref=ref))
            return
        if ref is None:
            self.add(TimelineEntry(subject, at, UNASSIGNED, f"taken off {before} (back to the backlog)", was=was))
            return
        self.add(TimelineEntry(subject, at, REROUTED, f"rerouted {before} → {after}", value=node, ref=ref, was=was))
        if old.machine_id and old.machine_id != new.machine_id:
            summary = f"job {new.id} rerouted away to {after}"
            self.add(TimelineEntry(("machine", old.machine_id), at, REROUTED, summary, ref=("job", new.id)))
        if new.machine_id and old.machine_id != new.machine_id:
            summary = f"job {new.id} rerouted here from {before}"
            self.add(TimelineEntry(("machine", new.machine_id), at, REROUTED, summary, ref=("job", new.id)))

    def _status(self, old: Job, new: Job, at: datetime) -> None:
        status = new.status
        if status == "running":
            event = RESUMED if old.status == "paused" else STARTED
        elif status in _WAITING:
            event = QUEUED
        else:
            event = _STATUS_EVENT.get(status, STATUS)
        where = _place(new.machine_id, new.node_id)
        if event == STARTED:
            words = f"started on {where}" if where else "started"
        elif event == COMPLETED:
            words = f"completed: {new.done_qty}/{new.quantity} done, {new.scrap_qty} scrapped"
        elif event == FAILED:
            words = f"failed: {new.done_qty}/{new.quantity} done, {new.scrap_qty} scrapped"
        elif event in (STATUS, QUEUED):
            words = f"{old.status} → {status}"
        else:
            words = event
        self._job_event(new, at, event, words, value=status)

    def _job_event(
        self, job: Job, at: datetime, event: str, words: str, *, value: str | None = None, on: Job | None = None
    ) -> None:
        """An entry for the job, and for the machine it is ``on`` (``on``: the job as it was there; default ``job``)."""
        where = job if on is None else on
        self.add(TimelineEntry(("job", job.id), at, event, words, value=value, ref=_ref(where)))
        machine_id = where.machine_id
        if event in _ON_MACHINE and machine_id:
            summary = f"job {job.id} {words}"
            self.add(TimelineEntry(("machine", machine_id), at, event, summary, value=value, ref=("job", job.id)))


FIRST_SIGHT_STATUSES = frozenset({"paused", "failed"})
"""A job first seen so gets an entry (when the console first saw it: a job carries no "since")."""

_NORMAL_STATES = frozenset({"running", "idle"})
"""States a machine's first sight does not enter: every other one says since when it has been so."""


def _ref(job: Job) -> Subject | None:
    if job.machine_id:
        return ("machine", job.machine_id)
    if job.node_id:
        return ("node", job.node_id)
    return None


def _place(machine_id: str | None, node_id: str | None) -> str:
    """``M-07 (node N-LDS)``, ``node N-LDS``, or ``the backlog``."""
    if machine_id:
        return f"{machine_id} (node {node_id})" if node_id else machine_id
    if node_id:
        return f"node {node_id}"
    return "the backlog"


def _when(now: Callable[[], datetime], machines: dict[str, Machine], machine_id: str | None) -> datetime:
    """When the store heard of a change, but not before the last update of the machine concerned."""
    at = now()
    machine = machines.get(machine_id) if machine_id else None
    if machine is not None and machine.last_seen > at:
        return machine.last_seen
    return at
