"""A cluster source's bootstrap buffer: the stream's messages kept raw while the snapshot loads, and the signal that
the stream cannot be continued.

Apart from ``console.sources.cluster`` so that module keeps to the loop itself (snapshot, stream, reconnect); these
are the pieces it shares with its bootstrap (``ClusterSource._load`` drains a :class:`Boot` after the snapshot).
"""

from __future__ import annotations

import asyncio

from console.api.models import Cluster, Node
from console.api.sse import Reset, SseMessage, parse_sse

__all__ = ["BOOT_BUFFER_BYTES", "BOOT_BUFFER_EVENTS", "Boot", "Resync", "slices"]

BOOT_BUFFER_EVENTS = 1_000_000
BOOT_BUFFER_BYTES = 128 * 1024 * 1024
"""How much of the stream a bootstrap buffers while its snapshot loads; the bytes (of the events' data) bind first.

Why these: a 100,000-machine cluster's snapshot (~190 MB of JSON) took 40-60 s from request to applied under load
while its stream ran at ~5,000 events/s, and the old cap of 250,000 events (~52 MB of data there) was full before
the snapshot came, every time: the console resynced in a loop and never went live (docs/performance.md section 9).
128 MB of data is ~600,000 such events (~2 minutes of that stream); the event cap only bounds a stream of tiny
events (a million at most)."""


class Resync(Exception):
    """Internal: the stream cannot be continued; fetch a snapshot."""


class Boot:
    """The stream's messages while the snapshot loads: raw (cheap; the ones the snapshot covers are never parsed)."""

    __slots__ = (
        "after",
        "buffering",
        "cluster",
        "instance_id",
        "max_bytes",
        "max_events",
        "messages",
        "preview_nodes",
        "size",
        "stream_task",
    )

    def __init__(self, cluster: Cluster, max_events: int, max_bytes: int) -> None:
        self.cluster = cluster
        self.after = cluster.seq
        self.instance_id = cluster.instance_id
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.messages: list[SseMessage] = []
        self.size = 0
        self.buffering = True
        self.stream_task: asyncio.Task[None] | None = None
        self.preview_nodes: asyncio.Task[list[Node]] | None = None
        """The nodes, asked for beside ``GET /v1/cluster`` for a preview (``console.sources.cluster_preview``)."""

    def add(self, batch: list[SseMessage]) -> None:
        size = self.size
        for message in batch:
            size += len(message[2])
            if message[1] == "reset":  # no use waiting for the snapshot: the stream is already lost
                item = parse_sse(*message)
                if isinstance(item, Reset):
                    raise Resync(f"server reset to seq {item.seq} (instance {item.instance_id}) while bootstrapping")
        self.size = size
        self.messages.extend(batch)
        if len(self.messages) > self.max_events or size > self.max_bytes:
            raise Resync(
                f"bootstrap buffer full ({len(self.messages)} events, {size // 1024} KiB) before the snapshot came"
            )


def slices(items: list[SseMessage], size: int) -> list[list[SseMessage]]:
    """``items`` in slices of at most ``size`` (the loop gets a turn between slices)."""
    if len(items) <= size:
        return [items]
    return [items[i : i + size] for i in range(0, len(items), size)]
