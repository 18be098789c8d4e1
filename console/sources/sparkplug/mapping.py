"""Which Sparkplug metric means what on the console: pure tables and functions, no I/O, no clock.

A Sparkplug device is a bag of named metrics (``State``, ``Progress``, ``Job/Id``, ``Temperature/Nozzle`` ...). The
console's machine has a state, a progress, a job and telemetry whose names carry their unit (``nozzle_c``). The
:class:`MetricMapping` (config: ``[profiles.<name>.sparkplug.mapping]``, defaults below, ``docs/sparkplug.md``)
says which metric is which; :meth:`MetricMapping.role` classifies a metric once, at its BIRTH, so the DATA path only
looks its role up by alias.

Everything here reads values from the network: texts are made plain and short, numbers are checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.sources.sparkplug.payload import BOOLEAN, NUMERIC

__all__ = [
    "COMMAND_VERBS",
    "IGNORE",
    "MAX_TEXT",
    "MetricMapping",
    "Role",
    "clean_text",
    "state_of",
    "telemetry_name",
]

MAX_TEXT = 200
"""A text shown in the console (a job id, a state reason) is cut to this many characters."""

COMMAND_VERBS = ("pause", "resume", "cancel")

KNOWN_STATES = ("idle", "running", "paused", "blocked", "fault", "maintenance", "offline")
STATE_WORDS: dict[str, str] = {
    **{state: state for state in KNOWN_STATES},
    "ready": "idle",
    "stopped": "idle",
    "standby": "idle",
    "available": "idle",
    "busy": "running",
    "active": "running",
    "execute": "running",
    "executing": "running",
    "printing": "running",
    "producing": "running",
    "held": "paused",
    "holding": "paused",
    "suspended": "paused",
    "pausing": "paused",
    "starved": "blocked",
    "blocked_out": "blocked",
    "waiting": "blocked",
    "error": "fault",
    "alarm": "fault",
    "aborted": "fault",
    "faulted": "fault",
    "down": "fault",
    "service": "maintenance",
    "setup": "maintenance",
}
"""State texts as devices send them (any case), to the console's states. A text not here is shown as it is."""

