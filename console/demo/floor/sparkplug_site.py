"""The mixed floor's Sparkplug B site: one edge node and its devices (``sparkplug_devices``) on a local broker.

It behaves as a Sparkplug 3.0 edge node must, so the console's host application sees a real one: it connects with
its NDEATH (``bdSeq``) as the MQTT will, publishes NBIRTH (``seq`` 0, ``bdSeq``, ``Node Control/Rebirth``) and a
DBIRTH per device with every metric named and aliased, then DDATA by alias with ``seq`` counting 0..255; it answers
an NCMD ``Node Control/Rebirth`` with a new birth (the console asks when it connects after the birth went by), and a
DCMD writing ``Command/Pause``, ``Command/Resume`` or ``Command/Cancel`` with the device's new state in a DDATA.
Stopping publishes the NDEATH itself, then disconnects.

Commands come from the network: payloads over :data:`MAX_COMMAND_BYTES`, undecodable ones, unknown devices and
metrics are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

import aiomqtt

from console.demo.floor.sparkplug_devices import DEVICES, DemoDevice, DeviceSpec, Value
from console.sources.sparkplug import payload as spb

__all__ = ["EDGE", "GROUP", "SparkplugSite"]

log = logging.getLogger(__name__)

NS = "spBv1.0"
GROUP = "SpB"
EDGE = "Cell-A"
"""The console shows this edge node as the node ``SpB/Cell-A`` and its devices as ``SpB/Cell-A/<device>``: short, so
a tile's title holds the whole id."""
MAX_COMMAND_BYTES = 64 * 1024

_TYPES: dict[type, int] = {str: spb.STRING, float: spb.DOUBLE, bool: spb.BOOLEAN}
_UNITS = {"Progress": "%"}


