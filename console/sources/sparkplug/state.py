"""What the host knows of each edge node and device: plain records, written by :mod:`.host`, read by the
translation and the commands. No I/O.

Ids: Sparkplug ids cannot hold ``/`` (the MQTT level separator), so ``<group>/<edge node>`` is a unique contract node
id and ``<group>/<edge node>/<device>`` a unique machine id, and either reads as the Sparkplug path it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from console.sources.sparkplug.mapping import Role

__all__ = ["Device", "EdgeNode", "MetricDef", "machine_id_of", "node_id_of"]


def node_id_of(group: str, edge: str) -> str:
    return f"{group}/{edge}"


def machine_id_of(group: str, edge: str, device: str) -> str:
    return f"{group}/{edge}/{device}"


@dataclass(frozen=True, slots=True)
class MetricDef:
    """A metric as its BIRTH declared it: name, datatype, alias (if any) and what it is to the console."""

    name: str
    datatype: int
    alias: int | None
    role: Role


@dataclass(slots=True)
class Device:
    """A Sparkplug device: one console machine."""

    group: str
    edge: str
    device_id: str
    machine_id: str
    node_id: str
    born: bool = False
    """A DBIRTH since the edge node's last NBIRTH: its aliases are known and its data can be read."""
    online: bool = False
    offline_reason: str | None = None
    by_alias: dict[int, MetricDef] = field(default_factory=dict)
    by_name: dict[str, MetricDef] = field(default_factory=dict)
    commands: dict[str, MetricDef] = field(default_factory=dict)
    """Verb (``pause``, ``resume``, ``cancel``) -> the writable metric its DBIRTH declared for it."""
    state: str | None = None
    progress: float | None = None
    job_id: str | None = None
    job_part: str | None = None
    kind: str | None = None
    model: str | None = None
    telemetry: dict[str, float] = field(default_factory=dict)

    def forget_metrics(self) -> None:
        self.by_alias.clear()
        self.by_name.clear()
        self.commands.clear()


@dataclass(slots=True)
class EdgeNode:
    """A Sparkplug edge node: one console node, holding its devices."""

    group: str
    edge: str
    node_id: str
    born: bool = False
    """An NBIRTH was seen and no matching NDEATH since."""
    online: bool = False
    ever_born: bool = False
    bd_seq: int | None = None
    """The ``bdSeq`` of the current NBIRTH: only an NDEATH with the same value ends this session."""
    seq: int | None = None
    """The last ``seq`` received (0-255)."""
    missing: set[int] = field(default_factory=set)
    gap_deadline: float | None = None
    """When the reorder timeout of a gap ends (monotonic); then a rebirth is requested if still missing."""
    rebirth_at: float | None = None
    """When the last rebirth was requested (monotonic)."""
    by_alias: dict[int, MetricDef] = field(default_factory=dict)
    by_name: dict[str, MetricDef] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)

    def offline_devices(self) -> int:
        return sum(1 for device in self.devices.values() if not device.online)
