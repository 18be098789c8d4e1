"""The Sparkplug B host application's state machine: messages in, edge nodes and devices kept, rebirths asked for.

No I/O: :meth:`Host.handle` takes one received message (topic and bytes), updates the :class:`~.state.EdgeNode`
and :class:`~.state.Device` records, tells the :class:`~.translation.Translator` what changed (it makes the contract
events), queues the rebirth requests to send (:attr:`Host.rebirths`) and the malformed messages to count
(:attr:`Host.malformed`). The source (:mod:`.source`) does the MQTT and the store.

The rules (Sparkplug B 3.0):

* NBIRTH starts an edge node's session: its ``bdSeq`` and ``seq``, its metrics and aliases; every device must be
  born again (DBIRTH) before its data is read. NDEATH ends it only when its ``bdSeq`` is the NBIRTH's (a late will of
  an older session is ignored); then the node and all its devices are offline and their values stale.
* ``seq`` runs 0-255 over every NBIRTH, NDATA, DBIRTH, DDATA and DDEATH of one edge node. A gap is counted as
  malformed; with a reorder timeout the missing numbers may still arrive, after it (or at once, the default) the
  host asks the edge node to be born again: an NCMD ``Node Control/Rebirth`` = true. The same is asked on data
  before a birth, a DBIRTH before the NBIRTH, or an alias the birth did not declare; at most once per
  ``rebirth_interval`` seconds per edge node.
* DATA metrics are looked up by alias (or name) in the BIRTH; a value that does not fit its datatype, NaN, a huge
  string or an unknown datatype is counted as malformed and the rest of the message is still read.
* Our own ``spBv1.0/STATE/<host_id>`` read back as offline while we are connected (an older session's will) makes the
  source publish its birth again (:attr:`Host.state_lost`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from console.api.sse import MalformedEvent, excerpt
from console.sources.sparkplug.mapping import IGNORE, MetricMapping, clean_text, state_of
from console.sources.sparkplug.payload import (
    MetricError,
    PayloadError,
    decode,
    metric_properties,
    metric_value,
    text_of,
)
from console.sources.sparkplug.state import Device, EdgeNode, MetricDef, machine_id_of, node_id_of
from console.sources.sparkplug.topics import Topic, parse_topic
from console.sources.sparkplug.translation import Translator

__all__ = ["MAX_DEVICES", "MAX_METRICS", "MAX_NODES", "Host"]

MAX_NODES = 10_000
MAX_DEVICES = 1_000
"""Devices kept per edge node: a hostile birth storm cannot grow the console without bound."""
MAX_METRICS = 2_000
"""Metrics kept per birth."""
MAX_TELEMETRY = 256
"""Telemetry values kept per machine."""

_SEQUENCED = frozenset({"NBIRTH", "NDATA", "DBIRTH", "DDATA", "DDEATH"})


class Host:
    """See the module docstring."""

    def __init__(
        self,
        translator: Translator,
        mapping: MetricMapping | None = None,
        *,
        host_id: str,
        rebirth: bool = True,
        rebirth_interval: float = 5.0,
        reorder_timeout: float = 0.0,
        max_payload_bytes: int = 1024 * 1024,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.translator = translator
        self.mapping = mapping or MetricMapping()
        self.host_id = host_id
        self.rebirth = rebirth
        self.rebirth_interval = rebirth_interval
        self.reorder_timeout = reorder_timeout
        self.max_payload_bytes = max_payload_bytes
        self._monotonic = monotonic
        self.nodes: dict[tuple[str, str], EdgeNode] = {}
        self.rebirths: list[EdgeNode] = []
        """Edge nodes to send a rebirth request to (the source takes and sends them)."""
        self.malformed: list[MalformedEvent] = []
        """Messages (or parts) that could not be used, to count (the source takes them)."""
        self.state_lost = False
        self.messages = 0
        self.rebirths_requested = 0

    # --- lookups (commands, tests) --------------------------------------------------------------------------------

    def device(self, machine_id: str) -> Device | None:
        """The device shown as ``machine_id``."""
        group, _, rest = machine_id.partition("/")
        edge, _, device_id = rest.partition("/")
        node = self.nodes.get((group, edge))
        return node.devices.get(device_id) if node is not None else None

    # --- messages -------------------------------------------------------------------------------------------------

    def handle(self, topic_name: str, data: bytes | bytearray) -> None:
        """One received message. Never raises for what came from the network: it is counted instead."""
        self.messages += 1
        topic = parse_topic(topic_name)
        if topic is None:
            self._bad("?", "not a Sparkplug B topic", topic_name)
            return
        kind = topic.kind
        if kind == "STATE":
            self._state(topic, data)
            return
        if kind == "NCMD" or kind == "DCMD":
            return  # commands of host applications (ours included)
        try:
            payload = decode(data, self.max_payload_bytes)
        except PayloadError as error:
            self._bad(kind, str(error), topic_name)
            return
        key = (topic.group, topic.edge)
        node = self.nodes.get(key)
        if node is None:
            if len(self.nodes) >= MAX_NODES:
                self._bad(kind, f"more than {MAX_NODES} edge nodes", topic_name)
                return
            node = self.nodes[key] = EdgeNode(topic.group, topic.edge, node_id_of(topic.group, topic.edge))
        if kind == "NDEATH":
            self._ndeath(node, payload, topic_name)
            return
        if kind in _SEQUENCED and not self._sequence(node, payload, kind, topic_name):
            return
        if kind == "NBIRTH":
            self._nbirth(node, payload, topic_name)
        elif not node.born:
            self._rebirth(node)  # data (or a device birth) before the node's birth: we missed it
        elif kind == "NDATA":
            self._read_metrics(node.by_alias, node.by_name, payload, kind, topic_name, node)
            self.translator.node_seen(node)
        elif topic.device is not None:
            self._device_message(node, topic, payload, topic_name)

    def tick(self) -> None:
        """Ask for the rebirths whose reorder timeout has passed (the source calls it a few times a second)."""
        now = self._monotonic()
        for node in self.nodes.values():
            if node.gap_deadline is not None and now >= node.gap_deadline:
                node.gap_deadline = None
                if node.missing:
                    node.missing.clear()
                    self._rebirth(node)

    # --- STATE ------------------------------------------------------------------------------------------------------

    def _state(self, topic: Topic, data: bytes | bytearray) -> None:
        if topic.edge != self.host_id:
            return  # another host application's state
        try:
            state = json.loads(bytes(data[:1024]))
        except ValueError:
            self._bad("STATE", "not JSON", f"spBv1.0/STATE/{topic.edge}")
            return
        if isinstance(state, dict) and state.get("online") is False:
            self.state_lost = True

    # --- sequence numbers -----------------------------------------------------------------------------------------

    def _sequence(self, node: EdgeNode, payload: Any, kind: str, topic_name: str) -> bool:
        """Check ``seq``: ``False`` when the message is unusable (no ``seq``, or out of 0-255)."""
        if not payload.HasField("seq") or payload.seq > 255:
            self._bad(kind, "no seq, or a seq outside 0-255", topic_name)
            return False
        seq = int(payload.seq)
        if kind == "NBIRTH":
            node.seq, node.missing, node.gap_deadline = seq, set(), None
            return True
        last = node.seq
        node.seq = seq
        if last is None or seq == (last + 1) % 256:
            return True
        if seq in node.missing:  # a late one of a gap: reordered, not lost
            node.seq = last
            node.missing.discard(seq)
            if not node.missing:
                node.gap_deadline = None
            return True
        expected = (last + 1) % 256
        self._bad(kind, f"seq {seq}, expected {expected}", topic_name)
        skipped = (seq - expected) % 256
        node.missing.update((expected + i) % 256 for i in range(min(skipped, 255)))
        if self.reorder_timeout <= 0:
            node.missing.clear()
            self._rebirth(node)
        elif node.gap_deadline is None:
            node.gap_deadline = self._monotonic() + self.reorder_timeout
        return True

    def _rebirth(self, node: EdgeNode) -> None:
        if not self.rebirth:
            return
        now = self._monotonic()
        if node.rebirth_at is not None and now - node.rebirth_at < self.rebirth_interval:
            return
        node.rebirth_at = now
        self.rebirths.append(node)
        self.rebirths_requested += 1

    # --- births and deaths ----------------------------------------------------------------------------------------

    def _nbirth(self, node: EdgeNode, payload: Any, topic_name: str) -> None:
        node.by_alias, node.by_name = {}, {}
        self._declare(node.by_alias, node.by_name, payload, "NBIRTH", topic_name, None)
        bd_seq = node.by_name.get("bdSeq")
        node.bd_seq = None
        if bd_seq is not None:
            value = self._value_of(payload, "bdSeq")
            node.bd_seq = value if isinstance(value, int) else None
        node.born = node.online = node.ever_born = True
        node.rebirth_at = None
        for device in node.devices.values():
            device.born = False  # its DBIRTH follows; until then its data cannot be read
        self.translator.node_changed(node)

    def _ndeath(self, node: EdgeNode, payload: Any, topic_name: str) -> None:
        value = self._value_of(payload, "bdSeq")
        bd_seq = value if isinstance(value, int) else None
        if not node.ever_born:
            return  # the death of a session we never saw
        if node.bd_seq is not None and bd_seq is not None and bd_seq != node.bd_seq:
            self.translator.log(f"{node.node_id}: NDEATH of an older session (bdSeq {bd_seq}) ignored")
            return
        node.born = node.online = False
        node.seq, node.missing, node.gap_deadline = None, set(), None
        for device in node.devices.values():
            device.born = device.online = False
            device.offline_reason = "edge node offline (NDEATH)"
            self.translator.device_changed(device, None)
        self.translator.node_changed(node)

    def _device_message(self, node: EdgeNode, topic: Topic, payload: Any, topic_name: str) -> None:
        device_id = topic.device or ""
        device = node.devices.get(device_id)
        kind = topic.kind
        if kind == "DBIRTH":
            if device is None:
                if len(node.devices) >= MAX_DEVICES:
                    self._bad(kind, f"more than {MAX_DEVICES} devices on one edge node", topic_name)
                    return
                machine_id = machine_id_of(node.group, node.edge, device_id)
                device = node.devices[device_id] = Device(node.group, node.edge, device_id, machine_id, node.node_id)
            self._dbirth(node, device, payload, topic_name)
            return
        if device is None or not device.born:
            self._rebirth(node)  # data or death of a device whose birth we did not see
            return
        if kind == "DDEATH":
            device.born = device.online = False
            device.offline_reason = "device offline (DDEATH)"
            self.translator.device_changed(device, None)
            self.translator.node_changed(node)
        else:
            changes = self._read_metrics(device.by_alias, device.by_name, payload, kind, topic_name, node, device)
            self.translator.device_changed(device, changes)

    def _dbirth(self, node: EdgeNode, device: Device, payload: Any, topic_name: str) -> None:
        device.forget_metrics()
        device.state = device.progress = device.job_id = device.job_part = device.kind = device.model = None
        device.telemetry = {}
        self._declare(device.by_alias, device.by_name, payload, "DBIRTH", topic_name, device)
        for metric in device.by_name.values():
            if metric.role.what == "command":
                device.commands[metric.role.verb] = metric
        device.born = device.online = True
        device.offline_reason = None
        changes = self._read_metrics(device.by_alias, device.by_name, payload, "DBIRTH", topic_name, node, device)
        self.translator.device_changed(device, changes)
        self.translator.node_changed(node)

    def _declare(
        self,
        by_alias: dict[int, MetricDef],
        by_name: dict[str, MetricDef],
        payload: Any,
        kind: str,
        topic_name: str,
        device: Device | None,
    ) -> None:
        """Learn the metrics a BIRTH declares: names, datatypes, aliases, and their roles on the console."""
        mapping = self.mapping
        for metric in payload.metrics:
            if len(by_name) >= MAX_METRICS:
                self._bad(kind, f"more than {MAX_METRICS} metrics in one birth", topic_name)
                return
            name = text_of(metric.name)
            if not name or len(name) > 256:
                self._bad(kind, "a metric without a usable name in a birth", topic_name)
                continue
            datatype = int(metric.datatype)
            alias = int(metric.alias) if metric.HasField("alias") else None
            role = mapping.role(name, datatype, metric_properties(metric)) if device is not None else IGNORE
            entry = MetricDef(name, datatype, alias, role)
            by_name[name] = entry
            if alias is not None:
                by_alias[alias] = entry

    # --- metric values --------------------------------------------------------------------------------------------

    def _read_metrics(
        self,
        by_alias: dict[int, MetricDef],
        by_name: dict[str, MetricDef],
        payload: Any,
        kind: str,
        topic_name: str,
        node: EdgeNode,
        device: Device | None = None,
    ) -> dict[str, float] | None:
        """Apply a BIRTH's or DATA's metric values to ``device``; returns the telemetry values it brought."""
        changes: dict[str, float] | None = None
        for metric in payload.metrics:
            entry = by_alias.get(metric.alias) if metric.HasField("alias") else by_name.get(text_of(metric.name))
            if entry is None:
                if kind != "DBIRTH":  # a birth's unusable metric was counted when it was declared
                    self._bad(kind, "a metric its birth did not declare", topic_name)
                    self._rebirth(node)
                continue
            if metric.is_historical:
                continue  # back-filled history: not the current value
            try:
                value = metric_value(metric, entry.datatype)
            except MetricError as error:
                self._bad(kind, f"metric {clean_text(entry.name, 60)}: {error}", topic_name)
                continue
            if device is None:
                continue
            role = entry.role
            what = role.what
            if what == "telemetry":
                if value is None or isinstance(value, bool | str):
                    continue
                name = role.telemetry
                if name not in device.telemetry and len(device.telemetry) >= MAX_TELEMETRY:
                    continue
                number = float(value)
                device.telemetry[name] = number
                if changes is None:
                    changes = {}
                changes[name] = number
            elif what != "ignore" and what != "command":
                self._set_field(device, what, value)
        return changes

    def _set_field(self, device: Device, what: str, value: bool | int | float | str | None) -> None:
        mapping = self.mapping
        if what == "state":
            device.state = None if value is None else state_of(value, mapping.state_values)
        elif what == "progress":
            device.progress = mapping.progress_of(value)
        elif what in ("job_id", "job_part", "kind", "model"):
            text = None if value is None or isinstance(value, bool) else clean_text(value, 64) or None
            setattr(device, what, text)

    def _value_of(self, payload: Any, name: str) -> bool | int | float | str | None:
        for metric in payload.metrics:
            if text_of(metric.name) == name:
                try:
                    return metric_value(metric, int(metric.datatype) or 8)
                except MetricError:
                    return None
        return None

    def _bad(self, kind: str, reason: str, topic_name: str) -> None:
        if len(self.malformed) < 10_000:
            self.malformed.append(MalformedEvent(None, kind, reason, excerpt(clean_text(topic_name, 160))))
