"""The recorder: a tap on the store's inputs and on the command outcomes, feeding a writer thread.

On the store's thread (the app's asyncio loop) each tap call does only cheap things: read the server clock once,
slice the events just applied (references, no copy of an object), append a :class:`~console.recording.format.Record`
to a deque. Everything dear (serialising, compressing, writing) happens on the writer thread
(:mod:`console.recording.writer`). The queue is bounded in events: when the writer falls behind by more than
``RecordingSpec.queue_events``, new records are dropped and counted (the recording has a gap, the console loses
nothing and never waits), and the next record that fits is preceded by a checkpoint, so a replay goes on from a
consistent state after the gap.

Checkpoints are captured here too, on the store's thread (references to the replicas' objects and a copy of the
telemetry values, the one table changed in place), at the start, then every ``checkpoint_s`` wall seconds or
``checkpoint_events`` events, whichever comes first, once the batches since the last one weigh
``checkpoint_share`` times its size.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.api.models import AuditEntry, Snapshot
from console.api.sse import MalformedEvent
from console.recording.database import WriteConnection
from console.recording.format import AUDIT, EVENTS, MALFORMED, OUTCOME, SNAPSHOT, STATE, Record, StateChange, to_epoch
from console.recording.ring import RecordingSpec, prune_ring_folder, ring_file_name
from console.recording.writer import Capture, Writer

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = ["Recorder"]

PRUNE_AFTER_S = 5.0
"""The ring's old files are deleted this long after the start: off the path to the first frame."""

log = logging.getLogger(__name__)

SMALL_CHECKPOINT = 1_000_000
"""Bytes under which a checkpoint is cheap whatever the events around it weigh (a cluster of a few hundred
machines): it comes on time and count alone, and keeps seeks short."""


