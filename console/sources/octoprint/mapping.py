"""Pure mapping from OctoPrint's REST answers to the console's words: no I/O, no clock, no store.

OctoPrint describes a printer with a state text (``"Printing"``, ``"Offline after error"``) and a set of boolean
flags (``operational``, ``printing``, ``paused``, ``pausing``, ``cancelling``, ``error``, ``closedOrError`` ...). The
console has one open enumeration of machine states (idle, running, paused, fault, offline ...). This module is the one
place that decides how the first becomes the second (the tables are in ``docs/octoprint.md``), so it is tested alone
with OctoPrint-shaped JSON; :mod:`console.sources.octoprint.translation` keeps the state these pure functions lack.

Everything read here came from the network: numbers are checked (finite, in range) and strings are kept as plain,
length-limited data. Nothing here renders anything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACTIVE_FLAGS",
    "NAME_RE",
    "PrinterView",
    "clean_text",
    "current_profile",
    "envelope_from_profile",
    "is_error_state_text",
    "job_file",
    "job_progress",
    "machine_id_for",
    "map_flags",
    "map_state_text",
    "parse_spec",
    "print_time",
    "print_time_left",
    "slug",
    "telemetry_from_temperatures",
]

MAX_TEXT = 200
"""OctoPrint strings (error texts, file names) are cut to this many characters: a console line, not a log."""

ACTIVE_FLAGS = ("printing", "paused", "pausing", "cancelling", "resuming", "finishing")
"""Flags that mean a job is in progress (a print started and not yet ended)."""

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""A printer name as given on the command line: it becomes part of machine and job ids, so it stays plain."""


def machine_id_for(name: str) -> str:
    """The console's machine id of the printer called ``name`` (``--octoprint NAME=URL``)."""
    return f"OP-{name}"


@dataclass(frozen=True, slots=True)
class PrinterView:
    """What one poll says about the machine: its console state, why, and the fault code if any."""

    state: str
    reason: str | None = None
    fault_code: str | None = None
    error: str | None = None
    """The printer's error text when it is in error (it raises an alert); ``None`` otherwise."""
    job_active: bool = False
    """A print is in progress (printing, paused, pausing, cancelling, resuming or finishing)."""
    cancelling: bool = False


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """An untrusted value as a short one-line plain string (control characters become spaces)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _flag(flags: Mapping[str, Any], name: str) -> bool:
    return flags.get(name) is True


def is_error_state_text(text: str) -> bool:
    """OctoPrint's state texts for a printer in error: ``Error: ...`` and ``Offline after error``."""
    lowered = text.strip().lower()
    return lowered.startswith("error") or lowered.startswith("offline after error")


def map_flags(state: Mapping[str, Any]) -> PrinterView:
    """Map the ``state`` object of ``GET /api/printer`` (``{"text", "flags", "error"}``) to a :class:`PrinterView`.

    The order matters: an error wins over everything, then a closed port, then the phases of a print (cancelling and
    pausing before paused, paused before printing), and a printer that is merely operational is idle.
    """
    flags = state.get("flags")
    if not isinstance(flags, Mapping):
        flags = {}
    text = clean_text(state.get("text")) or "Unknown"
    error_text = clean_text(state.get("error"))
    job_active = any(_flag(flags, name) for name in ACTIVE_FLAGS)
    if _flag(flags, "error") or is_error_state_text(text):
        message = error_text or text
        return PrinterView("fault", message, "printer_error", error=message, job_active=job_active)
    if _flag(flags, "closedOrError"):
        return PrinterView("offline", text)
    if _flag(flags, "cancelling"):
        return PrinterView("running", "cancelling", job_active=True, cancelling=True)
    if _flag(flags, "pausing"):
        return PrinterView("paused", "pausing", job_active=True)
    if _flag(flags, "paused"):
        return PrinterView("paused", None, job_active=True)
    if _flag(flags, "resuming"):
        return PrinterView("running", "resuming", job_active=True)
    if _flag(flags, "finishing"):
        return PrinterView("running", "finishing", job_active=True)
    if _flag(flags, "printing"):
        return PrinterView("running", None, job_active=True)
    if _flag(flags, "operational"):
        return PrinterView("idle", None)
    return PrinterView("offline", text)


