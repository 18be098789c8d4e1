"""The OPC UA source adapter: one OPC UA server's machines (and its alarms) in the console.

This is what the registry builds for a source of kind ``opcua`` (:meth:`OpcUaSource.from_spec`), and the one place
that touches the store. Its loop:

1. At start, a snapshot with the server's node and no machine yet, so a configured server is visible at once.
2. Each attempt opens a :class:`~.connection.Connection`: connect, browse (:mod:`.browse`), then a snapshot of what
   the translation (:mod:`.translation`) holds for the machines found (one that went is gone), then the subscription
   and a ConditionRefresh; the source is ``live``. Notifications are translated into contract events with this
   source's own ``seq`` and handed to ``store.apply_events``; a gap is mended with a snapshot.
3. When the connection is lost (the server restarted, the network went), the source records ``reconnecting``
   (``stale`` after ``stale_after`` seconds), shows the machines ``offline`` after ``offline_after`` seconds, and tries
   again with exponential backoff and full jitter, each time with a fresh browse and fresh subscriptions. A refused
   user or password records ``failed`` and ends, as a refused token does for the cluster source.

A value that cannot be used is counted as malformed in the source's status (``store.record_malformed``) and the
stream goes on. Commands (:mod:`.commands`) never write the store: the server's next event shows their effect.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from console.api.command_bodies import CommandResult
from console.api.models import AuditEntry, Cluster, Event, Node, Page, RerouteCandidate, Snapshot
from console.api.sse import MalformedEvent
from console.api.wire import utc_now
from console.sources.base import Backoff
from console.sources.opcua.alarms import read_event
from console.sources.opcua.commands import SUPPORTED_ACTIONS, OpcUaCommands, not_found
from console.sources.opcua.connection import Connection, Notification, SetupError
from console.sources.opcua.mapping import NAME_RE, clean_text
from console.sources.opcua.spec import OpcUaOptions
from console.sources.opcua.translation import Translator
from console.store import SourceState, Store

if TYPE_CHECKING:
    from console.settings import SourceSpec
    from console.sources.adapter import AdapterContext

__all__ = ["OpcUaSource"]

log = logging.getLogger(__name__)

_STARTED = utc_now().replace(microsecond=0)
"""The synthetic node's ``last_seen``: fixed, so the node object does not churn."""

_REFUSED = ("BadUserAccessDenied", "BadIdentityTokenRejected", "BadIdentityTokenInvalid", "BadCertificateUntrusted")
"""Answers that will not change by trying again: the source records ``failed`` and ends."""


