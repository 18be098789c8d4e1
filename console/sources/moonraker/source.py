"""The Moonraker source adapter: one Moonraker server (one Klipper printer) as one machine of a synthetic node.

This is what the registry builds for a source of kind ``moonraker`` (:meth:`MoonrakerSource.from_spec`), and the one
place that touches the store. It wires the parts of the package and runs the loop:

1. At start, a snapshot with the machine ``offline`` ("connecting"), so a configured printer is visible at once.
2. It opens Moonraker's websocket (:mod:`.rpc`) and holds the conversation (:mod:`.session`); after each batch of
   notifications the translation (:mod:`.translation`) makes contract events with this source's own ``seq`` and this
   module hands them to ``store.apply_events``, the path every source's events take. A gap (the store forgot this
   source) is mended with a new snapshot at the translation's ``seq``.
3. A dropped or refused connection backs off (exponential, full jitter) and records ``reconnecting`` (``stale`` after
   ``stale_after`` seconds); the machine is shown ``offline`` after ``offline_after`` seconds without Moonraker. An
   open connection that stays silent for ``stale_after`` (Moonraker sends a notification every second) is shown
   ``stale``; websocket pings end a dead one. A refused API key records ``failed`` and ends.

Commands (:mod:`.commands`) never write the store: their effect arrives as Moonraker's next notifications.
Several printers: one source per printer; they share one synthetic node that every source builds identically.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console import __version__
from console.api.command_bodies import CommandResult
from console.api.errors import ClientError, ConnectionFailed, StreamLost
from console.api.models import AuditEntry, Cluster, Event, Job, Machine, Node, Page, RerouteCandidate, Snapshot
from console.api.sse import MalformedEvent, excerpt
from console.api.transport import safe_url
from console.api.wire import utc_now
from console.settings import DEFAULT_MAX_EVENT_BYTES
from console.sources.base import Backoff
from console.sources.moonraker.commands import SUPPORTED_ACTIONS, PrinterCommands, http_status_of, not_found
from console.sources.moonraker.mapping import NAME_RE, machine_id_for, websocket_url
from console.sources.moonraker.rpc import Closed, RpcConnection, RpcError, open_connection
from console.sources.moonraker.session import Session
from console.sources.moonraker.translation import Translator
from console.store import SourceState, Store

if TYPE_CHECKING:
    from console.settings import SourceSpec
    from console.sources.adapter import AdapterContext

__all__ = ["MoonrakerSource"]

log = logging.getLogger(__name__)

_STARTED = utc_now().replace(microsecond=0)
"""The synthetic node's ``last_seen``: fixed, so every printer's source builds the very same node object."""

_KLIPPY_RECHECK = 2.0
"""While Klipper is starting or away, ask ``server.info`` this often (in case a notification was missed)."""


class KeyRefused(ClientError):
    """Moonraker refused the API key (or wants one): retrying will not help."""


class MoonrakerSource:
    """Feeds ``store`` from one Moonraker server and carries commands to it. See the module docstring."""

    kind = "moonraker"
    supported_actions: frozenset[str] | None = SUPPORTED_ACTIONS
    grants_role: str | None = "operator"
    """Moonraker has no ``whoami``: its API key (or a trusted network) is the permission, as for OctoPrint."""

    def __init__(
        self,
        source_id: str,
        name: str,
        url: str,
        api_key: str | None,
        store: Store,
        *,
        node_id: str = "moonraker",
        node_name: str = "Klipper farm",
        farm_size: int = 1,
        timeout: float = 5.0,
        ping_interval: float = 10.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        rng: random.Random | None = None,
        offline_after: float = 5.0,
        stale_after: float = 30.0,
        heartbeat: float = 15.0,
        max_message_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not NAME_RE.match(name):
            raise ValueError(f"printer name {name!r}: use letters, digits, '_', '.', '-' (at most 64)")
        self.source_id = source_id
        self.name = name
        self.store = store
        self.node_id = node_id
        self.node_name = node_name
        self.farm_size = max(1, farm_size)
        self.machine_id = machine_id_for(name)
        self.url = websocket_url(url)
        self.display_url = safe_url(self.url)
        self.api_key = api_key
        self.timeout = timeout
        self.ping_interval = ping_interval
        self.offline_after = offline_after
        self.stale_after = stale_after
        self.max_message_bytes = max_message_bytes
        self.backoff = Backoff(backoff_base, backoff_max, rng)
        self.translator = Translator(
            name=name, machine_id=self.machine_id, node_id=node_id, clock=clock, heartbeat=heartbeat
        )
        self.commands = PrinterCommands(
            self.machine_id, self._send, self.translator, wake=self.wake, ended=lambda: self._ended
        )
        self.connections = 0
        """Connections that got as far as live (for tests and diagnostics)."""
        self._rpc: RpcConnection | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._ended = False
        self._task: asyncio.Task[None] | None = None
        self._down_since: float | None = None
        self._silent = False
        store.register_source(source_id, kind=self.kind, url=self.display_url)

    # --- the public face ------------------------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, spec: SourceSpec, context: AdapterContext) -> MoonrakerSource:
        """The adapter of one configured printer (``console.sources.registry``)."""
        return cls(
            spec.source_id,
            spec.name or spec.source_id,
            spec.url,
            spec.token,
            context.store,
            farm_size=context.count_of_kind("moonraker"),
            stale_after=context.settings.stale_after_s,
            max_message_bytes=context.settings.max_event_bytes,
        )

    @property
    def carrier(self) -> MoonrakerSource:
        """What the command service calls ``command(path, body, idempotency_key)`` on: the source itself."""
        return self

    async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult:
        """Carry out one console command through Moonraker (:class:`~.commands.PrinterCommands`)."""
        return await self.commands.command(path, body, idempotency_key)

    async def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]:
        raise not_found("a Moonraker printer has no reroute candidates")

    async def audit(self, cursor: str | None = None, limit: int = 100) -> Page[AuditEntry]:
        raise not_found("a Moonraker printer has no audit trail")

    @property
    def machine(self) -> Machine:
        return self.translator.machine

    @property
    def job(self) -> Job | None:
        return self.translator.job

    def wake(self) -> None:
        """Flush the translation soon (a console-side change, an acknowledgement, waits to go out)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the loop (from the same event loop); ``run()`` then returns."""
        self._stopping = True
        self._wake.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def aclose(self) -> None:
        """Close the connection if one is open (``run()`` does when it ends)."""
        rpc, self._rpc = self._rpc, None
        if rpc is not None:
            await rpc.aclose()

    async def run(self) -> None:
        """Follow Moonraker until cancelled or stopped; returns early only when the API key is refused."""
        self._task = asyncio.current_task()
        self.store.set_source_state(self.source_id, SourceState.CONNECTING)
        self._resnapshot()
        try:
            await self._loop()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
        finally:
            self._ended = True
            await self.aclose()
        if self._stopping:
            self.store.set_source_state(self.source_id, SourceState.STOPPED)

    # --- the loop ---------------------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        """Connect, follow, retry; until stopped. The loops check ``_stopping`` as well as taking the cancel: an
        ``asyncio.wait_for`` whose inner wait completes just as the cancel comes may swallow it (Python 3.11)."""
        while not self._stopping:
            try:
                await self._follow()
            except KeyRefused as error:
                self.translator.unreachable("Moonraker refused the API key")
                self._feed(self.translator.flush())
                self.store.set_source_state(self.source_id, SourceState.FAILED, reason=str(error))
                return
            except ClientError as error:
                await self._retry_later(str(error))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a bug or an odd answer must not kill the source silently
                log.exception("moonraker source %s failed", self.source_id)
                await self._retry_later(f"unexpected error: {type(error).__name__}")

    async def _follow(self) -> None:
        """One connection: open it, hold the conversation, feed the store; raises when it ends."""
        rpc = await open_connection(
            self.url,
            open_timeout=self.timeout,
            max_size=self.max_message_bytes,
            ping_interval=self.ping_interval,
            on_malformed=lambda reason, text: self._malformed("websocket", reason, text),
            user_agent=f"factory-console/{__version__}",
        )
        self._rpc = rpc
        try:
            session = Session(rpc, self.translator, api_key=self.api_key, on_malformed=self._malformed)
            try:
                await session.open()
            except RpcError as error:
                status = http_status_of(error.code, error.message)
                if status in (401, 403):
                    raise KeyRefused(f"Moonraker refused the console ({status}): check the API key") from None
                raise StreamLost(f"Moonraker refused {status}: {excerpt(error.message, 120)}") from None
            self._live(rpc)
            await self._listen(rpc, session)
        finally:
            self._rpc = None
            await rpc.aclose()

    def _live(self, rpc: RpcConnection) -> None:
        self._feed(self.translator.flush())
        self.connections += 1
        self._down_since = None
        self._silent = False
        self.backoff.reset()
        self.store.set_source_state(self.source_id, SourceState.LIVE, reason=f"connected to {self.display_url}")

    async def _listen(self, rpc: RpcConnection, session: Session) -> None:
        period = min(0.5, self.stale_after / 4)
        while not self._stopping:
            try:
                item = await asyncio.wait_for(rpc.notifications.get(), period)
            except TimeoutError:
                item = None
            while item is not None:
                if isinstance(item, Closed):
                    self._feed(self.translator.flush())
                    raise StreamLost(f"Moonraker: {item.reason}")
                await session.handle(item)
                item = None if rpc.notifications.empty() else rpc.notifications.get_nowait()
            if not session.klippy_settled and time.monotonic() - session.last_klippy_check >= _KLIPPY_RECHECK:
                await session.refresh_klippy()
            self._wake.clear()
            self._feed(self.translator.flush())
            self._watch_silence(rpc)

    def _watch_silence(self, rpc: RpcConnection) -> None:
        quiet = time.monotonic() - rpc.last_heard
        if quiet >= self.stale_after and not self._silent:
            self._silent = True
            self.store.set_source_state(
                self.source_id, SourceState.STALE, reason=f"nothing from Moonraker for {quiet:.0f} s"
            )
        elif quiet < self.stale_after and self._silent:
            self._silent = False
            self.store.set_source_state(self.source_id, SourceState.LIVE, reason=f"connected to {self.display_url}")

    async def _retry_later(self, reason: str) -> None:
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        down_for = now - self._down_since
        if down_for >= self.offline_after or self.connections == 0:
            self.translator.unreachable(f"Moonraker unreachable: {reason}")
        self._feed(self.translator.flush())
        state = SourceState.STALE if down_for >= self.stale_after else SourceState.RECONNECTING
        delay = self.backoff.next_delay()
        self.store.set_source_state(self.source_id, state, reason=reason, retry_at=now + delay)
        # A wake (an acknowledgement) cuts the wait short: its event goes out with the next flush, even offline.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)
        self._wake.clear()

    async def _send(self, method: str, params: dict[str, Any] | None) -> Any:
        rpc = self._rpc
        if rpc is None or not rpc.is_open:
            raise ConnectionFailed(f"{self.display_url} is not connected; the command was not sent")
        return await rpc.call(method, params)

    # --- feeding the store ----------------------------------------------------------------------------------------

    def _malformed(self, what: str, reason: str, text: str) -> None:
        """Something Moonraker sent that could not be used: counted and kept for diagnostics, then skipped."""
        self.store.record_malformed(self.source_id, MalformedEvent(None, what[:60], reason, excerpt(text)))

    def _feed(self, events: list[Event]) -> None:
        """Hand the store a batch of events (``apply_events``, in ``seq`` order); a gap gets a snapshot instead."""
        if not events:
            return
        status = self.store.sources.get(self.source_id)
        if status is None or status.seq is None:
            self._resnapshot()
            return
        if self.store.apply_events(self.source_id, events) < len(events):
            self._resnapshot()

    def _node(self) -> Node:
        """The synthetic node, the same object from every printer's source (nothing in it depends on this one)."""
        return Node(
            id=self.node_id,
            name=self.node_name,
            city="",
            lat=0.0,
            lon=0.0,
            state="online",
            last_seen=_STARTED,
            machine_count=self.farm_size,
            agent_url=None,
        )

    def _resnapshot(self) -> None:
        """Hand the store everything this source holds at the translation's ``seq`` (at start, and after a gap)."""
        if self.source_id not in self.store.sources:
            self.store.register_source(self.source_id, kind=self.kind, url=self.display_url)
        cluster = self.store.cluster or Cluster(
            id=self.node_id,
            name=self.node_name,
            region="",
            server_time=_STARTED,
            seq=0,
            instance_id=f"moonraker-{self.node_id}",
        )
        translator = self.translator
        snapshot = Snapshot(
            seq=translator.seq,
            cluster=cluster,
            nodes=[self._node()],
            machines=[translator.machine],
            jobs=translator.jobs.all(),
            alerts=[translator.alert] if translator.alert is not None else [],
        )
        self.store.apply_snapshot(self.source_id, snapshot)
