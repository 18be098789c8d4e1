"""Small recent histories per machine: telemetry values (for sparklines) and notable events (for the detail view).

Kept lazily (only for machines that had any) and bounded, so 20,000 machines cost little: a telemetry series is a
flat ``array('f')`` (4 bytes a value, no float objects kept alive), trimmed in batches so appends stay O(1). Single
precision (7 significant digits) is plenty for a sparkline, and it keeps a series under 512 bytes, so it comes from
Python's small-object allocator, which reuses the memory a big snapshot's parse freed (at 20,000 machines with an
hour of history: +43 MB with doubles, ~0 with floats; measured with ``benchmarks/bench_memory.py``). The exact
current values are in ``Machine.telemetry``.
"""

from __future__ import annotations

from array import array
from collections import deque
from dataclasses import dataclass
from math import copysign, inf

__all__ = ["MachineEvent", "MachineEvents", "TelemetryHistory"]

_FLOAT32_MAX = 3.4028234663852886e38
_INF = inf


@dataclass(slots=True, frozen=True)
class MachineEvent:
    """One notable thing that happened to a machine: ``at`` is wall time (epoch seconds)."""

    at: float
    type: str
    summary: str


class TelemetryHistory:
    """The last ``capacity`` values of each telemetry name of each machine."""

    __slots__ = ("_series", "_slack", "capacity")

    def __init__(self, capacity: int = 60, slack: int = 16) -> None:
        self.capacity = capacity
        self._slack = slack
        self._series: dict[str, dict[str, array[float]]] = {}

    def add(self, machine_id: str, values: dict[str, float]) -> None:
        series = self._series.get(machine_id)
        if series is None:
            series = self._series[machine_id] = {}
        limit = self.capacity + self._slack
        for name, value in values.items():
            try:
                values_of = series[name]
            except KeyError:
                values_of = series[name] = array("f")
            values_of.append(value)  # beyond single precision it becomes +-inf: get() clamps it back
            if len(values_of) > limit:
                del values_of[: len(values_of) - self.capacity]

    def get(self, machine_id: str, name: str) -> list[float]:
        """The recent values of one telemetry name, oldest first (empty if none)."""
        values_of = self._series.get(machine_id, {}).get(name)
        if values_of is None:
            return []
        recent = values_of[-self.capacity :].tolist()
        if _INF in recent or -_INF in recent:  # a finite value too big for single precision: keep sign, clamp size
            recent = [copysign(_FLOAT32_MAX, v) if v in (_INF, -_INF) else v for v in recent]
        return recent

    def names(self, machine_id: str) -> list[str]:
        return sorted(self._series.get(machine_id, {}))

    def drop(self, machine_id: str) -> None:
        self._series.pop(machine_id, None)

    def __len__(self) -> int:
        return len(self._series)


class MachineEvents:
    """The last few notable events per machine (state and job changes, faults, alerts), newest last."""

    __slots__ = ("_rings", "capacity")

    def __init__(self, capacity: int = 20) -> None:
        self.capacity = capacity
        self._rings: dict[str, deque[MachineEvent]] = {}

    def add(self, machine_id: str, event: MachineEvent) -> None:
        ring = self._rings.get(machine_id)
        if ring is None:
            ring = self._rings[machine_id] = deque(maxlen=self.capacity)
        ring.append(event)

    def get(self, machine_id: str) -> list[MachineEvent]:
        return list(self._rings.get(machine_id, ()))

    def drop(self, machine_id: str) -> None:
        self._rings.pop(machine_id, None)