class OpcUaSource:
    """Feeds ``store`` from one OPC UA server and carries acknowledgements to it. See the module docstring."""

    kind = "opcua"
    supported_actions: frozenset[str] | None = SUPPORTED_ACTIONS
    grants_role: str | None = "operator"
    """OPC UA has no ``whoami``: the server's user (or anonymous access) is the permission, and the server refuses
    what it does not allow (``BadUserAccessDenied``), so with OPC UA servers alone the operator acts as an operator."""

    def __init__(
        self,
        source_id: str,
        name: str,
        url: str,
        store: Store,
        *,
        options: OpcUaOptions | None = None,
        password: str | None = None,
        timeout: float = 4.0,
        publish_ms: float = 250.0,
        watchdog: float = 1.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        rng: random.Random | None = None,
        offline_after: float = 5.0,
        stale_after: float = 30.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not NAME_RE.match(name):
            raise ValueError(f"OPC UA server name {name!r}: use letters, digits, '_', '.', '-' (at most 64)")
        self.source_id = source_id
        self.name = name
        self.url = url
        self.display_url = url
        self.store = store
        self.options = options or OpcUaOptions()
        self._password = password
        self.node_id = self.options.node or f"opcua-{name}"
        self.node_name = self.options.node_name or f"OPC UA {name}"
        self.own_node = self.options.node is None
        self.timeout, self.publish_ms, self.watchdog = timeout, publish_ms, watchdog
        self.backoff = Backoff(backoff_base, backoff_max, rng)
        self.offline_after = offline_after
        self.stale_after = stale_after
        self.translator = Translator(name=name, node_id=self.node_id, kind=self.options.kind, clock=clock)
        self.commands = OpcUaCommands(self.translator, lambda: self._connection, server=name)
        self.sessions = 0
        """Sessions that reached ``live`` so far (a reconnect after a server restart makes the next)."""
        self.malformed_total = 0
        self._connection: Connection | None = None
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._down_since: float | None = None
        store.register_source(source_id, kind=self.kind, url=self.display_url)

    # --- the public face ------------------------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, spec: SourceSpec, context: AdapterContext) -> OpcUaSource:
        """The adapter of one configured server (``console.sources.registry``)."""
        return cls(
            spec.source_id,
            spec.name or spec.source_id.removeprefix("opcua:"),
            spec.url,
            context.store,
            options=OpcUaOptions.from_mapping(getattr(spec, "options", None) or {}),
            password=spec.token,
            stale_after=context.settings.stale_after_s,
        )

    @property
    def carrier(self) -> OpcUaSource:
        """What the command service calls ``command(path, body, idempotency_key)`` on: the source itself."""
        return self

    async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult:
        """Carry out one console command on the server (:class:`~.commands.OpcUaCommands`)."""
        return await self.commands.command(path, body, idempotency_key)

    async def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]:
        raise not_found("an OPC UA server has no jobs to reroute")

    async def audit(self, cursor: str | None = None, limit: int = 100) -> Page[AuditEntry]:
        raise not_found("an OPC UA server keeps no audit trail of the contract's kind")

    def allows(self, action: str, kind: str, target_id: str) -> bool:
        """Per target, within :data:`~.commands.SUPPORTED_ACTIONS` (the session asks): Acknowledge is offered for an
        open alert whose condition is acknowledgeable (and for a machine's alerts: the flow picks the unacknowledged
        ones, which only an acknowledgeable condition can be), and nothing else is."""
        if action != "alert.ack":
            return False
        if kind != "alert":
            return True
        conditions = self.translator.conditions
        condition_id = conditions.condition_of(target_id)
        return condition_id is not None and conditions.acknowledgeable(condition_id)

    @property
    def connection(self) -> Connection | None:
        """The current session, if connected."""
        return self._connection

    def stop(self) -> None:
        """Stop the loop (from the same event loop); ``run()`` then returns."""
        self._stopping = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def aclose(self) -> None:
        """End the session if one is open (``run()`` does when it ends)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def run(self) -> None:
        """Connect, follow and reconnect until cancelled or stopped; returns early only when the server refuses the
        credentials."""
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
            self.store.set_source_state(self.source_id, SourceState.STOPPED)
        finally:
            await self.aclose()

    # --- the loop ---------------------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                reason = await self._session()
            except UaStatusCodeError as error:
                if type(error).__name__ in _REFUSED:
                    self._feed(self.translator.unreachable(f"the server refused the session: {type(error).__name__}"))
                    self.store.set_source_state(self.source_id, SourceState.FAILED, reason=type(error).__name__)
                    return
                reason = f"the server answered {type(error).__name__}"
            except SetupError as error:
                self._feed(self.translator.unreachable(str(error)))
                self.store.set_source_state(self.source_id, SourceState.FAILED, reason=str(error))
                return
            except (OSError, TimeoutError, ConnectionError) as error:
                reason = f"cannot reach {self.display_url}: {type(error).__name__}"
            except UaError as error:  # asyncua's own (no matching endpoint for the security policy ...): its text
                reason = f"{type(error).__name__}: {clean_text(str(error), 100) or 'no detail'}"
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a bug or an odd answer must not kill the source silently
                log.exception("opcua source %s failed", self.source_id)
                reason = f"unexpected error: {type(error).__name__}"
            if self._stopping:
                return
            await self._retry_later(reason)

    async def _session(self) -> str:
        """One connection, from connect to its loss; returns why it ended."""
        connection = Connection(
            self.url,
            self.options,
            self._password,
            timeout=self.timeout,
            publish_ms=self.publish_ms,
            watchdog=self.watchdog,
        )
        self._connection = connection
        try:
            plant = await connection.open()
            self.translator.set_plant(plant)
            self._resnapshot()
            await connection.subscribe(plant)
            self.sessions += 1
            self._down_since = None
            self.backoff.reset()
            alarms = "alarms" if connection.alarms else "no alarms (the server sends no events)"
            detail = f"{len(plant.machines)} machines ({plant.found_by}), {alarms}"
            self.store.log_source(self.source_id, f"subscribed to {self.display_url}: {detail}")
            self.store.set_source_state(self.source_id, SourceState.LIVE, reason=f"subscribed: {detail}")
            while not self._stopping:
                item = await connection.next(1.0)
                if item is not None:
                    self._handle(item)
                elif connection.lost.is_set():
                    return connection.lost_reason
            return "stopped"
        finally:
            self._connection = None
            await connection.close()

    def _handle(self, item: Notification) -> None:
        """One notification into events for the store; anything odd about it is malformed, never fatal."""
        what, node_id, payload = item
        try:
            if what == "data":
                value, good = payload
                self._feed(self.translator.data(node_id, value, good=good))
            elif what == "event":
                self._feed(self.translator.event(read_event(payload)))
        except Exception as error:  # hostile input must never stop the source
            log.debug("opcua source %s: unusable %s", self.source_id, what, exc_info=True)
            self._malformed(f"opcua.{what}", f"unusable: {type(error).__name__}", "")
        for where, why in self.translator.take_malformed():
            self._malformed(f"opcua.{what}", why, where)

    def _malformed(self, type_: str, reason: str, excerpt: str) -> None:
        self.malformed_total += 1
        self.store.record_malformed(self.source_id, MalformedEvent(None, type_, reason, clean_text(excerpt, 120)))

    async def _retry_later(self, reason: str) -> None:
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        down_for = now - self._down_since
        show_offline = down_for >= self.offline_after or self.sessions == 0
        self._feed(self.translator.unreachable(f"OPC UA server unreachable: {reason}" if show_offline else None))
        state = SourceState.STALE if down_for >= self.stale_after else SourceState.RECONNECTING
        delay = max(0.2, self.backoff.next_delay())
        if show_offline and self.sessions and down_for < self.offline_after + delay:
            delay = min(delay, self.offline_after)  # come back to say "offline" on time
        self.store.set_source_state(self.source_id, state, reason=reason, retry_at=now + delay)
        await asyncio.sleep(delay)

    # --- feeding the store ----------------------------------------------------------------------------------------

    def _feed(self, events: list[Event]) -> None:
        """Hand the store events in ``seq`` order; when it does not take them all (it forgot or reset this source),
        a snapshot of what this source holds, which already includes every event made so far."""
        if not events:
            return
        status = self.store.sources.get(self.source_id)
        if status is None or status.seq is None:
            self._resnapshot()
            return
        if self.store.apply_events(self.source_id, events) < len(events):
            self._resnapshot()

    def _node(self) -> Node:
        return Node(
            id=self.node_id,
            name=self.node_name,
            city="",
            lat=0.0,
            lon=0.0,
            state="online",
            last_seen=_STARTED,
            machine_count=len(self.translator.machines),
            agent_url=None,
        )

    def _resnapshot(self) -> None:
        """Hand the store everything this source holds at the translation's ``seq``."""
        if self.source_id not in self.store.sources:
            self.store.register_source(self.source_id, kind=self.kind, url=self.display_url)
        cluster = self.store.cluster or Cluster(
            id=self.node_id,
            name=self.node_name,
            region="",
            server_time=_STARTED,
            seq=0,
            instance_id=f"opcua-{self.name}",
        )
        translator = self.translator
        snapshot = Snapshot(
            seq=translator.seq,
            cluster=cluster,
            nodes=[self._node()] if self.own_node else [],
            machines=translator.machines,
            jobs=[],
            alerts=translator.alerts,
        )
        self.store.apply_snapshot(self.source_id, snapshot)
