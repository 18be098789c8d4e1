"""Small recent histories per machine: telemetry values (for sparklines) and notable events (for the detail view).

Kept lazily (only for machines that had any) and bounded, so 20,000 machines cost little. A machine's telemetry
history is one flat ``array('f')`` of rows, a value per telemetry name in a row (the names in the order they first
came), trimmed in batches so appends stay O(1): an event that brings the same names as the last one (nearly all do)
is appended with one ``array.extend``, which is what makes ``machine.telemetry`` cheap to ingest. Single precision
(7 significant digits) is plenty for a sparkline and keeps no float objects alive (at 20,000 machines with an hour of
history: ~8 MB; measured with ``benchmarks/bench_memory.py``). A name missing from an event is NaN in that row and
skipped when read. The exact current values are in ``Machine.telemetry``.
"""

from __future__ import annotations

from array import array
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from math import copysign, inf, nan

__all__ = ["MachineEvent", "MachineEvents", "TelemetryHistory"]

_FLOAT32_MAX = 3.4028234663852886e38
_INF = inf


@dataclass(slots=True, frozen=True)
class MachineEvent:
    """One notable thing that happened to a machine: ``at`` is when the console heard of it, on the store's clock
    (the server's, as the session sets it)."""

    at: datetime
    type: str
    summary: str


class _Series:
    """One machine's rows: ``names`` (the columns) and ``rows`` (row-major, ``len(names)`` values a row)."""

    __slots__ = ("names", "rows")

    def __init__(self, names: tuple[str, ...], rows: array[float]) -> None:
        self.names = names
        self.rows = rows


class TelemetryHistory:
    """The last ``capacity`` telemetry events of each machine, as rows of values by name."""

    __slots__ = ("_series", "_slack", "capacity")

    def __init__(self, capacity: int = 60, slack: int = 16) -> None:
        self.capacity = capacity
        self._slack = slack
        self._series: dict[str, _Series] = {}

    def add(self, machine_id: str, values: dict[str, float]) -> None:
        names = tuple(values)
        series = self._series.get(machine_id)
        if series is None:
            self._series[machine_id] = _Series(names, array("f", values.values()))
            return
        rows = series.rows
        if names == series.names:
            rows.extend(values.values())  # beyond single precision a value becomes +-inf: get() clamps it back
        else:
            self._add_other_names(series, values)
        width = len(series.names)
        if len(rows) > (self.capacity + self._slack) * width:
            del rows[: len(rows) - self.capacity * width]

    @staticmethod
    def _add_other_names(series: _Series, values: dict[str, float]) -> None:
        """An event with other names than the series' columns: add new columns (NaN in earlier rows), then a row
        with NaN for the columns it lacks."""
        new_names = tuple(name for name in values if name not in series.names)
        if new_names:
            old_width = len(series.names)
            old = series.rows
            grown: array[float] = array("f")
            pad = [nan] * len(new_names)
            for start in range(0, len(old), old_width):
                grown.extend(old[start : start + old_width])
                grown.extend(pad)
            series.names += new_names
            series.rows = grown
        series.rows.extend([values.get(name, nan) for name in series.names])

    def get(self, machine_id: str, name: str) -> list[float]:
        """The recent values of one telemetry name, oldest first (empty if none)."""
        series = self._series.get(machine_id)
        if series is None or name not in series.names:
            return []
        width = len(series.names)
        column = series.rows[series.names.index(name) :: width]
        recent = [value for value in column[-self.capacity :].tolist() if value == value]  # NaN: not in that event
        if _INF in recent or -_INF in recent:  # a finite value too big for single precision: keep sign, clamp size
            recent = [copysign(_FLOAT32_MAX, v) if v in (_INF, -_INF) else v for v in recent]
        return recent

    def names(self, machine_id: str) -> list[str]:
        series = self._series.get(machine_id)
        return [] if series is None else sorted(series.names)

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
