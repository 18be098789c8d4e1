"""The machines of the mixed floor's Sparkplug site, as pure seeded state: no MQTT, no clock, no I/O.

Each :class:`DemoDevice` runs jobs one after another: ``Running`` with its progress climbing to 100 %, then
``Idle`` a little while, then the next job. Now and then a running device faults (``Error``, the job lost) and is
back to ``Idle`` some seconds later. ``Paused`` (a DCMD ``Command/Pause``) holds it, progress and all, until
``Command/Resume``; ``Command/Cancel`` ends the job. The metric names are the console's default mapping
(``docs/sparkplug.md``), and the telemetry names come out as the contract's (``Nozzle`` in ``°C`` is ``nozzle_c``).

:meth:`DemoDevice.step` and :meth:`DemoDevice.command` return only the metrics that changed: the edge node
(``sparkplug_site``) sends those as DDATA.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["DEVICES", "DemoDevice", "DeviceSpec", "Telemetry", "Value"]

Value = bool | int | float | str | None


@dataclass(frozen=True)
class Telemetry:
    """One numeric metric: its name and ``engUnit``, its value at rest and at work, and its noise."""

    name: str
    unit: str
    idle: float
    working: float
    noise: float


@dataclass(frozen=True)
class DeviceSpec:
    """A device of the site: id, kind and model, its telemetry, the commands its DBIRTH declares, how long a job
    takes (seconds of wall time) and how likely a fault is per second of work."""

    device_id: str
    kind: str
    model: str
    telemetry: tuple[Telemetry, ...]
    commands: tuple[str, ...] = ("Pause", "Resume", "Cancel")
    job_s: float = 120.0
    fault_per_s: float = 1 / 400


DEVICES: tuple[DeviceSpec, ...] = (
    DeviceSpec(
        "Printer-1",
        "fdm_printer",
        "FDM 300",
        (Telemetry("Nozzle", "°C", 28.0, 215.0, 1.5), Telemetry("Bed", "°C", 24.0, 60.0, 0.5)),
        job_s=150.0,
    ),
    DeviceSpec(
        "Printer-2",
        "fdm_printer",
        "FDM 300",
        (Telemetry("Nozzle", "°C", 28.0, 240.0, 1.5), Telemetry("Bed", "°C", 24.0, 80.0, 0.5)),
        job_s=200.0,
    ),
    DeviceSpec(
        "Mill-3",
        "cnc_mill",
        "VMC 600",
        (Telemetry("Spindle", "rpm", 0.0, 12000.0, 150.0), Telemetry("Spindle/Load", "%", 0.0, 42.0, 4.0)),
        job_s=90.0,
        fault_per_s=1 / 250,
    ),
    DeviceSpec(
        "Laser-4",
        "laser_cutter",
        "CO2 1390",
        (Telemetry("Laser", "%", 0.0, 70.0, 3.0), Telemetry("Power", "kW", 0.2, 1.6, 0.05)),
        commands=(),  # declares no commands: the console offers no pause for it
        job_s=60.0,
    ),
)
"""The site's devices: two printers and a mill that can be paused, resumed and cancelled, and a laser that
declares no commands (so the console offers none for it)."""


@dataclass
class DemoDevice:
    """One device's state (see the module docstring)."""

    spec: DeviceSpec
    rng: random.Random
    state: str = "Idle"
    progress: float = 0.0
    job: str | None = None
    jobs_done: int = 0
    wait_s: float = 0.0
    """Seconds left idle (before the next job) or in fault (before it is back)."""
    values: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Mid-shift from the start: most devices are part-way through a job.
        if self.rng.random() < 0.75:
            self._start_job()
            self.progress = round(self.rng.uniform(5.0, 70.0), 1)
        else:
            self.wait_s = self.rng.uniform(3.0, 10.0)
        self.values = {t.name: self._reading(t) for t in self.spec.telemetry}

    # --- what the DBIRTH says -------------------------------------------------------------------------------------

    def birth_values(self) -> dict[str, Value]:
        """Every metric and its value now (the DBIRTH's), commands as ``False``."""
        metrics: dict[str, Value] = {
            "State": self.state,
            "Progress": self.progress,
            "Job/Id": self.job or "",
            "Kind": self.spec.kind,
            "Model": self.spec.model,
        }
        metrics.update(self.values)
        metrics.update({f"Command/{verb}": False for verb in self.spec.commands})
        return metrics

    # --- time passes ----------------------------------------------------------------------------------------------

    def step(self, dt: float) -> dict[str, Value]:
        """``dt`` seconds later: the metrics that changed."""
        before = (self.state, self.progress, self.job)
        if self.state == "Running":
            self.progress = min(100.0, round(self.progress + 100.0 * dt / self.spec.job_s, 1))
            if self.progress >= 100.0:
                self.jobs_done += 1
                self._idle(self.rng.uniform(4.0, 12.0))
            elif self.rng.random() < self.spec.fault_per_s * dt:
                self.state, self.wait_s = "Error", self.rng.uniform(15.0, 40.0)
        elif self.state in ("Idle", "Error"):
            self.wait_s -= dt
            if self.wait_s <= 0:
                if self.state == "Error":
                    self._idle(self.rng.uniform(3.0, 8.0))
                else:
                    self._start_job()
        changed = self._changes(before)
        for telemetry in self.spec.telemetry:
            self.values[telemetry.name] = self._reading(telemetry)
            changed[telemetry.name] = self.values[telemetry.name]
        return changed

    def command(self, verb: str) -> dict[str, Value]:
        """A DCMD ``Command/<verb>`` written true: the metrics that changed (none when it does not apply now)."""
        if verb not in self.spec.commands:
            return {}
        before = (self.state, self.progress, self.job)
        if verb == "Pause" and self.state == "Running":
            self.state = "Paused"
        elif verb == "Resume" and self.state == "Paused":
            self.state = "Running" if self.job else "Idle"
        elif verb == "Cancel" and self.job is not None and self.state in ("Running", "Paused"):
            self._idle(self.rng.uniform(4.0, 8.0))
        return self._changes(before)

    # --- helpers --------------------------------------------------------------------------------------------------

    def _start_job(self) -> None:
        self.state, self.progress = "Running", 0.0
        self.job = f"{self.spec.device_id}-J{self.jobs_done + 1:03d}"

    def _idle(self, seconds: float) -> None:
        self.state, self.job, self.progress, self.wait_s = "Idle", None, 0.0, seconds

    def _changes(self, before: tuple[str, float, str | None]) -> dict[str, Value]:
        changed: dict[str, Value] = {}
        if self.state != before[0]:
            changed["State"] = self.state
        if self.progress != before[1]:
            changed["Progress"] = self.progress
        if self.job != before[2]:
            changed["Job/Id"] = self.job or ""
        return changed

    def _reading(self, telemetry: Telemetry) -> float:
        working = self.state == "Running"
        base = telemetry.working if working else telemetry.idle
        noise = telemetry.noise if working else telemetry.noise / 10  # a machine at rest barely moves
        return round(max(0.0, base + self.rng.gauss(0.0, noise)), 1)
