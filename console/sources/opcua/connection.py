"""One session with one OPC UA server (asyncua's ``Client``): connect, browse, subscribe, acknowledge, notice loss.

A :class:`Connection` lives from one connect to the loss of that connection; the source makes a new one for each
attempt, so a server restart (new address space, new namespace indexes, subscriptions gone) is always met with a fresh
browse and fresh subscriptions. asyncua's own reconnect is off: the source's loop owns the backoff and what the store
is told meanwhile.

What it subscribes to, on one ``Subscription`` (iterator mode: the source reads notifications in order):

* a data change monitored item per watched variable (:class:`~.model.Watched`), sampled at the publishing interval;
* the events of the ``Server`` object with the console's ``EventFilter`` (:func:`~.alarms.event_filter`), followed by
  a ``ConditionRefresh`` so the conditions already active are sent again (a server without it just answers Bad).

Loss is noticed by asyncua's watchdog (it reads ``ServerStatus/State`` every ``watchdog`` seconds and calls
``connection_lost_callback`` when that fails or the socket closes) and by a bad subscription status change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.subscription import DataChangeEvent, OpcEvent, StatusChangeEvent, SubEvent, Subscription
from asyncua.crypto import security_policies
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import UaStatusCodeError

from console.sources.opcua.alarms import ACKNOWLEDGE, CONDITION_REFRESH, CONDITION_TYPE, event_filter, plain
from console.sources.opcua.browse import browse_plant
from console.sources.opcua.model import Plant
from console.sources.opcua.spec import OpcUaOptions

__all__ = ["Connection", "Notification", "SetupError"]

if logging.getLogger("asyncua").level == logging.NOTSET:
    # asyncua logs every reconnect attempt and server quirk as a warning; the source's status and connection log
    # say what matters, and a stray log line must not land on the operator's terminal.
    logging.getLogger("asyncua").setLevel(logging.ERROR)

_POLICIES: dict[str, type[security_policies.SecurityPolicy]] = {
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128_Sha256_RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256_Sha256_RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}


class SetupError(Exception):
    """The configuration cannot work (a certificate that cannot be loaded): the source fails instead of retrying."""


Notification = tuple[str, Any, Any]
"""``("data", node_id, (value, good))``, ``("event", None, fields)`` or ``("status", None, good)``."""


class Connection:
    """One session; see the module docstring."""

    def __init__(
        self,
        url: str,
        options: OpcUaOptions,
        password: str | None,
        *,
        timeout: float = 4.0,
        publish_ms: float = 250.0,
        watchdog: float = 1.0,
    ) -> None:
        self.url = url
        self.options = options
        self.timeout = timeout
        self.publish_ms = publish_ms
        self.lost = asyncio.Event()
        self.lost_reason = "connection lost"
        self.alarms = False
        """Whether the server took the event subscription (a server without events has no alarms here)."""
        self.refreshed = False
        """Whether the server carried out the ConditionRefresh."""
        self.failed_items = 0
        self._client = Client(url, timeout=timeout, watchdog_intervall=watchdog)
        self._client.name = self._client.description = "factory-console"
        self._client.application_uri = "urn:factory-console:opcua-client"
        self._client.product_uri = "urn:factory-console"
        self._client.connection_lost_callback = self._on_lost
        if options.user:
            self._client.set_user(options.user)
            if password:
                self._client.set_password(password)
        self._subscription: Subscription | None = None
        self._closed = False

    async def _on_lost(self, error: Exception) -> None:
        self.lost_reason = f"connection lost ({type(error).__name__})"
        self.lost.set()

    # --- open -------------------------------------------------------------------------------------------------------

    async def open(self) -> Plant:
        """Connect (with the configured security and user), then browse for machines."""
        options = self.options
        if options.security_policy != "None":
            policy = _POLICIES.get(options.security_policy)
            if policy is None:
                raise SetupError(f"unknown security policy {options.security_policy}")
            mode = getattr(ua.MessageSecurityMode, options.security_mode)
            try:
                await self._client.set_security(
                    policy,
                    certificate=options.certificate or "",
                    private_key=options.private_key or "",
                    server_certificate=options.server_certificate,
                    mode=mode,
                )
            except (OSError, ValueError, TypeError) as error:  # a file missing or unreadable: trying again won't help
                raise SetupError(f"cannot load the certificate or key: {type(error).__name__}") from None
        await asyncio.wait_for(self._client.connect(auto_reconnect=False), self.timeout * 2)
        return await asyncio.wait_for(browse_plant(self._client, configured=options.machines), self.timeout * 15)

    async def subscribe(self, plant: Plant) -> None:
        """Monitor every watched variable and the server's events, then ask for a ConditionRefresh."""
        client = self._client
        subscription = await client.create_subscription(self.publish_ms, None, queue_maxsize=100_000)
        self._subscription = subscription
        node_ids = [node_id for machine in plant.machines for node_id in machine.watch]
        if node_ids:
            nodes = [client.get_node(ua.NodeId.from_string(node_id)) for node_id in node_ids]
            handles = await subscription.subscribe_data_change(nodes, sampling_interval=ua.Double(self.publish_ms))
            self.failed_items = sum(1 for handle in handles if isinstance(handle, ua.StatusCode))
        try:
            await subscription.subscribe_events(ObjectIds.Server, evfilter=event_filter())
        except UaStatusCodeError:
            return  # no events from this server: machines without alarms
        self.alarms = True
        try:
            await client.get_node(CONDITION_TYPE).call_method(
                CONDITION_REFRESH, ua.Variant(subscription.subscription_id, ua.VariantType.UInt32)
            )
        except UaStatusCodeError:
            return  # no ConditionRefresh: conditions show as their next events come
        self.refreshed = True

    # --- running ----------------------------------------------------------------------------------------------------

    async def next(self, wait_s: float) -> Notification | None:
        """The next notification, or ``None`` after ``wait_s`` seconds without one (or once the connection is lost:
        check :attr:`lost`)."""
        subscription = self._subscription
        if subscription is None or self.lost.is_set():
            return None
        try:
            item: SubEvent | None = await subscription.next_event(wait_s)
        except StopAsyncIteration:
            self.lost.set()
            return None
        if item is None:
            return None
        if isinstance(item, DataChangeEvent):
            data_value = item.data.monitored_item.Value
            status = data_value.StatusCode if data_value is not None else None
            good = status is None or status.is_good()
            return ("data", item.node.nodeid.to_string(), (plain(item.value), good))
        if isinstance(item, OpcEvent):
            return ("event", None, list(item.event.event_fields or []))
        if isinstance(item, StatusChangeEvent):
            good = item.notification.Status.is_good()
            if not good:
                self.lost_reason = f"subscription ended ({item.notification.Status.name})"
                self.lost.set()
            return ("status", None, good)
        return None

    async def acknowledge(self, condition_id: str, event_id: bytes, note: str | None) -> None:
        """Call the condition's ``Acknowledge(EventId, Comment)``; raises ``UaStatusCodeError`` when refused,
        ``ConnectionError`` when not connected, ``TimeoutError`` when sent and unanswered."""
        if self._closed or self.lost.is_set():
            raise ConnectionError("not connected")
        condition = self._client.get_node(ua.NodeId.from_string(condition_id))
        await condition.call_method(
            ACKNOWLEDGE,
            ua.Variant(event_id, ua.VariantType.ByteString),
            ua.Variant(ua.LocalizedText(note or ""), ua.VariantType.LocalizedText),
        )

    async def close(self) -> None:
        """End the session (quietly: the server may be gone already)."""
        if self._closed:
            return
        self._closed = True
        self.lost.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._client.disconnect(), self.timeout)
