"""A Sparkplug B edge node written for the tests: it connects to the broker with its NDEATH as the will, publishes
NBIRTH and DBIRTHs (with aliases), DDATA, DDEATH, and answers NCMD rebirth requests and DCMD writes as an edge node
must. Payloads are built with the console's own payload module (``console.sources.sparkplug.payload``), which is the
project's Sparkplug payload library; the tests check its output against the specification's field numbers in
``test_sparkplug_units.py``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from console.sources.sparkplug import payload as spb

NS = "spBv1.0"
Value = bool | int | float | str | None


@dataclass
class SimMetric:
    name: str
    datatype: int
    value: Value
    alias: int
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class SimDevice:
    device_id: str
    metrics: dict[str, SimMetric] = field(default_factory=dict)
    commands: list[tuple[str, Value]] = field(default_factory=list)


def device_metrics(
    *,
    state: str = "running",
    progress: float = 10.0,
    job: str | None = "J-1",
    telemetry: Mapping[str, tuple[float, str]] | None = None,
    commands: tuple[str, ...] = ("Pause", "Resume", "Cancel"),
    kind: str | None = "cnc_mill",
) -> list[tuple[str, int, Value, dict[str, Any]]]:
    """The metrics of a typical device: (name, datatype, value, properties)."""
    metrics: list[tuple[str, int, Value, dict[str, Any]]] = [
        ("State", spb.STRING, state, {}),
        ("Progress", spb.DOUBLE, progress, {"engUnit": "%"}),
        ("Job/Id", spb.STRING, job, {}),
    ]
    if kind is not None:
        metrics.append(("Kind", spb.STRING, kind, {}))
    for name, (value, unit) in (telemetry or {"Spindle/Speed": (12000.0, "rpm"), "Temperature": (41.5, "°C")}).items():
        metrics.append((name, spb.DOUBLE, value, {"engUnit": unit}))
    for verb in commands:
        metrics.append((f"Command/{verb}", spb.BOOLEAN, False, {}))
    return metrics


class EdgeNodeSim:
    """One edge node and its devices, publishing through its own MQTT connection."""

    def __init__(self, url_port: int, group: str, edge: str, *, use_aliases: bool = True) -> None:
        self.port = url_port
        self.group = group
        self.edge = edge
        self.use_aliases = use_aliases
        self.bd_seq = 0
        self.seq = 0
        self.devices: dict[str, SimDevice] = {}
        self.rebirth_requests = 0
        self.births = 0
        self.client: aiomqtt.Client | None = None
        self._next_alias = 100
        self._listener: asyncio.Task[None] | None = None
        self._stack = contextlib.AsyncExitStack()
        self.dropped = False

    # --- topics ---------------------------------------------------------------------------------------------------

    def topic(self, kind: str, device: str | None = None) -> str:
        base = f"{NS}/{self.group}/{kind}/{self.edge}"
        return base if device is None else f"{base}/{device}"

    # --- devices --------------------------------------------------------------------------------------------------

    def add_device(self, device_id: str, metrics: list[tuple[str, int, Value, dict[str, Any]]]) -> SimDevice:
        device = SimDevice(device_id)
        for name, datatype, value, properties in metrics:
            device.metrics[name] = SimMetric(name, datatype, value, self._next_alias, dict(properties))
            self._next_alias += 1
        self.devices[device_id] = device
        return device

    # --- the session ----------------------------------------------------------------------------------------------

    async def connect(self) -> None:
        will = spb.build_payload([spb.build_metric("bdSeq", self.bd_seq, spb.INT64)])
        self.client = aiomqtt.Client(
            "127.0.0.1",
            self.port,
            identifier=f"edge-{self.group}-{self.edge}",
            will=aiomqtt.Will(self.topic("NDEATH"), will, qos=1, retain=False),
            clean_session=True,
        )
        await self._stack.enter_async_context(self.client)
        await self.client.subscribe(self.topic("NCMD"), qos=0)
        await self.client.subscribe(f"{NS}/{self.group}/DCMD/{self.edge}/+", qos=0)
        self._listener = asyncio.ensure_future(self._listen())

    def drop(self) -> None:
        """Lose the connection without a DISCONNECT: the broker publishes the will (NDEATH)."""
        assert self.client is not None
        self.dropped = True
        sock = self.client._client.socket()
        if sock is not None:
            sock.close()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await self._listener
        if not self.dropped:
            await self._stack.aclose()

    async def _listen(self) -> None:
        assert self.client is not None
        async for message in self.client.messages:
            decoded = spb.decode(message.payload, 1 << 20)  # type: ignore[arg-type]
            parts = message.topic.value.split("/")
            if parts[2] == "NCMD":
                for metric in decoded.metrics:
                    if metric.name == "Node Control/Rebirth" and metric.boolean_value:
                        self.rebirth_requests += 1
                        await self.birth()
            elif parts[2] == "DCMD":
                device = self.devices.get(parts[4])
                if device is None:
                    continue
                for metric in decoded.metrics:
                    known = device.metrics.get(metric.name)
                    value = spb.metric_value(metric, known.datatype if known else spb.BOOLEAN)
                    device.commands.append((metric.name, value))

    def next_seq(self) -> int:
        seq = self.seq
        self.seq = (self.seq + 1) % 256
        return seq

    async def publish(self, kind: str, metrics: list[Any], device: str | None = None, *, seq: int | None = -1) -> None:
        assert self.client is not None
        payload = spb.build_payload(metrics, seq=self.next_seq() if seq == -1 else seq)
        await self.client.publish(self.topic(kind, device), payload, qos=0)

    async def publish_raw(self, kind: str, data: bytes, device: str | None = None) -> None:
        assert self.client is not None
        await self.client.publish(self.topic(kind, device), data, qos=0)

    async def birth(self) -> None:
        """NBIRTH (seq 0, bdSeq, Node Control/Rebirth) and a DBIRTH per device, as after a rebirth request."""
        self.seq = 0
        self.births += 1
        await self.publish(
            "NBIRTH",
            [
                spb.build_metric("bdSeq", self.bd_seq, spb.INT64),
                spb.build_metric("Node Control/Rebirth", False, spb.BOOLEAN),
            ],
        )
        for device in self.devices.values():
            await self.device_birth(device.device_id)

    async def device_birth(self, device_id: str) -> None:
        device = self.devices[device_id]
        metrics = [
            spb.build_metric(
                m.name, m.value, m.datatype, alias=m.alias if self.use_aliases else None, properties=m.properties
            )
            for m in device.metrics.values()
        ]
        await self.publish("DBIRTH", metrics, device_id)

    async def data(self, device_id: str, values: Mapping[str, Value], *, seq: int | None = -1) -> None:
        """DDATA with these metrics by alias (or by name without aliases)."""
        device = self.devices[device_id]
        metrics = []
        for name, value in values.items():
            metric = device.metrics[name]
            metric.value = value
            if self.use_aliases:
                metrics.append(spb.build_metric(None, value, metric.datatype, alias=metric.alias))
            else:
                metrics.append(spb.build_metric(name, value, metric.datatype))
        await self.publish("DDATA", metrics, device_id, seq=seq)

    async def device_death(self, device_id: str) -> None:
        await self.publish("DDEATH", [], device_id)
