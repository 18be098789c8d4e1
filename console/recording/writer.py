"""The recorder's writer thread: serialises, compresses and writes what the taps queued, off the console's loop.

It wakes every :data:`FLUSH_S` (or when told to stop), takes everything queued, and writes it as batches of the
current segment (:mod:`console.recording.codec`), a checkpoint whenever one was captured (it then starts a new
segment), and the marks found on the way, in one transaction. Every :data:`PRUNE_EVERY_S` it deletes what is older
than the retention. Any failure (no space left, the file made read-only or deleted under it) stops recording for
good: the problem is reported once, through ``on_failure``, and the console goes on.

Server times are kept from going back within a recording (a snapshot's clock may be a little behind the estimate it
replaces), so batches and checkpoints are ordered by time as they are by id. What was taken before the console knew
the server's time (its first connection states, the first checkpoint) is dated with the first server time that
follows, never with this machine's clock, which may be days away from a server's (a simulator, a wrong NTP).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.api.models import AuditEntry, EventType, Machine
from console.recording.checkpoint import compress_checkpoint, encode_checkpoint
from console.recording.codec import SegmentEncoder
from console.recording.database import WriteConnection, describe_error
from console.recording.format import EVENTS, SNAPSHOT, STATE, Record

__all__ = ["FLUSH_S", "Capture", "Writer"]

log = logging.getLogger(__name__)

FLUSH_S = 1.0
"""How often the writer wakes: at most this much is lost if the process is killed."""
PRUNE_EVERY_S = 60.0
MAX_BATCH_EVENTS = 20_000
_NOTABLE_MACHINE_STATES = frozenset({"fault", "offline"})


@dataclass
class Capture:
    """The whole state at one moment, taken on the store's thread (references and copied telemetry values), to be
    written as a checkpoint by the writer."""

    t: float
    sources: list[dict[str, Any]]
    audit: list[AuditEntry]
    after_gap: bool = False
    objects: int = field(default=0)


class Writer:
    """See the module docstring. ``queue`` is shared with the recorder; only this thread takes from it."""

    def __init__(
        self,
        connection: WriteConnection,
        queue: deque[Record | Capture],
        *,
        retention_s: float | None,
        wall: Callable[[], float] = time.time,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.connection = connection
        self.queue = queue
        self.retention_s = retention_s
        self.wall = wall
        self.on_failure = on_failure
        self.dequeued = 0
        """Events (and snapshot objects) taken from the queue; written by this thread only."""
        self.failed: str | None = None
        self.bytes_written = 0
        self.bytes_since_checkpoint = 0
        """Compressed bytes of the batches written since the last checkpoint (the recorder reads it)."""
        self.last_checkpoint_bytes = 0
        self.events_written = 0
        self.checkpoints_written = 0
        self.rounds = 0
        """Times the writer has taken the queue and written it (tests and benchmarks wait on it)."""
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._encoder = SegmentEncoder()
        self._segment = 0
        self._next_batch = 1
        self._last_t = float("-inf")
        self._last_prune = 0.0
        self._waiting: list[Record | Capture] = []
        """Items taken before any server time was known (see :meth:`_stamp`)."""
        self._machine_states: dict[str, str] = {}
        self._node_states: dict[str, str] = {}

    def start(self) -> None:
        self._next_batch = self.connection.next_batch_id()
        last = self.connection.last_time()
        if last is not None:
            self._last_t = last
        self._thread = threading.Thread(target=self._run, name="recording-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued and close the file (waits at most ``timeout`` seconds)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._thread is None or not self._thread.is_alive():
            self.connection.close()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wake the writer and wait until it has written all that was queued before (tests and benchmarks: the
        recorder never waits for its writer). Whether it did within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        target = self.rounds + 2  # one round may have begun before what was queued last
        self._wake.set()
        while self.rounds < target and time.monotonic() < deadline:
            if self._thread is None or not self._thread.is_alive():
                return False  # stopped, or failed (and has told so)
            time.sleep(0.002)
            self._wake.set()
        return self.rounds >= target

    # --- the thread ---------------------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping:
                self._wake.wait(FLUSH_S)
                self._wake.clear()
                self._drain()
                self._maybe_prune()
                self.rounds += 1
            self._drain(final=True)
        except Exception as error:  # no space, no permission, the file gone: stop recording, keep the console
            self._fail(error)
        finally:
            if self.failed is None:
                self.connection.close()

    def _fail(self, error: BaseException) -> None:
        self.failed = f"recording stopped: {self.connection.path}: {describe_error(error)}"
        log.warning("%s; the console goes on without recording", self.failed)
        self._waiting = []
        while self.queue:  # what will never be written no longer counts as waiting
            item = self.queue.popleft()
            self.dequeued += item.objects if isinstance(item, Capture) else _size(item)
        self.connection.close()
        if self.on_failure is not None:
            try:
                self.on_failure(self.failed)
            except Exception:
                log.exception("recording failure callback failed")

    def _drain(self, final: bool = False) -> None:
        queue = self.queue
        items = self._waiting
        while queue:
            item = queue.popleft()
            self.dequeued += item.objects if isinstance(item, Capture) else _size(item)
            items.append(item)
        if not self._stamp(items, final):
            return  # no server time known yet: they wait for one
        self._waiting = []
        records: list[Record] = []
        count = 0
        for item in items:
            if isinstance(item, Capture):
                self._write(records, item)
                records, count = [], 0
                continue
            records.append(item)
            count += _size(item)
            if count >= MAX_BATCH_EVENTS:
                self._write(records, None)
                records, count = [], 0
        if records:
            self._write(records, None)

    def _stamp(self, items: list[Record | Capture], final: bool) -> bool:
        """Give every item a server time that never goes back. An item taken before the console knew the server's
        time (``nan``: the first states, the first checkpoint) gets the next known one (else the last, else, at the
        very end, this machine's clock); ``False`` while none is known yet."""
        known = [item.t for item in items if not math.isnan(item.t)]
        if not known and math.isinf(self._last_t):
            if not final or not items:
                return False
            known = [self.wall()]
        later = known[0] if known else self._last_t
        for item in reversed(items):  # a nan takes the next known time after it
            if math.isnan(item.t):
                item.t = later
            else:
                later = item.t
        last = self._last_t
        for item in items:
            item.t = last = max(item.t, last)
        return True

    def _write(self, records: list[Record], capture: Capture | None) -> None:
        wall = self.wall()
        batches: list[tuple[int, int, float, float, float, int, int, bytes]] = []
        marks: list[tuple[float, int, str, str]] = []
        if records:
            self._last_t = max(self._last_t, records[-1].t)
            batch_id = self._next_batch
            blob, events = self._encoder.encode(records)
            batches.append((batch_id, self._segment, records[0].t, records[-1].t, wall, len(records), events, blob))
            marks = self._marks(records, batch_id)
            self._next_batch += 1
            self.bytes_written += len(blob)
            self.bytes_since_checkpoint += len(blob)
            self.events_written += events
        checkpoint = None
        raw = b""
        if capture is not None:
            self._last_t = max(self._last_t, capture.t)
            raw = encode_checkpoint(capture.t, [_with_telemetry(s) for s in capture.sources], capture.audit)
            blob = compress_checkpoint(raw)
            checkpoint = (capture.t, wall, self._next_batch, capture.after_gap, len(raw), blob)
            self.bytes_written += len(blob)
            self.last_checkpoint_bytes, self.bytes_since_checkpoint = len(blob), 0
        checkpoint_id = self.connection.write(batches, checkpoint, marks)
        if checkpoint_id is not None:
            self._segment = checkpoint_id
            self._encoder = SegmentEncoder(raw)
            self.checkpoints_written += 1
            self._note_capture(capture)

    def _maybe_prune(self) -> None:
        if self.retention_s is None:
            return
        now = self.wall()
        if now - self._last_prune < PRUNE_EVERY_S:
            return
        self._last_prune = now
        self.connection.prune(now - self.retention_s)

    # --- marks: what the replay's "next" key jumps to -----------------------------------------------------------

    def _note_capture(self, capture: Capture | None) -> None:
        if capture is None:
            return
        for source in capture.sources:
            snapshot = source.get("snapshot")
            if snapshot is not None:
                self._machine_states.update((m.id, str(m.state)) for m in snapshot["machines"])
                self._node_states.update((n.id, str(n.state)) for n in snapshot["nodes"])

    def _marks(self, records: list[Record], batch_id: int) -> list[tuple[float, int, str, str]]:
        marks: list[tuple[float, int, str, str]] = []
        machines, nodes = self._machine_states, self._node_states
        for record in records:
            if record.kind == STATE:
                change = record.payload
                reason = f" ({change.reason})" if change.reason else ""
                marks.append((record.t, batch_id, "source", _label(f"{record.source_id} {change.state}{reason}")))
            elif record.kind == SNAPSHOT:
                machines.update((m.id, str(m.state)) for m in record.payload.machines)
                nodes.update((n.id, str(n.state)) for n in record.payload.nodes)
            elif record.kind == EVENTS:
                for event in record.payload:
                    label = _event_mark(event.type, event.data, machines, nodes)
                    if label is not None:
                        marks.append((record.t, batch_id, label[0], _label(label[1])))
        return marks


def _label(text: str) -> str:
    """A mark's label as SQLite can store it (text from a server may hold lone surrogates), at most 200 characters."""
    return text[:200].encode("utf-8", "replace").decode("utf-8")


def _size(record: Record) -> int:
    """What a record counts for in the queue's bound (as the recorder counted it)."""
    if record.kind == EVENTS:
        return len(record.payload)
    if record.kind == SNAPSHOT:
        return 1 + len(record.payload.machines) + len(record.payload.jobs)
    return 1


def _event_mark(event_type: str, data: Any, machines: dict[str, str], nodes: dict[str, str]) -> tuple[str, str] | None:
    if event_type == EventType.MACHINE_TELEMETRY:
        return None
    if event_type == EventType.ALERT_RAISED:
        return "alert", f"{data.priority} alert {data.code} on {data.source.kind} {data.source.id}"
    if event_type == EventType.MACHINE_UPDATED:
        state = str(data.state)
        before = machines.get(data.id)
        machines[data.id] = state
        if state != before and state in _NOTABLE_MACHINE_STATES:
            reason = f": {data.state_reason}" if data.state_reason else ""
            return "machine", f"{data.id} {state}{reason}"
        return None
    if event_type == EventType.NODE_UPDATED:
        state = str(data.state)
        before = nodes.get(data.id)
        nodes[data.id] = state
        if before is not None and state != before:
            return "node", f"{data.id} {state}"
    return None


def _with_telemetry(source: dict[str, Any]) -> dict[str, Any]:
    """A captured source whose machines carry their current telemetry (copied on the store's thread)."""
    snapshot = source.get("snapshot")
    if snapshot is None:
        return source
    values: dict[str, dict[str, float]] = snapshot.get("telemetry", {})
    machines: list[Machine] = []
    for machine in snapshot["machines"]:
        current = values.get(machine.id)
        if current is not None and current != machine.telemetry:
            machine = machine.model_copy(update={"telemetry": current})
        machines.append(machine)
    return {**source, "snapshot": {**snapshot, "machines": machines}}