class Recorder:
    """Records what ``store`` receives, per ``spec``; see the module docstring. ``clock`` is the server's time (the
    session's estimate; ``None`` before any server has spoken); ``monotonic`` and ``wall`` are injectable for tests
    and benchmarks."""

    def __init__(
        self,
        spec: RecordingSpec,
        store: Store,
        clock: Callable[[], datetime | None],
        *,
        app_version: str = "",
        on_problem: Callable[[str], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        if spec.file is not None:
            self.path = spec.file
        else:
            assert spec.ring_dir is not None
            self.path = Path(spec.ring_dir) / ring_file_name()
        self.store = store
        self._clock = clock
        self._monotonic = monotonic
        self._wall = wall
        self._app_version = app_version
        self._queue: deque[Record | Capture] = deque()
        self._writer = Writer(
            WriteConnection(self.path), self._queue, retention_s=spec.retention_s, wall=wall, on_failure=on_problem
        )
        self._on = False
        self._enqueued = 0
        """Events (and snapshot objects) queued; written on the store's thread only."""
        self._cap = spec.queue_events
        self._next_checkpoint = 0.0
        self._events_since = 0
        self._resync = False
        self._captures = 0
        self.dropped = 0
        """Events (and snapshot objects) left out of the recording because the writer was behind."""

    # --- life -----------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the file (raises ``RecordingUnavailable`` with one line), take a first checkpoint, start the writer
        and tap the store."""
        self._writer.connection.open(app_version=self._app_version, started_wall=self._wall())
        if self.spec.ring_dir is not None and self.spec.retention_s is not None:
            # Later, in a thread of its own: it stats and lock-tests every ring file (a day of starts can be
            # hundreds: 0.15 s on the path to the first frame, issue 15), and deletes only files no console writes.
            args = (Path(self.spec.ring_dir), self.spec.retention_s)
            kwargs = {"keep": self.path, "now": self._wall()}
            prune = threading.Timer(PRUNE_AFTER_S, prune_ring_folder, args=args, kwargs=kwargs)
            prune.daemon = True
            prune.start()
        self._capture()
        self._writer.start()
        self._on = True
        self.store.add_tap(self)

    def detach(self) -> None:
        """Stop tapping the store (on the store's thread; what is queued is still written)."""
        self._on = False
        self.store.remove_tap(self)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop tapping, write what is queued and close the file (waits at most ``timeout`` seconds)."""
        if self._on:
            self.detach()
        self._writer.stop(timeout)

    @property
    def problem(self) -> str | None:
        """Why recording stopped (one line), or ``None`` while it works."""
        return self._writer.failed

    @property
    def writer(self) -> Writer:
        return self._writer

    @property
    def backlog(self) -> int:
        """Events queued and not yet taken by the writer."""
        return self._enqueued - self._writer.dequeued

    # --- the taps (the store's thread) ----------------------------------------------------------------------------

    def _now(self) -> float:
        """The server's time now, or ``nan`` before the console knows it (the writer dates it then)."""
        now = self._clock()
        return math.nan if now is None else to_epoch(now)

    def _room(self, size: int) -> bool:
        """Whether ``size`` more fit the queue (a drop is counted and makes the next record a checkpoint's)."""
        if not self._on or self._writer.failed is not None:
            return False
        if self._enqueued - self._writer.dequeued + size > self._cap:
            self.dropped += size
            self._resync = True
            return False
        if self._resync:
            self._resync = False
            self._capture(after_gap=True)
        elif self._checkpoint_due():
            self._capture()
        self._enqueued += size
        return True

    def snapshot(self, source_id: str, snapshot: Snapshot) -> None:
        size = 1 + len(snapshot.machines) + len(snapshot.jobs)
        if self._room(size):
            t = to_epoch(snapshot.cluster.server_time)  # the server's own time: the clock follows it only later
            self._queue.append(Record(SNAPSHOT, source_id, t, snapshot.seq, snapshot))

    def events(self, source_id: str, items: list[Any], start: int, end: int) -> None:
        size = end - start
        if self._room(size):
            self._events_since += size
            self._queue.append(Record(EVENTS, source_id, self._now(), items[start].seq, items[start:end]))

    def source_state(self, source_id: str, state: str, reason: str | None) -> None:
        if self._room(1):
            status = self.store.sources.get(source_id)
            kind = status.kind if status is not None else "unknown"
            seq = status.seq if status is not None else None
            change = StateChange(kind, str(state), reason)
            self._queue.append(Record(STATE, source_id, self._now(), seq, change))

    def malformed(self, source_id: str, item: MalformedEvent) -> None:
        if self._room(1):
            self._queue.append(Record(MALFORMED, source_id, self._now(), item.seq, item))

    def audit_page(self, source_id: str, entries: list[AuditEntry]) -> None:
        if self._room(len(entries)):
            status = self.store.sources.get(source_id)
            self._queue.append(Record(AUDIT, source_id, self._now(), status.seq if status else None, list(entries)))

    def command(self, outcome: Any) -> None:
        """A command's outcome (a ``CommandOutcome``), from the session."""
        if not self._room(1):
            return
        command = outcome.command
        source = outcome.source or ""
        status = self.store.sources.get(source)
        payload = {
            "action": command.action,
            "target": command.target_id,
            "outcome": outcome.outcome,
            "detail": outcome.detail,
            "code": outcome.code,
            "status": outcome.status,
            "audit_id": outcome.audit_id,
            "reason": command.reason,
        }
        self._queue.append(Record(OUTCOME, source, self._now(), status.seq if status else None, payload))

    # --- checkpoints ----------------------------------------------------------------------------------------------

    def _checkpoint_due(self) -> bool:
        """Every ``checkpoint_s`` or ``checkpoint_events``; a checkpoint over :data:`SMALL_CHECKPOINT` not before the
        batches since weigh ``checkpoint_share`` times it (a cluster of 20,000 machines checkpoints ~6 MB: it would
        otherwise be most of the file, and replaying events that weigh less costs no more than reading it)."""
        if self._events_since < self.spec.checkpoint_events and self._monotonic() < self._next_checkpoint:
            return False
        writer = self._writer
        if writer.checkpoints_written < self._captures:
            return False  # the last one is still on its way to the file
        last = writer.last_checkpoint_bytes
        return last <= SMALL_CHECKPOINT or writer.bytes_since_checkpoint >= self.spec.checkpoint_share * last

    def _capture(self, *, after_gap: bool = False) -> None:
        """Queue the whole state now (see the module docstring)."""
        store = self.store
        sources: list[dict[str, Any]] = []
        objects = 0
        for source_id, status in store.sources.items():
            replica = store.replica(source_id)
            snapshot = None
            if replica is not None and replica.cluster is not None and status.seq is not None:
                snapshot = {
                    "seq": status.seq,
                    "cluster": replica.cluster,
                    "nodes": list(replica.nodes.values()),
                    "machines": list(replica.machines.values()),
                    "telemetry": {machine_id: dict(values) for machine_id, values in replica.telemetry.items()},
                    "jobs": list(replica.jobs.values()),
                    "alerts": list(replica.alerts.values()),
                    "quality": list(replica.quality.values()),
                }
                objects += len(replica.machines) + len(replica.jobs)
            state = {"id": source_id, "kind": status.kind, "state": str(status.state), "reason": status.reason}
            sources.append({**state, "seq": status.seq, "snapshot": snapshot})
        self._queue.append(Capture(self._now(), sources, list(store.audit), after_gap, objects))
        self._captures += 1
        self._enqueued += objects
        self._events_since = 0
        self._next_checkpoint = self._monotonic() + self.spec.checkpoint_s
