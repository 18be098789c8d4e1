"""Small recent histories per machine: telemetry values (for sparklines) and notable events (for the detail view).

Kept lazily (only for machines that had any) and bounded, so 20,000 machines cost little: a telemetry series is a
flat ``array('d')`` (8 bytes a value, no float objects kept alive), trimmed in batches so appends stay O(1).
"""

from __future__ import annotations

from array import array
from collections import deque
from dataclasses import dataclass

__all__ = ["MachineEvent", "MachineEvents", "TelemetryHistory"]


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
            values_of = series.get(name)
            if values_of is None:
                series[name] = array("d", (value,))
            else:
                values_of.append(value)
                if len(values_of) > limit:
                    del values_of[: len(values_of) - self.capacity]

    def get(self, machine_id: str, name: str) -> list[float]:
        """The recent values of one telemetry name, oldest first (empty if none)."""
        values_of = self._series.get(machine_id, {}).get(name)
        if values_of is None:
            return []
        return values_of[-self.capacity :].tolist()

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
