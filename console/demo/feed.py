"""``EventFeed``: numbers a simulation's events for one view and keeps the recent ones for resume.

The simulation emits unnumbered events; each server (the cluster API, or one node agent) publishes its own stream,
so each has its own feed with its own ``seq`` (one more per published event) and its own ``instance_id`` (new for
every feed, so a restarted server is recognised as a new history). The feed keeps the last ``history`` events in a
ring buffer: a client resuming within it gets every event it missed, none twice; one asking for older events, or
for a ``seq`` this feed never issued, is told to start over (``reset``).

The feed also folds its own events into a :class:`~console.demo.state.ServedState` (``feed.state``), seeded from
its view when it starts: the reads and the snapshot serve that, so what a server shows at ``seq`` N is exactly what
its first N events said (a client folding the stream ends equal to a fresh snapshot).

The feed also wakes the SSE streams waiting for new events. It is driven by the simulation's callbacks, which run on
the server's event loop thread (the ticker task, or a command handler); a callback from another thread is handed to
the loop so waiters are woken safely.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from typing import Any

from console.api.models import EVENT_MODELS, Cluster, ResetData
from console.demo.state import ServedState
from console.demo.text import is_scalar_text, scrub, scrubbed_model
from console.demo.views import NodeView, View

log = logging.getLogger(__name__)

DEFAULT_HISTORY = 10_000
DEFAULT_HISTORY_S = 0.0
"""The feed's own default time floor: none (tests provoke ``reset`` with a small ``history``). The demo-server's
command line keeps 30 s (``factory-console demo-server --history-seconds``)."""
DEFAULT_HISTORY_MAX_BYTES = 256 * 1024 * 1024
"""The time floor's memory bound: frames plus ~120 bytes of bookkeeping per event."""
EVENT_OVERHEAD_BYTES = 120
_COMPACT_AT = 4096


class FeedEvent:
    """One numbered event: its ``seq``, type, its SSE frame ready to send, and when it was published (monotonic)."""

    __slots__ = ("at", "frame", "seq", "type")

    def __init__(self, seq: int, type_: str, frame: bytes, at: float = 0.0) -> None:
        self.seq = seq
        self.type = type_
        self.frame = frame
        self.at = at

    def __repr__(self) -> str:
        return f"FeedEvent(seq={self.seq}, type={self.type!r})"

    @property
    def data(self) -> str:
        """The event's JSON ``data``."""
        return self.frame.decode().split("\ndata: ", 1)[1].rstrip("\n")

    @property
    def payload(self) -> Any:
        """The payload, parsed from the frame (its model for a known event type, else plain JSON). Not kept: the
        history holds tens of thousands of events, and only tests look at payloads."""
        model = EVENT_MODELS.get(self.type)
        data = self.data
        return model.model_validate_json(data) if model is not None else json.loads(data)


class EventRing:
    """The kept events, oldest first, in a list with a moving head (slicing recent events is O(returned), unlike a
    deque's ``islice`` which walks from the left end)."""

    __slots__ = ("_head", "_items", "bytes")

    def __init__(self) -> None:
        self._items: list[FeedEvent] = []
        self._head = 0
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._items) - self._head

    def __bool__(self) -> bool:
        return len(self._items) > self._head

    def append(self, event: FeedEvent) -> None:
        self._items.append(event)
        self.bytes += len(event.frame) + EVENT_OVERHEAD_BYTES

    def oldest(self) -> FeedEvent:
        return self._items[self._head]

    def pop_oldest(self) -> None:
        event = self._items[self._head]
        self.bytes -= len(event.frame) + EVENT_OVERHEAD_BYTES
        self._head += 1
        if self._head >= _COMPACT_AT and self._head * 2 >= len(self._items):
            del self._items[: self._head]
            self._head = 0

    def slice(self, start: int, stop: int | None) -> list[FeedEvent]:
        """Events ``start`` to ``stop`` (indexes from the oldest kept)."""
        end = len(self._items) if stop is None else min(len(self._items), self._head + stop)
        return self._items[self._head + start : end]


def sse_frame(type_: str, data_json: str, seq: int | None = None) -> bytes:
    """One SSE event: ``id: <seq>`` (when given), ``event: <type>``, ``data: <json>``, then a blank line."""
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {type_}\ndata: {data_json}\n\n".encode()


