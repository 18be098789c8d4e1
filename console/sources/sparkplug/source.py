"""The Sparkplug B source adapter: an MQTT broker's edge nodes and devices as the console's nodes and machines.

This is what the registry builds for a source of kind ``sparkplug`` (:meth:`SparkplugSource.from_spec`), and the one
place that touches the store. It runs one MQTT session at a time:

1. Connect with the host application's death (``spBv1.0/STATE/<host_id>``, ``{"online": false, ...}``, retained,
   QoS 1) as the will; subscribe to its own STATE topic, then to ``spBv1.0/#`` (or the configured groups); publish
   its birth (``{"online": true, ...}``, the will's timestamp, retained, QoS 1). The source is then ``live``.
2. Each message goes to the host (:mod:`.host`), which updates its records and has the translation
   (:mod:`.translation`) make contract events with this source's own ``seq``; the messages waiting are taken
   together and their events handed to ``store.apply_events`` as one batch. Malformed messages are counted in the
   source's status (``store.record_malformed``), never stop it. Rebirth requests are sent as NCMDs after each batch.
3. A lost connection backs off (exponential, full jitter) and records ``reconnecting`` (``stale`` after a while); a
   broker that refuses the credentials records ``failed`` and ends. Stopping publishes the STATE death first.

Commands (:mod:`.commands`) go out as DCMDs and never write the store: the device's next DDATA brings the effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiomqtt

from console.api.command_bodies import CommandResult
from console.api.errors import ConnectionFailed
from console.api.models import AuditEntry, Cluster, Event, Page, RerouteCandidate, Snapshot
from console.api.sse import MalformedEvent, excerpt
from console.api.wire import utc_now
from console.sources.base import Backoff
from console.sources.sparkplug.commands import SUPPORTED_ACTIONS, DeviceCommands, not_found
from console.sources.sparkplug.connection import (
    check_host_id,
    credentials_refused,
    default_host_id,
    make_client,
    parse_broker_url,
    state_payload,
)
from console.sources.sparkplug.host import Host
from console.sources.sparkplug.mapping import MetricMapping, clean_text
from console.sources.sparkplug.payload import BOOLEAN, build_metric, build_payload, now_ms
from console.sources.sparkplug.topics import command_topic, state_topic, subscriptions
from console.sources.sparkplug.translation import Translator
from console.store import SourceState, Store

if TYPE_CHECKING:
    from console.settings import SourceSpec
    from console.sources.adapter import AdapterContext

__all__ = ["SparkplugSource"]

log = logging.getLogger(__name__)

BATCH = 512
"""Messages handled before their events go to the store and the loop yields."""
_STARTED = utc_now().replace(microsecond=0)


def _inbox_type(holder: list[asyncio.Queue[aiomqtt.Message]]) -> type[asyncio.Queue[aiomqtt.Message]]:
    """A queue class that tells ``holder`` its instance: the waiting messages are then taken without a task each."""

    class Inbox(asyncio.Queue[aiomqtt.Message]):
        def __init__(self, maxsize: int = 0) -> None:
            super().__init__(maxsize)
            holder.append(self)

    return Inbox


class SparkplugSource:
    """Feeds ``store`` from one MQTT broker's Sparkplug B traffic and carries commands to its devices."""

    kind = "sparkplug"
    supported_actions: frozenset[str] | None = SUPPORTED_ACTIONS
    grants_role: str | None = "operator"
    """Sparkplug has no ``whoami``: the broker's credentials are the permission (its ACLs refuse what they do not
    allow), so with Sparkplug sources alone the operator acts as an operator."""

    def __init__(
        self,
        source_id: str,
        url: str,
        store: Store,
        *,
        username: str | None = None,
        password: str | None = None,
        verify: bool | str = True,
        host_id: str | None = None,
        groups: tuple[str, ...] = (),
        mapping: MetricMapping | None = None,
        primary: bool = True,
        rebirth: bool = True,
        rebirth_interval: float = 5.0,
        reorder_timeout: float = 0.0,
        max_payload_bytes: int = 1024 * 1024,
        keepalive: int = 30,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        rng: random.Random | None = None,
        stale_after: float = 30.0,
        heartbeat: float = 15.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.source_id = source_id
        self.address = parse_broker_url(url)
        self.display_url = self.address.display
        self.store = store
        self.host_id = check_host_id(host_id or default_host_id())
        self.groups = tuple(groups)
        self.primary = primary
        self._username, self._password, self._verify = username, password, verify
        self.keepalive = keepalive
        self.stale_after = stale_after
        self.backoff = Backoff(backoff_base, backoff_max, rng)
        mapping = mapping or MetricMapping()
        self.translator = Translator(clock=clock, default_kind=mapping.default_kind, heartbeat=heartbeat)
        self.host = Host(
            self.translator,
            mapping,
            host_id=self.host_id,
            rebirth=rebirth,
            rebirth_interval=rebirth_interval,
            reorder_timeout=reorder_timeout,
            max_payload_bytes=max_payload_bytes,
        )
        self.commands = DeviceCommands(self.host, self.translator, self._publish_command)
        self._client: aiomqtt.Client | None = None
        self._inbox: list[asyncio.Queue[aiomqtt.Message]] = []
        self._state_timestamp = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._down_since: float | None = None
        self.sessions = 0
        """MQTT sessions established so far (for tests and diagnostics)."""
        store.register_source(source_id, kind=self.kind, url=self.display_url)

    # --- the public face ------------------------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, spec: SourceSpec, context: AdapterContext) -> SparkplugSource:
        """The adapter of one configured broker (``console.sources.registry``); its options come from the flags
        and the profile's ``sparkplug`` table (``console.launch``)."""
        options: Mapping[str, Any] = getattr(spec, "options", None) or {}
        return cls(
            spec.source_id,
            spec.url,
            context.store,
            username=options.get("username"),
            password=spec.token,
            verify=spec.verify,
            host_id=options.get("host_id"),
            groups=tuple(options.get("groups") or ()),
            mapping=MetricMapping.from_options(options.get("mapping")),
            primary=bool(options.get("primary", True)),
            rebirth=bool(options.get("rebirth", True)),
            rebirth_interval=float(options.get("rebirth_interval_s", 5.0)),
            reorder_timeout=float(options.get("reorder_timeout_s", 0.0)),
            max_payload_bytes=int(options.get("max_payload_kb", 1024)) * 1024,
            stale_after=context.settings.stale_after_s,
        )

    @property
    def carrier(self) -> SparkplugSource:
        """What the command service calls ``command(path, body, idempotency_key)`` on: the source itself."""
        return self

    def allows(self, action: str, kind: str, target_id: str) -> bool:
        """Whether ``action`` is offered on this target (the device declared the command in its DBIRTH)."""
        return self.commands.allows(action, kind, target_id)

    async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult:
        """Carry out one console command as a DCMD (:class:`~.commands.DeviceCommands`)."""
        return await self.commands.command(path, body, idempotency_key)

    async def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]:
        raise not_found("a Sparkplug device has no reroute candidates")

    async def audit(self, cursor: str | None = None, limit: int = 100) -> Page[AuditEntry]:
        raise not_found("Sparkplug keeps no audit trail; the local audit log has what this console did")

    def stop(self) -> None:
        """Stop the loop (from the same event loop); ``run()`` publishes the STATE death and returns."""
        self._stopping = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def aclose(self) -> None:
        """Wait (a little) for ``run()`` to say goodbye to the broker."""
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            await asyncio.wait({task}, timeout=3.0)

    # --- the loop ---------------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, follow and reconnect until stopped; returns early only when the broker refuses the credentials."""
        self._task = asyncio.current_task()
        self.store.set_source_state(self.source_id, SourceState.CONNECTING, reason=f"connecting to {self.display_url}")
        self._resnapshot()
        try:
            while not self._stopping:
                try:
                    await self._session()
                    reason = "the broker closed the connection"
                except aiomqtt.MqttError as error:
                    if credentials_refused(error):
                        self.store.set_source_state(self.source_id, SourceState.FAILED, reason=f"MQTT: {error}")
                        return
                    reason = f"MQTT: {error}"
                except (OSError, ValueError) as error:
                    reason = f"{type(error).__name__}: {error}"
                except Exception as error:  # a bug or an odd broker must not end the source silently
                    log.exception("sparkplug source %s failed", self.source_id)
                    reason = f"unexpected error: {type(error).__name__}"
                now = time.monotonic()
                if self._down_since is None:
                    self._down_since = now
                delay = self.backoff.next_delay()
                state = SourceState.STALE if now - self._down_since >= self.stale_after else SourceState.RECONNECTING
                self.store.set_source_state(self.source_id, state, reason=reason, retry_at=now + delay)
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            self.store.set_source_state(self.source_id, SourceState.STOPPED)
        finally:
            self._client = None

    async def _session(self) -> None:
        timestamp = now_ms()
        holder: list[asyncio.Queue[aiomqtt.Message]] = []
        client = make_client(
            self.address,
            host_id=self.host_id,
            username=self._username,
            password=self._password,
            verify=self._verify,
            will_timestamp=timestamp if self.primary else None,
            keepalive=self.keepalive,
            queue_type=_inbox_type(holder),
            max_queued=200_000,
        )
        async with client:
            self._client = client
            try:
                if self.primary:
                    await client.subscribe(state_topic(self.host_id), qos=1)
                for topic_filter in subscriptions(self.groups):
                    await client.subscribe(topic_filter, qos=0)
                if self.primary:
                    self._state_timestamp = timestamp
                    await client.publish(state_topic(self.host_id), state_payload(True, timestamp), qos=1, retain=True)
                self.sessions += 1
                self._down_since = None
                self.backoff.reset()
                self.store.set_source_state(self.source_id, SourceState.LIVE, reason=f"following {self.display_url}")
                ticker = asyncio.ensure_future(self._tick(client))
                try:
                    await self._follow(client, holder[0])
                finally:
                    ticker.cancel()
            finally:
                self._client = None
                if self._stopping and self.primary:
                    with contextlib.suppress(Exception):
                        goodbye = state_payload(False, now_ms())
                        await asyncio.wait_for(
                            client.publish(state_topic(self.host_id), goodbye, qos=1, retain=True), 2
                        )

    async def _follow(self, client: aiomqtt.Client, inbox: asyncio.Queue[aiomqtt.Message]) -> None:
        messages = client.messages
        handle = self.handle
        while True:
            message = await anext(messages)
            handle(message.topic.value, message.payload)
            taken = 1
            while taken < BATCH and not inbox.empty():
                message = inbox.get_nowait()
                handle(message.topic.value, message.payload)
                taken += 1
            self.flush()
            await self._send_pending(client)
            if taken >= BATCH:
                await asyncio.sleep(0)

    async def _tick(self, client: aiomqtt.Client) -> None:
        while True:
            await asyncio.sleep(0.25)
            self.host.tick()
            self.flush()
            with contextlib.suppress(aiomqtt.MqttError):  # the connection is going: the session ends on its own
                await self._send_pending(client)

    # --- messages in, events out ----------------------------------------------------------------------------------

    def handle(self, topic: str, payload: Any) -> None:
        """One received message (the loop calls it; the benchmark and tests may too). Call :meth:`flush` after."""
        if not isinstance(payload, bytes | bytearray):
            payload = b"" if payload is None else str(payload).encode()
        try:
            self.host.handle(topic, payload)
        except Exception as error:  # a bug must cost one message, never the source
            log.exception("sparkplug source %s: a message could not be handled", self.source_id)
            self.store.record_malformed(
                self.source_id,
                MalformedEvent(None, "?", f"internal error: {type(error).__name__}", excerpt(clean_text(topic, 160))),
            )

    def flush(self) -> None:
        """Hand the store what the messages handled since the last call made: events, malformed counts, log lines."""
        host, translator, store = self.host, self.translator, self.store
        if host.malformed:
            bad, host.malformed = host.malformed, []
            for item in bad:
                store.record_malformed(self.source_id, item)
        if translator.lines:
            lines, translator.lines = translator.lines, []
            for line in lines:
                store.log_source(self.source_id, line)
        events = translator.take()
        if events:
            self._feed(events)

    async def _send_pending(self, client: aiomqtt.Client) -> None:
        host = self.host
        if host.rebirths:
            nodes, host.rebirths = host.rebirths, []
            request = build_payload([build_metric("Node Control/Rebirth", True, BOOLEAN)])
            for node in nodes:
                self.store.log_source(self.source_id, f"rebirth requested of {node.node_id}")
                await client.publish(command_topic(node.group, node.edge), request, qos=0)
        if host.state_lost:
            host.state_lost = False
            if self.primary:
                payload = state_payload(True, self._state_timestamp)
                await client.publish(state_topic(self.host_id), payload, qos=1, retain=True)

    async def _publish_command(self, topic: str, payload: bytes) -> None:
        client = self._client
        if client is None:
            raise ConnectionFailed(f"not connected to {self.display_url}; the command was not sent")
        try:
            await client.publish(topic, payload, qos=0, retain=False)
        except aiomqtt.MqttError as error:
            raise ConnectionFailed(f"MQTT: {error}; the command was not sent") from None

    def _feed(self, events: list[Event]) -> None:
        """Hand the store a batch of events (``apply_events``, in ``seq`` order); if it does not take them all (it
        forgot this source), a snapshot of what this source holds, which already includes every event made."""
        status = self.store.sources.get(self.source_id)
        if status is None or status.seq is None:
            self._resnapshot()
            return
        if self.store.apply_events(self.source_id, events) < len(events):
            self._resnapshot()

    def _resnapshot(self) -> None:
        """Everything this source holds, at the translation's ``seq`` (at start, and after a gap)."""
        if self.source_id not in self.store.sources:
            self.store.register_source(self.source_id, kind=self.kind, url=self.display_url)
        cluster = self.store.cluster or Cluster(
            id="sparkplug",
            name="Sparkplug B",
            region="",
            server_time=_STARTED,
            seq=0,
            instance_id=f"sparkplug-{self.host_id}",
        )
        translator = self.translator
        snapshot = Snapshot(
            seq=translator.seq,
            cluster=cluster,
            nodes=list(translator.nodes.values()),
            machines=list(translator.machines.values()),
            jobs=list(translator.jobs.values()),
        )
        self.store.apply_snapshot(self.source_id, snapshot)