def map_state_text(text: Any, error: Any = None) -> PrinterView:
    """Map a bare state text (``GET /api/job``'s ``state``) when ``/api/printer`` has no flags to give.

    OctoPrint answers ``/api/printer`` with 409 while the serial port is closed; its job endpoint still says why
    (``Offline``, ``Offline after error``, ``Connecting``, ``Detecting serial connection`` ...).
    """
    state_text = clean_text(text) or "Offline"
    error_text = clean_text(error)
    if is_error_state_text(state_text) or error_text:
        message = error_text or state_text
        return PrinterView("fault", message, "printer_error", error=message)
    lowered = state_text.lower()
    if lowered.startswith("printing") or lowered.startswith("sending file"):
        return PrinterView("running", None, job_active=True)
    if lowered.startswith("paused"):
        return PrinterView("paused", None, job_active=True)
    if lowered.startswith("pausing"):
        return PrinterView("paused", "pausing", job_active=True)
    if lowered.startswith("cancelling"):
        return PrinterView("running", "cancelling", job_active=True, cancelling=True)
    if lowered.startswith("operational"):
        return PrinterView("idle", None)
    return PrinterView("offline", state_text)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def telemetry_from_temperatures(temperature: Any) -> dict[str, float]:
    """``GET /api/printer``'s ``temperature`` object as telemetry: ``nozzle_c`` (tool0), ``nozzle1_c`` (tool1) ...,
    ``bed_c``, ``chamber_c``, and each heater's target as ``<name>_target_c``. Missing or non-finite values are left
    out (a heater that reports ``null`` has no reading, not a reading of zero)."""
    values: dict[str, float] = {}
    if not isinstance(temperature, Mapping):
        return values
    for heater, reading in temperature.items():
        if not isinstance(heater, str) or not isinstance(reading, Mapping):
            continue
        if heater.startswith("tool") and heater[4:].isdigit():
            index = int(heater[4:])
            name = "nozzle" if index == 0 else f"nozzle{index}"
        elif heater in ("bed", "chamber"):
            name = heater
        else:
            continue  # "history" and unknown keys
        actual = _finite(reading.get("actual"))
        target = _finite(reading.get("target"))
        if actual is not None:
            values[f"{name}_c"] = actual
        if target is not None:
            values[f"{name}_target_c"] = target
    return values


def job_progress(progress: Any) -> float | None:
    """``progress.completion`` (a percentage) as 0..1, or ``None`` when OctoPrint has none."""
    if not isinstance(progress, Mapping):
        return None
    completion = _finite(progress.get("completion"))
    if completion is None:
        return None
    return min(1.0, max(0.0, completion / 100.0))


def print_time_left(progress: Any) -> float | None:
    """``progress.printTimeLeft`` in seconds, or ``None`` when unknown."""
    if not isinstance(progress, Mapping):
        return None
    left = _finite(progress.get("printTimeLeft"))
    return None if left is None or left < 0 else left


def print_time(progress: Any) -> float:
    """``progress.printTime``: seconds since the print started (0 when unknown)."""
    if not isinstance(progress, Mapping):
        return 0.0
    elapsed = _finite(progress.get("printTime"))
    return 0.0 if elapsed is None or elapsed < 0 else elapsed


def job_file(job: Any) -> tuple[str, str] | None:
    """The current job's file as ``(path, display name)``, or ``None`` when no file is selected."""
    if not isinstance(job, Mapping):
        return None
    file = job.get("file")
    if not isinstance(file, Mapping):
        return None
    path = clean_text(file.get("path") or file.get("name"))
    if not path:
        return None
    display = clean_text(file.get("display") or file.get("name")) or path
    return path, display


def envelope_from_profile(profile: Any) -> tuple[float, float, float]:
    """A printer profile's build volume (``volume: {width, depth, height}``) in mm; zeros when unknown."""
    if not isinstance(profile, Mapping):
        return (0.0, 0.0, 0.0)
    volume = profile.get("volume")
    if not isinstance(volume, Mapping):
        return (0.0, 0.0, 0.0)
    dims = []
    for key in ("width", "depth", "height"):
        value = _finite(volume.get(key))
        dims.append(value if value is not None and value >= 0 else 0.0)
    return (dims[0], dims[1], dims[2])


def current_profile(profiles: Any) -> Mapping[str, Any] | None:
    """The current (else the default) profile of ``GET /api/printerprofiles``."""
    if not isinstance(profiles, Mapping):
        return None
    entries = profiles.get("profiles")
    if not isinstance(entries, Mapping):
        return None
    candidates = [p for p in entries.values() if isinstance(p, Mapping)]
    for key in ("current", "default"):
        for profile in candidates:
            if profile.get(key) is True:
                return profile
    return candidates[0] if candidates else None


def parse_spec(spec: str) -> tuple[str, str]:
    """``NAME=URL`` (the ``--octoprint`` option) as ``(name, url)``; raises ``ValueError`` with a plain reason."""
    name, sep, url = spec.partition("=")
    name, url = name.strip(), url.strip()
    if not sep or not name or not url:
        raise ValueError(f"expected NAME=URL, got {spec!r}")
    if not NAME_RE.match(name):
        raise ValueError(f"printer name {name!r}: use letters, digits, '_', '.', '-' (at most 64)")
    if not (url.startswith("http://") or url.startswith("https://")):
        raise ValueError(f"printer {name}: the URL must start with http:// or https://")
    return name, url.rstrip("/")


def slug(text: str, limit: int = 40) -> str:
    """A file name as a short id fragment: letters, digits, ``.``, ``_`` and ``-`` only."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.")
    return (cleaned or "file")[:limit]