class EventFeed:
    """The numbered event history of one view of a simulation.

    ``EventFeed(sim)`` serves the whole cluster; ``EventFeed(sim, node_id="N-1")`` one node (a node agent); or pass
    a ready ``view``. ``history`` is how many events are kept for resume (at least 10,000 in production; tests set
    it small to provoke ``reset``); ``history_s`` keeps every event younger than that too, within
    ``history_max_bytes`` (see the module docstring).
    """

    def __init__(
        self,
        sim: Any,
        *,
        node_id: str | None = None,
        view: View | None = None,
        history: int = DEFAULT_HISTORY,
        instance_id: str | None = None,
        history_s: float = DEFAULT_HISTORY_S,
        history_max_bytes: int = DEFAULT_HISTORY_MAX_BYTES,
    ) -> None:
        if history < 1:
            raise ValueError("history must be at least 1")
        if history_s < 0:
            raise ValueError("history_s must not be negative")
        self.sim = sim
        self.view: View = view or (NodeView(sim, node_id) if node_id is not None else View(sim))
        self.history = history
        self.history_s = history_s
        self.history_max_bytes = history_max_bytes
        self.instance_id = instance_id or uuid.uuid4().hex
        self.seq = 0
        self._ring = EventRing()
        self._waiters: set[asyncio.Event] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        # The objects as this feed's events describe them, seeded now (seq 0): reads and snapshots serve from it.
        self.state = ServedState.seeded(self.view)
        self._unsubscribe = sim.subscribe(self._on_sim_event)

    @property
    def node_id(self) -> str | None:
        return self.view.node_id

    def close(self) -> None:
        """Stop listening to the simulation (the history stays readable)."""
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if callable(unsubscribe):
            unsubscribe()

    # --- publishing ------------------------------------------------------------------------------------------------

    def _on_sim_event(self, type_: str, payload: Any) -> None:
        for out_type, out_payload in self.view.translate(str(type_), payload):
            self.publish(out_type, out_payload)

    def publish(self, type_: str, payload: Any) -> FeedEvent:
        """Number one event, keep it, and wake the streams. A ``Cluster`` payload gets this feed's seq and instance.

        Never fails on the payload's text: a string that is not valid Unicode (a lone surrogate, which JSON cannot
        carry as UTF-8) is published, folded and served with U+FFFD in its place, so one bad string cannot break the
        stream, the snapshot or a command half-way through its effects."""
        seq = self.seq + 1
        if isinstance(payload, Cluster):
            payload = payload.model_copy(update={"seq": seq, "instance_id": self.instance_id})
        if hasattr(payload, "model_dump_json"):
            try:
                data = payload.model_dump_json()
            except (ValueError, UnicodeError):  # text that is not valid Unicode (a lone surrogate): never a 500
                log.warning("a %s event holds text that is not valid Unicode; published with U+FFFD", type_)
                payload = scrubbed_model(payload)
                data = payload.model_dump_json()
            self.state.apply(str(type_), payload, data.encode())
        else:
            data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
            if not is_scalar_text(data):
                data = json.dumps(scrub(payload), separators=(",", ":"), ensure_ascii=False)
        now = time.monotonic()
        event = FeedEvent(seq, str(type_), sse_frame(str(type_), data, seq), now)
        ring = self._ring
        ring.append(event)
        if len(ring) > self.history:
            self._trim(now)
        self.seq = seq
        self._wake()
        return event

    def _trim(self, now: float) -> None:
        """Drop the oldest events beyond ``history`` that are older than ``history_s`` (or over the memory bound)."""
        ring, keep, oldest_kept = self._ring, self.history, now - self.history_s
        while len(ring) > keep and (ring.oldest().at < oldest_kept or ring.bytes > self.history_max_bytes):
            ring.pop_oldest()

    @property
    def history_bytes(self) -> int:
        """About how much memory the kept events take (frames and bookkeeping)."""
        return self._ring.bytes

    # --- reading ---------------------------------------------------------------------------------------------------

    @property
    def oldest_seq(self) -> int:
        """The ``seq`` of the oldest event kept (``seq + 1`` when none is kept yet)."""
        return self._ring.oldest().seq if self._ring else self.seq + 1

    def can_resume(self, after: int) -> bool:
        """Whether every event after ``after`` is still here (and ``after`` is not ahead of the current ``seq``)."""
        return self.oldest_seq - 1 <= after <= self.seq

    def events_after(self, after: int, limit: int | None = None) -> list[FeedEvent] | None:
        """The events after ``after`` (at most ``limit``), oldest first; ``None`` when that history is not kept."""
        if not self.can_resume(after):
            return None
        start = after - self.oldest_seq + 1
        return self._ring.slice(start, None if limit is None else start + limit)

    def reset_frame(self) -> bytes:
        """The ``reset`` event a stream sends when it cannot resume (no ``id``: it is not part of the history)."""
        return sse_frame("reset", ResetData(seq=self.seq, instance_id=self.instance_id).model_dump_json())

    # --- waking streams --------------------------------------------------------------------------------------------

    def add_waiter(self, event: asyncio.Event) -> None:
        """Have ``event`` set whenever something is published. Call it on the server's loop."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop_thread = threading.get_ident()
        self._waiters.add(event)

    def remove_waiter(self, event: asyncio.Event) -> None:
        self._waiters.discard(event)

    def _wake(self) -> None:
        if not self._waiters:
            return
        if self._loop is not None and threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self._set_waiters)
        else:
            self._set_waiters()

    def _set_waiters(self) -> None:
        for waiter in tuple(self._waiters):
            waiter.set()
