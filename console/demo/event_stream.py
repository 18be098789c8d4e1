"""The SSE stream of ``GET /v1/events``: replay from the ring, then live, with keep-alives and resets.

A stream starts after a ``seq`` (``Last-Event-ID`` or ``?after=``; without one, after the current ``seq``: "from
now"), sends every kept event after it in order, then waits for more. When its position is no longer in the ring
(asked for too old a ``seq``, a ``seq`` ahead of the feed, or it fell behind while connected), it sends one
``reset`` and ends. When nothing was sent for ``keepalive_s`` it sends a ``: ka`` comment.

:class:`StreamHub` tracks the open streams of one server so they can all be cut at once (``drop_all``: tests of
resume, and a clean shutdown, since uvicorn waits for open responses to finish).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from console.demo.feed import EventFeed

KEEPALIVE_FRAME = b": ka\n\n"
BATCH = 500
"""At most this many events are joined into one write, so a long replay still yields to the loop."""


class StreamHandle:
    """One open stream: the event that wakes it, and whether the server cut it."""

    __slots__ = ("dropped", "wakeup")

    def __init__(self) -> None:
        self.wakeup = asyncio.Event()
        self.dropped = False

    def drop(self) -> None:
        self.dropped = True
        self.wakeup.set()


class StreamHub:
    """The open SSE streams of one server."""

    def __init__(self) -> None:
        self._streams: set[StreamHandle] = set()
        self.closed = False

    def __len__(self) -> int:
        return len(self._streams)

    def open(self) -> StreamHandle:
        handle = StreamHandle()
        if self.closed:
            handle.dropped = True
        self._streams.add(handle)
        return handle

    def release(self, handle: StreamHandle) -> None:
        self._streams.discard(handle)

    def drop_all(self) -> int:
        """End every open stream (each sends what it has and returns). Returns how many were open."""
        handles = tuple(self._streams)
        for handle in handles:
            handle.drop()
        return len(handles)

    def close(self) -> None:
        """Drop every stream and end new ones at once (server shutting down)."""
        self.closed = True
        self.drop_all()


async def event_stream(
    feed: EventFeed, hub: StreamHub, after: int | None, *, keepalive_s: float = 15.0
) -> AsyncIterator[bytes]:
    """The byte chunks of one SSE response (see the module docstring)."""
    handle = hub.open()
    feed.add_waiter(handle.wakeup)
    try:
        position = feed.seq if after is None else after
        last_write = time.monotonic()
        while not handle.dropped:
            handle.wakeup.clear()
            events = feed.events_after(position, BATCH)
            if events is None:
                yield feed.reset_frame()
                return
            if events:
                position = events[-1].seq
                last_write = time.monotonic()
                yield b"".join(e.frame for e in events)
                continue
            remaining = keepalive_s - (time.monotonic() - last_write)
            if remaining <= 0:
                last_write = time.monotonic()
                yield KEEPALIVE_FRAME
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(handle.wakeup.wait(), remaining)
    finally:
        feed.remove_waiter(handle.wakeup)
        hub.release(handle)
