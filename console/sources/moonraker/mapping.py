"""Pure mapping from what Moonraker and Klipper say to the console's words: no I/O, no clock, no store.

Klipper describes a printer with its host state (``webhooks.state``: ready, startup, shutdown, error; Moonraker adds
*disconnected*) and printer objects: ``print_stats`` (``state``: standby, printing, paused, complete, cancelled,
error; ``filename``, ``message``, durations), ``virtual_sdcard`` and ``display_status`` (progress), ``extruder`` and
``heater_bed`` (temperatures), ``idle_timeout``. The console has one open enumeration of machine states. This module
is the one place that decides how the first becomes the second (the tables are in ``docs/moonraker.md``), so it is
tested alone; :mod:`console.sources.moonraker.translation` keeps the state these pure functions lack.

Everything read here came from the network: numbers are checked (finite, in range) and strings are kept as plain,
length-limited data. Nothing here renders anything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "MAX_TEXT",
    "NAME_RE",
    "SUBSCRIPTION",
    "PrinterView",
    "QueuedFile",
    "clean_text",
    "envelope",
    "finite",
    "machine_id_for",
    "map_state",
    "parse_queue",
    "parse_spec",
    "print_elapsed",
    "print_file",
    "print_progress",
    "seconds_left",
    "slug",
    "telemetry",
    "websocket_url",
]

MAX_TEXT = 200
"""Strings from the printer (messages, file names) are cut to this many characters: a console line, not a log."""

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""A printer name as given on the command line: it becomes part of machine and job ids, so it stays plain."""

_HEATERS = {"extruder": "nozzle", "extruder1": "nozzle1", "extruder2": "nozzle2", "heater_bed": "bed"}

SUBSCRIPTION: dict[str, list[str] | None] = {
    "webhooks": ["state", "state_message"],
    "print_stats": ["state", "filename", "message", "print_duration", "total_duration"],
    "virtual_sdcard": ["progress", "is_active", "file_path"],
    "display_status": ["progress", "message"],
    "idle_timeout": ["state"],
    "toolhead": ["axis_minimum", "axis_maximum"],
    **{heater: ["temperature", "target"] for heater in _HEATERS},
}
"""What ``printer.objects.subscribe`` asks for: objects a printer lacks (``extruder1``) are left out by Klipper."""

_IDLE_REASONS = {"complete": "print complete", "cancelled": "print cancelled"}


def machine_id_for(name: str) -> str:
    """The console's machine id of the printer called ``name`` (``--moonraker NAME=URL``)."""
    return f"MR-{name}"


