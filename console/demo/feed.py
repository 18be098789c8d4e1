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
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Any

from console.api.models import Cluster, ResetData
from console.demo.state import ServedState
from console.demo.views import NodeView, View

DEFAULT_HISTORY = 10_000


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One numbered event: its ``seq``, type, payload model, and its SSE frame ready to send."""

    seq: int
    type: str
    payload: Any
    frame: bytes

    @property
    def data(self) -> str:
        """The event's JSON ``data``."""
        return self.frame.decode().split("\ndata: ", 1)[1].rstrip("\n")


def sse_frame(type_: str, data_json: str, seq: int | None = None) -> bytes:
    """One SSE event: ``id: <seq>`` (when given), ``event: <type>``, ``data: <json>``, then a blank line."""
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {type_}\ndata: {data_json}\n\n".encode()


class EventFeed:
    """The numbered event history of one view of a simulation.

    ``EventFeed(sim)`` serves the whole cluster; ``EventFeed(sim, node_id="N-1")`` one node (a node agent); or pass
    a ready ``view``. ``history`` is how many events are kept for resume (at least 10,000 in production; tests set
    it small to provoke ``reset``).
    """

    def __init__(
        self,
        sim: Any,
        *,
        node_id: str | None = None,
        view: View | None = None,
        history: int = DEFAULT_HISTORY,
        instance_id: str | None = None,
    ) -> None:
        if history < 1:
            raise ValueError("history must be at least 1")
        self.sim = sim
        self.view: View = view or (NodeView(sim, node_id) if node_id is not None else View(sim))
        self.history = history
        self.instance_id = instance_id or uuid.uuid4().hex
        self.seq = 0
        self._ring: deque[FeedEvent] = deque(maxlen=history)
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
        """Number one event, keep it, and wake the streams. A ``Cluster`` payload gets this feed's seq and instance."""
        seq = self.seq + 1
        if isinstance(payload, Cluster):
            payload = payload.model_copy(update={"seq": seq, "instance_id": self.instance_id})
        if hasattr(payload, "model_dump_json"):
            data = payload.model_dump_json()
            self.state.apply(str(type_), payload, data.encode())
        else:
            data = json.dumps(payload, separators=(",", ":"))
        event = FeedEvent(seq, str(type_), payload, sse_frame(str(type_), data, seq))
        self._ring.append(event)
        self.seq = seq
        self._wake()
        return event

    # --- reading ---------------------------------------------------------------------------------------------------

    @property
    def oldest_seq(self) -> int:
        """The ``seq`` of the oldest event kept (``seq + 1`` when none is kept yet)."""
        return self._ring[0].seq if self._ring else self.seq + 1

    def can_resume(self, after: int) -> bool:
        """Whether every event after ``after`` is still here (and ``after`` is not ahead of the current ``seq``)."""
        return self.oldest_seq - 1 <= after <= self.seq

    def events_after(self, after: int, limit: int | None = None) -> list[FeedEvent] | None:
        """The events after ``after`` (at most ``limit``), oldest first; ``None`` when that history is not kept."""
        if not self.can_resume(after):
            return None
        start = after - self.oldest_seq + 1
        stop = None if limit is None else start + limit
        return list(islice(self._ring, start, stop))

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