class SparkplugSite:
    """One edge node on the broker at ``127.0.0.1:port``; :meth:`start`, then :meth:`stop` (same event loop)."""

    def __init__(
        self,
        port: int,
        *,
        seed: int = 7,
        interval: float = 1.0,
        devices: tuple[DeviceSpec, ...] = DEVICES,
    ) -> None:
        self.port = port
        self.interval = interval
        rng = random.Random(seed)
        self.devices = {spec.device_id: DemoDevice(spec, random.Random(rng.random())) for spec in devices}
        self.aliases: dict[str, dict[str, int]] = {}
        self.datatypes: dict[str, dict[str, int]] = {}
        self.bd_seq = 0
        self.seq = 0
        self.commands_applied = 0
        self.births = 0
        self._client: aiomqtt.Client | None = None
        self._stack = contextlib.AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()  # one publisher at a time: seq must go out in order
        alias = 1
        for device in self.devices.values():
            names = device.birth_values()
            self.aliases[device.spec.device_id] = {}
            self.datatypes[device.spec.device_id] = {}
            for name, value in names.items():
                self.aliases[device.spec.device_id][name] = alias
                self.datatypes[device.spec.device_id][name] = _TYPES[type(value)]
                alias += 1

    def topic(self, kind: str, device: str | None = None) -> str:
        base = f"{NS}/{GROUP}/{kind}/{EDGE}"
        return base if device is None else f"{base}/{device}"

    # --- life -----------------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, publish the births, and start following commands and moving the devices on."""
        will = spb.build_payload([spb.build_metric("bdSeq", self.bd_seq, spb.INT64)])
        self._client = aiomqtt.Client(
            "127.0.0.1",
            self.port,
            identifier=f"factory-console-demo-{EDGE}",
            will=aiomqtt.Will(self.topic("NDEATH"), will, qos=1, retain=False),
            clean_session=True,
        )
        await self._stack.enter_async_context(self._client)
        await self._client.subscribe(self.topic("NCMD"), qos=0)
        await self._client.subscribe(f"{NS}/{GROUP}/DCMD/{EDGE}/+", qos=0)
        await self.birth()
        self._tasks = [asyncio.ensure_future(self._listen()), asyncio.ensure_future(self._run())]

    async def stop(self) -> None:
        """Stop moving, say NDEATH (an edge node that leaves on purpose does) and disconnect; idempotent."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task
        if self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError, asyncio.TimeoutError):
                death = spb.build_payload([spb.build_metric("bdSeq", self.bd_seq, spb.INT64)])
                await asyncio.wait_for(self._client.publish(self.topic("NDEATH"), death, qos=1), 2)
            self._client = None
            with contextlib.suppress(aiomqtt.MqttError):
                await self._stack.aclose()

    # --- publishing -----------------------------------------------------------------------------------------------

    async def birth(self) -> None:
        """NBIRTH (``seq`` 0) and a DBIRTH per device, every metric named with its alias."""
        async with self._lock:
            self.seq = 0
            self.births += 1
            node = [
                spb.build_metric("bdSeq", self.bd_seq, spb.INT64),
                spb.build_metric("Node Control/Rebirth", False, spb.BOOLEAN),
            ]
            await self._publish("NBIRTH", node)
            for device_id, device in self.devices.items():
                metrics = [
                    spb.build_metric(
                        name,
                        value,
                        self.datatypes[device_id][name],
                        alias=self.aliases[device_id][name],
                        properties={"engUnit": unit} if (unit := self._unit(device.spec, name)) else None,
                    )
                    for name, value in device.birth_values().items()
                ]
                await self._publish("DBIRTH", metrics, device_id)

    async def data(self, device_id: str, values: dict[str, Value]) -> None:
        """A DDATA of these metrics of one device, by alias."""
        if not values:
            return
        aliases, types = self.aliases[device_id], self.datatypes[device_id]
        metrics = [spb.build_metric(None, value, types[name], alias=aliases[name]) for name, value in values.items()]
        async with self._lock:
            await self._publish("DDATA", metrics, device_id)

    async def _publish(self, kind: str, metrics: list[object], device: str | None = None) -> None:
        assert self._client is not None
        payload = spb.build_payload(metrics, seq=self.seq)
        self.seq = (self.seq + 1) % 256
        await self._client.publish(self.topic(kind, device), payload, qos=0)

    @staticmethod
    def _unit(spec: DeviceSpec, name: str) -> str | None:
        for telemetry in spec.telemetry:
            if telemetry.name == name:
                return telemetry.unit
        return _UNITS.get(name)

    # --- the loops --------------------------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            for device_id, device in self.devices.items():
                await self.data(device_id, device.step(self.interval))

    async def _listen(self) -> None:
        assert self._client is not None
        async for message in self._client.messages:
            for device_id, verb in self.orders(message.topic.value, message.payload):
                if device_id is None:
                    await self.birth()
                    continue
                changed = self.devices[device_id].command(verb)
                if changed:
                    self.commands_applied += 1
                    await self.data(device_id, changed)

    def orders(self, topic: str, data: object) -> list[tuple[str | None, str]]:
        """What one received message asks of this edge node: ``(None, "Rebirth")`` for an NCMD rebirth request, and
        ``(device, verb)`` for each ``Command/<verb>`` a DCMD writes true to a device of this node. Anything else
        (another topic, an unknown device or metric, a payload too big or not Sparkplug) asks nothing."""
        if not isinstance(data, bytes | bytearray) or len(data) > MAX_COMMAND_BYTES:
            return []
        parts = topic.split("/")
        if len(parts) not in (4, 5) or parts[0] != NS or parts[1] != GROUP or parts[3] != EDGE:
            return []
        try:
            decoded = spb.decode(data, MAX_COMMAND_BYTES)
        except spb.PayloadError:
            return []
        if len(parts) == 4 and parts[2] == "NCMD":
            rebirth = any(spb.text_of(m.name) == "Node Control/Rebirth" and _true(m) for m in decoded.metrics)
            return [(None, "Rebirth")] if rebirth else []
        if len(parts) != 5 or parts[2] != "DCMD" or parts[4] not in self.devices:
            return []
        device_id = parts[4]
        by_alias = {alias: name for name, alias in self.aliases[device_id].items()}
        found: list[tuple[str | None, str]] = []
        for metric in decoded.metrics:
            name = spb.text_of(metric.name) or by_alias.get(int(metric.alias), "")
            if name.startswith("Command/") and name in by_alias.values() and _true(metric):
                found.append((device_id, name.removeprefix("Command/")))
        return found


def _true(metric: Any) -> bool:
    """Whether a command metric is written true (a Boolean ``true``, or a number 1), as Sparkplug commands are."""
    datatype = int(metric.datatype) or spb.BOOLEAN
    try:
        value = spb.metric_value(metric, datatype)
    except spb.MetricError:
        return False
    return value is True or (isinstance(value, int | float) and not isinstance(value, bool) and value == 1)
