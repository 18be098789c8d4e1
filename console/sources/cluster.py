"""The cluster API source: snapshot, then the event stream, then reconnect, forever.

The loop, and why each step is there:

1. ``GET /v1/whoami`` once, beside the first ``GET /v1/cluster`` (the app shows who we are and what we may do).
2. Bootstrap: ``GET /v1/cluster`` (small; carries the server's current ``seq``), then at once ``GET /v1/events``
   after that ``seq``, whose events are buffered raw (bounded: on overflow, start over), while ``GET /v1/snapshot``
   loads concurrently. Then :meth:`Store.apply_snapshot`, then the buffered events after ``snapshot.seq`` (those at or
   below it are in the snapshot), then the same stream goes on live. Why not "snapshot, then events after its seq":
   a server must keep only the last 10,000 events, which at 20,000 machines is about one second, while fetching and
   parsing a 50 MB snapshot takes several; the stream would always answer ``reset``. Opened first, the stream starts
   inside the history whatever the snapshot takes. (A server without ``GET /v1/cluster`` gets the classic order.)
   The first time, a big cluster's first screenful is read through the paged lists and shown before the snapshot is
   asked for, then replaced by it (``console.sources.cluster_preview``; issue 15).
3. Live: :meth:`Store.apply_event` for each event.
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
from typing import Any

from console.api.client import LARGE_BODY, ClusterClient
from console.api.errors import ClientError, Forbidden, NotFound, Unauthorized
from console.api.event_stream import DEFAULT_SILENCE_TIMEOUT
from console.api.models import Cluster, Event, EventType, Snapshot, WhoAmI
from console.api.sse import MalformedEvent, Reset, StreamItem, parse_seq, parse_sse
from console.sources.base import Backoff
from console.sources.cluster_boot import BOOT_BUFFER_BYTES, BOOT_BUFFER_EVENTS, Boot, Resync, slices
from console.sources.cluster_ids import Qualifier
from console.sources.cluster_preview import PREVIEW_MACHINES, PREVIEW_MIN_MACHINES, PREVIEW_TIMEOUT_S, PreviewReader
from console.store import ApplyOutcome, SourceState, SourceStatus, Store

__all__ = ["ClusterSource"]

log = logging.getLogger(__name__)

RESYNC_QUIET_S = 60.0
"""A resync this long after the previous one is a fresh start; sooner, it waits longer each time (a reset storm)."""
PROBE_EVERY_S = 2.0
"""While waiting to reconnect, how often to ask whether the server is back (see ``_wait_unless_back``)."""
PROBE_SPREAD_S = 1.0
"""Once it is back, the reconnect waits a random part of this, so consoles that lost it together do not
return in step."""

YIELD_EVERY = 256
"""Give the event loop (and so the UI) a turn after this many events read without waiting on the network."""


async def _drop(task: asyncio.Task[Any] | None) -> None:
    """Cancel a read nobody will use, and collect its end (so no "exception never retrieved" is logged)."""
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


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
        boot_buffer_events: int = BOOT_BUFFER_EVENTS,
        boot_buffer_bytes: int = BOOT_BUFFER_BYTES,
        resync_backoff_base: float = 1.0,
        resync_backoff_max: float = 60.0,
        probe_every_s: float = PROBE_EVERY_S,
        qualifier: Qualifier | None = None,
        preview_min_machines: int = PREVIEW_MIN_MACHINES,
        preview_machines: int = PREVIEW_MACHINES,
        preview_timeout_s: float = PREVIEW_TIMEOUT_S,
    ) -> None:
        self.source_id = source_id
        self.client = client
        self.store = store
        self.kind = kind
        self.silence_timeout = silence_timeout
        self.stale_after = stale_after
        self.boot_buffer_events = boot_buffer_events
        self.boot_buffer_bytes = boot_buffer_bytes
        self.backoff = Backoff(backoff_base, backoff_max, rng)
        self._probe_rng = rng or random.Random()
        self.probe_every_s = probe_every_s
        self.resync_backoff = Backoff(resync_backoff_base, resync_backoff_max, rng, jitter="equal")
        """Between resyncs that come in a run. Apart from ``backoff``: a good snapshot resets that one, and a server
        that answers every stream with ``reset`` after a good snapshot once got 41 snapshots in 20 s."""
        self.qualifier = qualifier
        """One cluster among several: its ids qualified as they come in (``console.sources.cluster_ids``)."""
        self._parse = parse_sse if qualifier is None else qualifier.parse
        self.preview_min_machines = preview_min_machines
        self.preview_machines = preview_machines
        self.preview_timeout_s = preview_timeout_s
        """A cluster of at least this many machines gets a preview of this many a page before its first snapshot,
        which is asked for when the preview is shown or after ``preview_timeout_s`` (``cluster_preview``)."""
        self.resyncs = 0
        """How many times the source went back to a snapshot after the first one (for tests and diagnostics)."""
        self._stopping = False
        self._need_snapshot = True
        self._whoami_done = False
        self._task: asyncio.Task[None] | None = None
        self._down_since: float | None = None
        self._last_resync: float | None = None
        self._last_heard: float | None = None
        """When the stream last gave a byte (an event or a keep-alive), or opened: silence is measured from here."""
        self._silent = False
        """The stream is open but has said nothing for ``stale_after``: shown stale, not live."""
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
        watch = asyncio.create_task(self._watch_silence(), name=f"silence:{self.source_id}")
        try:
            await self._loop()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            self.store.set_source_state(self.source_id, SourceState.STOPPED)
        finally:
            watch.cancel()

    async def _watch_silence(self) -> None:
        """Mark a live stream stale once nothing at all (not even a keep-alive) came for ``stale_after`` seconds.

        Open headers and then no byte once kept "live" on screen for the 45 s the silence timeout takes; the failure
        model promises stale after ``stale_after_s``. The stream itself stays open: bytes may still come, and the
        silence timeout is what ends it.
        """
        period = min(1.0, self.stale_after / 4)
        while True:
            await asyncio.sleep(period)
            heard = self._last_heard
            if heard is None or self._silent or self.status.state != SourceState.LIVE:
                continue
            quiet = time.monotonic() - heard
            if quiet >= self.stale_after:
                self._silent = True
                self.store.set_source_state(
                    self.source_id,
                    SourceState.STALE,
                    reason=f"nothing from the server for {quiet:.0f} s (the stream is open but silent)",
                )

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                if self._need_snapshot:
                    await self._bootstrap_and_stream()
                else:
                    await self._stream()
            except Resync as why:
                self._need_snapshot = True
                self.resyncs += 1
                self.store.log_source(self.source_id, f"resync: {why}")
                await self._pause_between_resyncs(str(why))
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

    async def _bootstrap_and_stream(self) -> None:
        """Snapshot and stream together (see the module docstring, step 2); then stream on until it ends."""
        first = not self._whoami_done  # until whoami answers, a failed attempt stays "reconnecting", as it was
        if not first:
            self._fetching()
        # A preview's first read (the nodes: is the cluster big?) goes out beside GET /v1/cluster, a round trip less.
        nodes = None if self.status.snapshots_total else asyncio.create_task(self.client.nodes())
        try:
            cluster = await self._cluster_and_whoami()
        except NotFound:  # a server without GET /v1/cluster: snapshot first, then the events after its seq
            await _drop(nodes)
            if not self._whoami_done:
                self._whoami(await self.client.whoami())
            self._fetching()
            await self._bootstrap()
            self._need_snapshot = False
            await self._stream()
            return
        except BaseException:
            await _drop(nodes)
            raise
        if first:
            self._fetching()
        boot = Boot(cluster, self.boot_buffer_events, self.boot_buffer_bytes)
        boot.preview_nodes = nodes
        stream = asyncio.create_task(self._stream(boot))
        loader = asyncio.create_task(self._load(boot))
        boot.stream_task = stream
        try:
            done, _ = await asyncio.wait((stream, loader), return_when=asyncio.FIRST_EXCEPTION)
            if stream in done and not loader.done() and not isinstance(stream.exception(), Resync):
                # The stream broke (it always ends by raising) while the snapshot loads: finish the load (the
                # snapshot, then what was buffered), so the next attempt resumes from there instead of starting over.
                await loader
            if stream.done():
                stream.result()
            loader.result()  # raises if the snapshot failed
            await stream  # loaded and caught up: live, until the stream ends
        finally:
            for task in (stream, loader):
                task.cancel()
            await asyncio.gather(stream, loader, return_exceptions=True)
            await _drop(nodes)

    def _fetching(self) -> None:
        if self.status.state != SourceState.CONNECTING:
            self.store.set_source_state(self.source_id, SourceState.CONNECTING, reason="fetching snapshot")

    async def _cluster_and_whoami(self) -> Cluster:
        """``GET /v1/cluster``; the first time with ``GET /v1/whoami`` beside it (one round trip less before the
        first frame; a 401 or 403 from either ends the source as before)."""
        if self._whoami_done:
            return await self.client.cluster()
        whoami, cluster = await asyncio.gather(self.client.whoami(), self.client.cluster(), return_exceptions=True)
        if isinstance(whoami, BaseException):
            raise whoami  # as when it came first: its failure is the one reported (and retried)
        self._whoami(whoami)
        if isinstance(cluster, BaseException):
            raise cluster
        return cluster

    def _whoami(self, whoami: WhoAmI) -> None:
        self.store.set_whoami(whoami, self.source_id)
        self._whoami_done = True

    async def _bootstrap(self) -> None:
        """The classic bootstrap: the snapshot alone (the stream is opened after it, from its seq)."""
        snapshot = self._snapshot(await self.client.snapshot())
        self.store.apply_snapshot(self.source_id, snapshot)
        self.store.log_source(
            self.source_id, f"snapshot at seq {snapshot.seq} (instance {snapshot.cluster.instance_id})"
        )

    async def _load(self, boot: Boot) -> None:
        """Fetch and apply the snapshot while ``_stream`` buffers, then apply what it buffered after the snapshot.

        The first time (no snapshot applied yet), a preview of a big cluster is read and shown first, the snapshot
        asked for once it is shown or after ``preview_timeout_s`` (``console.sources.cluster_preview``; a preview
        still unread when the snapshot comes is dropped), and the snapshot replaces it."""
        preview: PreviewReader | None = None
        task: asyncio.Task[None] | None = None
        if not self.status.snapshots_total:
            preview = PreviewReader(
                self.source_id,
                self.client,
                self.store,
                boot.cluster,
                self.qualifier,
                min_machines=self.preview_min_machines,
                page=self.preview_machines,
                nodes=boot.preview_nodes,
            )
            task = asyncio.create_task(preview.run(), name=f"preview:{self.source_id}")
            # A head start: a server builds a big snapshot on its loop, so reads sent after it wait behind it.
            await asyncio.wait({task}, timeout=self.preview_timeout_s)
        try:
            body = await self.client.snapshot_body()
            if task is not None and not task.done():
                task.cancel()
                self.store.log_source(self.source_id, "preview not shown (the snapshot came first)")
            if preview is not None and body.size >= LARGE_BODY:
                await preview.wait_drawn()
            snapshot = self._snapshot(await self.client.parse_snapshot(body))
            del body
        finally:
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        instance_id, seq = snapshot.cluster.instance_id, snapshot.seq
        if instance_id != boot.instance_id:
            raise Resync(f"server instance changed while bootstrapping ({boot.instance_id} -> {instance_id})")
        if seq < boot.after:
            raise Resync(f"snapshot at seq {seq} is older than the stream's start {boot.after}")
        self.store.apply_snapshot(self.source_id, snapshot)
        self.store.end_preview(self.source_id)
        del snapshot
        self._need_snapshot = False  # from here a lost stream resumes from the store's seq
        self.store.log_source(
            self.source_id,
            f"snapshot at seq {seq} (instance {instance_id}); stream opened after seq {boot.after}, "
            f"{len(boot.messages)} events buffered meanwhile",
        )
        parse = self._parse
        while boot.messages:  # ``_stream`` may add more while this yields; drain until none is left
            messages, boot.messages, boot.size = boot.messages, [], 0
            # What the snapshot has is skipped; the rest goes the live path's way, a slice of reads at a time
            # (``_take_batch``: runs of plain next events in one store call). One ``_take`` per event cost the
            # console the taps' and the source status's work per event: under load it fell behind the stream it
            # was catching up with, and resynced again (issue 15).
            fresh = [m for m in messages if (n := parse_seq(m[0])) is None or n > seq or m[1] == "reset"]
            for part in slices(fresh, YIELD_EVERY):
                self._take_batch([parse(*message) for message in part])
                await asyncio.sleep(0)
        boot.buffering = False
        if boot.stream_task is None or not boot.stream_task.done():
            self._opened()

    def _snapshot(self, snapshot: Snapshot) -> Snapshot:
        return snapshot if self.qualifier is None else self.qualifier.snapshot(snapshot)

    def _opened(self) -> None:
        self.backoff.reset()
        self._down_since = None
        self._last_heard = time.monotonic()
        self._silent = False
        self.store.set_source_state(self.source_id, SourceState.LIVE, reason=f"streaming after seq {self.status.seq}")

    def _take_batch(self, items: list[StreamItem]) -> None:
        """Apply the items of one read of the stream: runs of plain next events in one store call each, and
        anything else (a gap, a repeat, a reset, a malformed event, ``cluster.updated``) through :meth:`_take`."""
        apply_events, take = self.store.apply_events, self._take
        source_id = self.source_id
        i, end = 0, len(items)
        while i < end:
            i = apply_events(source_id, items, i)
            if i < end:
                take(items[i])
                i += 1

    def _take(self, item: StreamItem) -> None:
        """Apply one stream item; raises ``Resync`` when the stream cannot be continued."""
        store, source_id, status = self.store, self.source_id, self.status
        if type(item) is Event:
            outcome = store.apply_event(source_id, item)
            if outcome is ApplyOutcome.GAP:
                raise Resync(f"gap: got seq {item.seq} after {status.seq}")
            if outcome is ApplyOutcome.DUPLICATE:
                # A correct server never repeats a seq after Last-Event-ID; SSE also gives an event without an id
                # line the previous id. Either way it is not applied, and the operator should see it.
                reason = f"seq {item.seq} repeated (or an event without an id) after {status.seq}: not applied"
                store.record_malformed(source_id, MalformedEvent(item.seq, item.type, reason, ""))
                return
            data = item.data
            if (
                item.type == EventType.CLUSTER_UPDATED
                and isinstance(data, Cluster)
                and data.instance_id != status.instance_id
            ):
                raise Resync(f"new server instance {data.instance_id}")
        elif isinstance(item, Reset):
            raise Resync(f"server reset to seq {item.seq} (instance {item.instance_id})")
        elif isinstance(item, MalformedEvent) and store.record_malformed(source_id, item) is ApplyOutcome.GAP:
            raise Resync(f"gap at malformed event seq {item.seq}")

    async def _stream(self, boot: Boot | None = None) -> None:
        """Apply the stream until it ends (raises ``StreamLost`` & co) or must resync (raises ``Resync``).

        With ``boot``, the stream starts after the bootstrap's ``seq`` and its batches go to ``boot`` while it is
        buffering (``_load`` applies them after the snapshot); afterwards they are applied here as usual.
        """
        if boot is None:
            after, on_open = self.status.seq, self._opened
        else:
            after, on_open = boot.after, None
        batches = self.client.event_batches(after, silence_timeout=self.silence_timeout, on_open=on_open)
        countdown = YIELD_EVERY
        parse = self._parse
        async with contextlib.aclosing(batches) as stream:
            async for batch in stream:
                self._last_heard = time.monotonic()
                if self._silent:
                    self._heard_again()
                if not batch:
                    continue  # a keep-alive
                if boot is not None and boot.buffering:
                    boot.add(batch)
                    continue
                for part in slices(batch, YIELD_EVERY):
                    self._take_batch([parse(*message) for message in part])
                    countdown -= len(part)
                    if countdown <= 0:
                        countdown = YIELD_EVERY
                        await asyncio.sleep(0)

    def _heard_again(self) -> None:
        self._silent = False
        if self.status.state == SourceState.STALE:
            self.store.set_source_state(
                self.source_id,
                SourceState.LIVE,
                reason=f"the server speaks again; streaming after seq {self.status.seq}",
            )

    async def _retry_later(self, reason: str, retry_after: float | None, delay: float | None = None) -> None:
        now = time.monotonic()
        if self._down_since is None:
            # Down since the server was last heard: a stream silent for 40 s that then times out is stale at once.
            heard = self._last_heard
            self._down_since = heard if heard is not None and heard <= now else now
        self._silent = False
        if delay is None:
            delay = self.backoff.next_delay(retry_after)
        stale = now - self._down_since >= self.stale_after
        state = SourceState.STALE if stale else SourceState.RECONNECTING
        # The deadline counts from now, when it is announced (and the wait starts), not from the top of this method.
        self.store.set_source_state(self.source_id, state, reason=reason, retry_at=time.monotonic() + delay)
        await self._wait_unless_back(delay, not_before=retry_after or 0.0)
        if not self._stopping:
            self.store.set_source_state(self.source_id, state, reason=f"reconnecting after: {reason}")

    async def _wait_unless_back(self, delay: float, *, not_before: float) -> None:
        """Wait ``delay`` seconds before reconnecting, but cut the wait short once the server answers again.

        Why: after a long outage the backoff's ceiling is 30 s, so the console went on showing STALE for up to half
        a minute after the cluster API was back (issue 12). Every ``probe_every_s`` (after any ``Retry-After``
        the server asked for) one small request asks whether it is back; when it is, the reconnect follows after a
        short random spread, so many consoles do not all knock in the same instant.
        """
        loop = asyncio.get_running_loop()
        end = loop.time() + delay
        next_probe = loop.time() + max(not_before, self.probe_every_s * self._probe_rng.uniform(0.75, 1.25))
        while not self._stopping:
            now = loop.time()
            if now >= end:
                return
            if next_probe >= end:
                await asyncio.sleep(end - now)
                return
            await asyncio.sleep(next_probe - now)
            if await self.client.probe(wait_s=max(self.probe_every_s, 1.0)):
                await asyncio.sleep(self._probe_rng.uniform(0.0, min(PROBE_SPREAD_S, self.probe_every_s)))
                return
            next_probe = loop.time() + self.probe_every_s * self._probe_rng.uniform(0.75, 1.25)

    async def _pause_between_resyncs(self, why: str) -> None:
        """Resync at once the first time; when resyncs come in a run (each within :data:`RESYNC_QUIET_S` of the
        last), wait longer each time, like any other failure. A good snapshot does not end the run: only quiet does."""
        now = time.monotonic()
        last, self._last_resync = self._last_resync, now
        if last is None or now - last > RESYNC_QUIET_S:
            self.resync_backoff.reset()
            return
        delay = self.resync_backoff.next_delay()
        await self._retry_later(f"resyncing again ({why})", None, delay=delay)