UNITS: dict[str, str] = {
    "°c": "c",
    "degc": "c",
    "c": "c",
    "celsius": "c",
    "%": "pct",
    "percent": "pct",
    "rpm": "rpm",
    "1/min": "rpm",
    "mm/min": "mm_min",
    "mm/s": "mm_s",
    "kw": "kw",
    "w": "w",
    "kwh": "kwh",
    "bar": "bar",
    "v": "v",
    "a": "a",
    "hz": "hz",
    "mm": "mm",
    "s": "s",
}
"""``engUnit`` property values to the suffix the contract's telemetry names use (``nozzle_c``, ``laser_pct``)."""

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """An untrusted value as a short one-line plain string (control characters become spaces)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit * 4:
        text = text[: limit * 4]
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slug(text: str) -> str:
    return _SLUG_RE.sub("_", text.lower()).strip("_")


def telemetry_name(metric: str, unit: str | None = None) -> str:
    """A metric's telemetry name: lower case, ``_`` between words, and its unit's suffix unless it ends with it.

    ``Temperature/Nozzle`` with ``engUnit = "°C"`` is ``temperature_nozzle_c``; ``Spindle/RPM`` is ``spindle_rpm``.
    """
    name = _slug(metric)[:60] or "value"
    if unit:
        key = unit.strip().lower()
        suffix = UNITS.get(key) or _slug(key)[:12]
        if suffix and name != suffix and not name.endswith("_" + suffix):
            name = f"{name}_{suffix}"
    return name


def state_of(value: bool | int | float | str | None, table: Mapping[str, str]) -> str | None:
    """A state metric's value as a console state: the configured table first (keys are texts: ``"3"``,
    ``"Execute"``), then the known words; an unknown text or number is kept, cleaned and short (an open enum)."""
    if value is None or isinstance(value, bool):
        return None
    text = clean_text(value if not isinstance(value, float) or not value.is_integer() else int(value), 32)
    if not text:
        return None
    mapped = table.get(text) or table.get(text.lower())
    if mapped is not None:
        return mapped
    return STATE_WORDS.get(text.lower().replace(" ", "_"), text)


@dataclass(frozen=True, slots=True)
class Role:
    """What one metric is to the console: ``state``, ``progress``, ``job_id``, ``job_part``, ``kind``, ``model``,
    ``telemetry`` (with its name), ``command`` (with its verb), or ``ignore``."""

    what: str
    telemetry: str = ""
    verb: str = ""


IGNORE = Role("ignore")


@dataclass(frozen=True)
class MetricMapping:
    """Metric names of the console's fields. See the module docstring and ``docs/sparkplug.md``."""

    state: str = "State"
    progress: str = "Progress"
    progress_scale: float = 100.0
    """What the progress metric's value is at the end: 100 (a percentage, the default) or 1 (a fraction)."""
    job_id: str = "Job/Id"
    job_part: str = "Job/Part"
    kind: str = "Kind"
    model: str = "Model"
    default_kind: str = "sparkplug_device"
    commands: Mapping[str, str] = field(
        default_factory=lambda: {"pause": "Command/Pause", "resume": "Command/Resume", "cancel": "Command/Cancel"}
    )
    state_values: Mapping[str, str] = field(default_factory=dict)
    telemetry: Mapping[str, str] = field(default_factory=dict)
    """Metric name -> telemetry name, for names the automatic rule (:func:`telemetry_name`) gets wrong."""
    ignore: tuple[str, ...] = ("Node Control/", "Device Control/", "Properties/", "bdSeq")
    """Metrics whose names start with one of these are not telemetry."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> MetricMapping:
        """The mapping of a config table (keys as in :class:`MetricMapping`; absent keys keep the defaults)."""
        if not options:
            return cls()
        known = {name: options[name] for name in cls.__dataclass_fields__ if name in options}
        for key in ("commands", "state_values", "telemetry"):
            if key in known:
                known[key] = {str(k): str(v) for k, v in dict(known[key]).items()}
        if "commands" in known:
            known["commands"] = {verb: known["commands"][verb] for verb in COMMAND_VERBS if verb in known["commands"]}
        if "ignore" in known:
            known["ignore"] = tuple(str(prefix) for prefix in known["ignore"])
        if "progress_scale" in known:
            known["progress_scale"] = float(known["progress_scale"])
        return cls(**known)

    def role(self, name: str, datatype: int, properties: Mapping[str, Any]) -> Role:
        """The role of the metric ``name`` as its BIRTH declares it (datatype and properties)."""
        if name == self.state:
            return Role("state")
        if name == self.progress:
            return Role("progress") if datatype in NUMERIC else IGNORE
        if name == self.job_id:
            return Role("job_id")
        if name == self.job_part:
            return Role("job_part")
        if name == self.kind:
            return Role("kind")
        if name == self.model:
            return Role("model")
        for verb, metric in self.commands.items():
            if name == metric:
                writable = properties.get("readOnly") is not True and properties.get("writable") is not False
                settable = datatype == BOOLEAN or datatype in NUMERIC
                return Role("command", verb=verb) if writable and settable else IGNORE
        if datatype not in NUMERIC or name.startswith(self.ignore):
            return IGNORE
        renamed = self.telemetry.get(name)
        if renamed is not None:
            return Role("telemetry", telemetry=renamed)
        unit = properties.get("engUnit", properties.get("EngUnit", properties.get("unit")))
        return Role("telemetry", telemetry=telemetry_name(name, unit if isinstance(unit, str) else None))

    def progress_of(self, value: bool | int | float | str | None) -> float | None:
        """A progress metric's value as 0..1 (``None`` when it has none)."""
        if value is None or isinstance(value, bool | str):
            return None
        scale = self.progress_scale if self.progress_scale > 0 else 100.0
        return min(1.0, max(0.0, float(value) / scale))
