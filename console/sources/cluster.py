"""The cluster API source: snapshot, then the event stream, then reconnect, forever.

The loop, and why each step is there:

1. ``GET /v1/whoami`` once (the app shows who we are and what we may do).
2. ``GET /v1/snapshot`` -> :meth:`Store.apply_snapshot`: the store now holds everything at ``snapshot.seq``.
3. ``GET /v1/events`` after that ``seq`` -> :meth:`Store.apply_event` for each event.
4. When the stream drops (an error, the server closing it, 45 s of silence), wait (exponential backoff, full jitter,
   never less than a ``Retry-After``) and resume from the last applied ``seq`` with ``Last-Event-ID``: no snapshot
   needed, nothing lost, nothing twice.
5. Only a ``reset`` (the server lost the history we need), a ``GAP`` (an event was skipped), or a new server instance
   sends us back to step 2.

401 and 403 are not worth retrying: the source records ``failed`` with the reason and ends. Every state change goes
into the store (``Store.set_source_state``) with a connection-log line, so the status bar and the connection log view
show what the source is doing and when it tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque

from console.api.client import DEFAULT_SILENCE_TIMEOUT, ClusterClient
from console.api.errors import ClientError, Forbidden, Unauthorized
from console.api.models import Cluster, Event, EventType
from console.api.sse import MalformedEvent, Reset
from console.sources.base import Backoff
from console.store import ApplyOutcome, SourceState, SourceStatus, Store

__all__ = ["ClusterSource"]

log = logging.getLogger(__name__)

YIELD_EVERY = 256
"""Give the event loop (and so the UI) a turn after this many events read without waiting on the network."""


class _Resync(Exception):
    """Internal: the stream cannot be continued; fetch a snapshot."""


class ClusterSource:
    """Feeds ``store`` from one cluster API (or node agent) through ``client``. See the module docstring."""

    def __init__(
        self,
        source_id: str,
        client: ClusterClient,
        store: Store,
        *,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        rng: random.Random | None = None,
        kind: str = "cluster",
        silence_timeout: float = DEFAULT_SILENCE_TIMEOUT,
        stale_after: float = 30.0,
    ) -> None:
        self.source_id = source_id
        self.client = client
        self.store = store
        self.kind = kind
        self.silence_timeout = silence_timeout
        self.stale_after = stale_after
        self.backoff = Backoff(backoff_base, backoff_max, rng)
        self.resyncs = 0
        """How many times the source went back to a snapshot after the first one (for tests and diagnostics)."""
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._down_since: float | None = None
        self._recent_resyncs: deque[float] = deque(maxlen=4)
        # Registered at once, so the status bar shows the source before its loop first runs.
        store.register_source(source_id, kind=kind, url=client.display_url)

    @property
    def status(self) -> SourceStatus:
        return self.store.sources[self.source_id]

    def stop(self) -> None:
        """Stop the loop (from the same event loop); ``run()`` then returns."""
        self._stopping = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def run(self) -> None:
        """Run until cancelled or stopped; returns early only when the server refuses our credentials."""
        self._task = asyncio.current_task()
        self.store.set_source_state(self.source_id, SourceState.CONNECTING)
        try:
            await self._loop()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            self.store.set_source_state(self.source_id, SourceState.STOPPED)

    async def _loop(self) -> None:
        need_snapshot = True
        whoami_done = False
        while not self._stopping:
            try:
                if not whoami_done:
                    self.store.set_whoami(await self.client.whoami(), self.source_id)
                    whoami_done = True
                if need_snapshot:
                    await self._bootstrap()
                    need_snapshot = False
                await self._stream()
            except _Resync as why:
                need_snapshot = True
                self.resyncs += 1
                self.store.log_source(self.source_id, f"resync: {why}")
                await self._pause_if_resyncing_too_often()
            except (Unauthorized, Forbidden) as error:
                self.store.set_source_state(self.source_id, SourceState.FAILED, reason=str(error))
                return
            except ClientError as error:
                await self._retry_later(str(error), getattr(error, "retry_after", None))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a bug or an unexpected answer must not kill the source silently
                log.exception("source %s failed", self.source_id)
                await self._retry_later(f"unexpected error: {type(error).__name__}", None)

    async def _bootstrap(self) -> None:
        if self.status.state != SourceState.CONNECTING:
            self.store.set_source_state(self.source_id, SourceState.CONNECTING, reason="fetching snapshot")
        snapshot = await self.client.snapshot()
        self.store.apply_snapshot(self.source_id, snapshot)
        self.store.log_source(
            self.source_id, f"snapshot at seq {snapshot.seq} (instance {snapshot.cluster.instance_id})"
        )

    def _opened(self) -> None:
        self.backoff.reset()
        self._down_since = None
        self.store.set_source_state(self.source_id, SourceState.LIVE, reason=f"streaming after seq {self.status.seq}")

    async def _stream(self) -> None:
        """Apply the stream until it ends (raises ``StreamLost`` & co) or must resync (raises ``_Resync``)."""
        store, source_id = self.store, self.source_id
        status = self.status
        after = status.seq
        events = self.client.events(after, silence_timeout=self.silence_timeout, on_open=self._opened)
        countdown = YIELD_EVERY
        async with contextlib.aclosing(events) as stream:
            async for item in stream:
                if type(item) is Event:
                    outcome = store.apply_event(source_id, item)
                    if outcome is ApplyOutcome.GAP:
                        raise _Resync(f"gap: got seq {item.seq} after {status.seq}")
                    if outcome is ApplyOutcome.DUPLICATE:
                        # A correct server never repeats a seq after Last-Event-ID; SSE also gives an event without
                        # an id line the previous id. Either way it is not applied, and the operator should see it.
                        reason = f"seq {item.seq} repeated (or an event without an id) after {status.seq}: not applied"
                        store.record_malformed(source_id, MalformedEvent(item.seq, item.type, reason, ""))
                        continue
                    data = item.data
                    if (
                        item.type == EventType.CLUSTER_UPDATED
                        and isinstance(data, Cluster)
                        and data.instance_id != status.instance_id
                    ):
                        raise _Resync(f"new server instance {data.instance_id}")
                elif isinstance(item, Reset):
                    raise _Resync(f"server reset to seq {item.seq} (instance {item.instance_id})")
                elif isinstance(item, MalformedEvent) and store.record_malformed(source_id, item) is ApplyOutcome.GAP:
                    raise _Resync(f"gap at malformed event seq {item.seq}")
                countdown -= 1
                if countdown <= 0:
                    countdown = YIELD_EVERY
                    await asyncio.sleep(0)

    async def _retry_later(self, reason: str, retry_after: float | None) -> None:
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        delay = self.backoff.next_delay(retry_after)
        stale = now - self._down_since >= self.stale_after
        state = SourceState.STALE if stale else SourceState.RECONNECTING
        self.store.set_source_state(self.source_id, state, reason=reason, retry_at=now + delay)
        await asyncio.sleep(delay)
        if not self._stopping:
            self.store.set_source_state(self.source_id, state, reason=f"reconnecting after: {reason}")

    async def _pause_if_resyncing_too_often(self) -> None:
        """Resync at once, unless it keeps happening (a broken server): then back off like any failure."""
        now = time.monotonic()
        self._recent_resyncs.append(now)
        if len(self._recent_resyncs) == self._recent_resyncs.maxlen and now - self._recent_resyncs[0] < 10.0:
            await self._retry_later("resyncing too often", None)