@dataclass(frozen=True, slots=True)
class PrinterView:
    """What the printer's state says about the machine: its console state, why, and the fault code if any."""

    state: str
    reason: str | None = None
    fault_code: str | None = None
    error: str | None = None
    """The fault's text when there is one (it raises an alert); ``None`` otherwise."""
    job_active: bool = False
    """A print is in progress (printing or paused)."""
    print_state: str = ""
    """``print_stats.state`` as Klipper said it (cleaned)."""


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """An untrusted value as a short one-line plain string (control characters become spaces)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def finite(value: Any) -> float | None:
    """A JSON number that is finite, else ``None`` (booleans and strings are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _object(objects: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = objects.get(name)
    return value if isinstance(value, Mapping) else {}


def map_state(klippy_state: str, klippy_message: str, objects: Mapping[str, Any]) -> PrinterView:
    """The machine state from Klipper's host state (``server.info``'s ``klippy_state``, or ``webhooks.state``), its
    message, and the printer objects. The first rule that matches wins (``docs/moonraker.md``, "Machine state")."""
    host = clean_text(klippy_state, 40).lower() or "disconnected"
    message = clean_text(klippy_message)
    if host == "disconnected":
        return PrinterView("offline", "Klipper disconnected")
    if host == "startup":
        return PrinterView("offline", message or "Klipper starting")
    if host in ("shutdown", "error"):
        text = message or f"Klipper {host}"
        code = "klipper_shutdown" if host == "shutdown" else "klipper_error"
        return PrinterView("fault", text, code, error=text)
    if host != "ready":
        return PrinterView("offline", f"Klipper {host}")
    stats = _object(objects, "print_stats")
    state = clean_text(stats.get("state"), 40).lower()
    if state == "error":
        text = clean_text(stats.get("message")) or "print error"
        return PrinterView("fault", text, "print_error", error=text, print_state=state)
    display = clean_text(_object(objects, "display_status").get("message")) or None
    if state == "printing":
        return PrinterView("running", display, job_active=True, print_state=state)
    if state == "paused":
        return PrinterView("paused", display, job_active=True, print_state=state)
    if state in ("standby", "complete", "cancelled", ""):
        busy = clean_text(_object(objects, "idle_timeout").get("state"), 40) == "Printing"
        reason = _IDLE_REASONS.get(state) or ("running G-code" if busy else None)
        return PrinterView("idle", reason, print_state=state or "standby")
    return PrinterView("idle", f"print state {state}", print_state=state)


def telemetry(objects: Mapping[str, Any]) -> dict[str, float]:
    """Temperatures as telemetry: ``extruder`` as ``nozzle_c`` and ``nozzle_target_c``, ``extruder1`` as
    ``nozzle1_c`` ..., ``heater_bed`` as ``bed_c`` and ``bed_target_c``. A missing or non-finite value is left out
    (no reading is not a reading of zero), and so is an absurd one (outside -100..2000 °C)."""
    values: dict[str, float] = {}
    for heater, name in _HEATERS.items():
        reading = _object(objects, heater)
        for key, suffix in (("temperature", "_c"), ("target", "_target_c")):
            number = finite(reading.get(key))
            if number is not None and -100.0 <= number <= 2000.0:
                values[name + suffix] = number
    return values


def print_progress(objects: Mapping[str, Any]) -> float | None:
    """The print's progress 0..1: ``display_status.progress`` (M73 or the file position), else
    ``virtual_sdcard.progress``; ``None`` when neither says."""
    for name in ("display_status", "virtual_sdcard"):
        number = finite(_object(objects, name).get("progress"))
        if number is not None:
            return min(1.0, max(0.0, number))
    return None


def print_file(objects: Mapping[str, Any]) -> tuple[str, str] | None:
    """The print's file as ``(path relative to the gcodes folder, display name)``, or ``None``."""
    path = clean_text(_object(objects, "print_stats").get("filename"))
    if not path:
        return None
    return path, path.rsplit("/", 1)[-1] or path


def seconds_left(objects: Mapping[str, Any], progress: float | None) -> float | None:
    """Time left, estimated from the time spent printing and the progress (as Mainsail's "file" estimate);
    ``None`` before 1 % (too early to tell)."""
    spent = finite(_object(objects, "print_stats").get("print_duration"))
    if spent is None or spent < 0 or progress is None or progress < 0.01:
        return None
    return spent / progress - spent


def print_elapsed(objects: Mapping[str, Any]) -> float:
    """``print_stats.total_duration``: seconds since the print started, pauses included (0 when unknown)."""
    total = finite(_object(objects, "print_stats").get("total_duration"))
    return 0.0 if total is None or total < 0 else min(total, 10 * 365 * 86400.0)


def envelope(objects: Mapping[str, Any]) -> tuple[float, float, float]:
    """The build volume in mm from ``toolhead.axis_maximum - axis_minimum`` (x, y, z); zeros when unknown."""
    toolhead = _object(objects, "toolhead")
    high, low = toolhead.get("axis_maximum"), toolhead.get("axis_minimum")
    if not isinstance(high, list) or not isinstance(low, list) or len(high) < 3 or len(low) < 3:
        return (0.0, 0.0, 0.0)
    dims = []
    for index in range(3):
        top, bottom = finite(high[index]), finite(low[index])
        size = top - bottom if top is not None and bottom is not None else 0.0
        dims.append(size if 0 <= size <= 100_000 else 0.0)
    return (dims[0], dims[1], dims[2])


@dataclass(frozen=True, slots=True)
class QueuedFile:
    """One entry of Moonraker's job queue."""

    job_id: str
    filename: str
    time_added: float | None


_QUEUE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def parse_queue(answer: Any) -> tuple[list[QueuedFile], str] | None:
    """``server.job_queue.status`` (or a ``notify_job_queue_changed`` with ``updated_queue``) as the queued files
    and the queue state; ``None`` when it is not shaped like one. Entries that are not (an id that is not plain, no
    file name) are left out; at most 500 are kept."""
    if not isinstance(answer, Mapping):
        return None
    jobs = answer.get("queued_jobs", answer.get("updated_queue"))
    if not isinstance(jobs, list):
        return None
    queue: list[QueuedFile] = []
    for entry in jobs[:500]:
        if not isinstance(entry, Mapping):
            continue
        job_id, filename = entry.get("job_id"), clean_text(entry.get("filename"))
        if not isinstance(job_id, str) or not _QUEUE_ID.match(job_id) or not filename:
            continue
        added = finite(entry.get("time_added"))
        queue.append(QueuedFile(job_id, filename, added if added is not None and 0 < added < 1e11 else None))
    return queue, clean_text(answer.get("queue_state"), 40)


def parse_spec(spec: str) -> tuple[str, str]:
    """``NAME=URL`` (the ``--moonraker`` option) as ``(name, url)``; raises ``ValueError`` with a plain reason."""
    name, sep, url = spec.partition("=")
    name, url = name.strip(), url.strip()
    if not sep or not name or not url:
        raise ValueError(f"expected NAME=URL, got {spec!r}")
    if not NAME_RE.match(name):
        raise ValueError(f"printer name {name!r}: use letters, digits, '_', '.', '-' (at most 64)")
    if not url.startswith(("http://", "https://", "ws://", "wss://")):
        raise ValueError(f"printer {name}: the URL must start with http://, https://, ws:// or wss://")
    return name, url.rstrip("/")


def websocket_url(url: str) -> str:
    """Moonraker's websocket for a base URL: ``http://host:7125`` -> ``ws://host:7125/websocket`` (``https`` ->
    ``wss``); a URL that already ends in ``/websocket`` is kept."""
    parts = urlsplit(url.rstrip("/"))
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path if parts.path.endswith("/websocket") else parts.path + "/websocket"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def slug(text: str, limit: int = 40) -> str:
    """A file name as a short id fragment: letters, digits, ``.``, ``_`` and ``-`` only."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.")
    return (cleaned or "file")[:limit]
