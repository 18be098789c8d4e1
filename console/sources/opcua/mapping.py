"""Pure mapping from what an OPC UA server says to the console's words: no I/O, no clock, no store, no asyncua.

The tables here are the ones ``docs/opcua.md`` documents: OPC 40001-1 machine states (``MachineryItemState`` and
``MachineryOperationMode``) to the contract's machine states, a simple state text (a server without the Machinery
model) to the same, Alarms & Conditions severities to alert priorities and their two-state variables to alert
states, and engineering units to telemetry names.

Everything read here came from the network: a value of the wrong type, a NaN or an unknown state name is *malformed*
(:class:`Malformed`, which the translation counts and steps over), and text is kept as plain, length-limited data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "ITEM_STATES",
    "MAX_TEXT",
    "NAME_RE",
    "OPERATION_MODES",
    "SHELVED_STATES",
    "AlertView",
    "MachineView",
    "Malformed",
    "alert_state",
    "clean_text",
    "finite",
    "machine_view",
    "priority_for",
    "slug",
    "snake",
    "telemetry_name",
    "text_state",
    "utc",
]

MAX_TEXT = 200
"""Server strings (names, messages, comments) are cut to this many characters: a console line, not a log."""

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""A server's name as given on the command line or in the config: it becomes part of machine and alert ids."""

ITEM_STATES = frozenset({"NotAvailable", "OutOfService", "Executing", "NotExecuting"})
"""The states of ``MachineryItemState_StateMachineType`` (OPC 40001-1)."""

OPERATION_MODES = frozenset({"None", "Maintenance", "Setup", "Processing"})
"""The states of ``MachineryOperationModeStateMachineType`` (OPC 40001-1)."""


class Malformed(ValueError):
    """A value from the server that cannot be used (wrong type, not finite, unknown enumeration value)."""


@dataclass(frozen=True, slots=True)
class MachineView:
    """A machine's console state, why, and the fault code if any."""

    state: str
    reason: str | None = None
    fault_code: str | None = None


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """An untrusted value as a short one-line plain string (control characters become spaces; cut at ``limit``).

    Only the first ``limit * 4`` characters are looked at, so a megabyte string costs no more than a short one.
    """
    if value is None:
        return ""
    text = getattr(value, "Text", value)  # a LocalizedText's text
    if text is None:
        return ""
    text = text if isinstance(text, str) else str(text)
    head = text[: limit * 4]
    flat = "".join(ch if ch.isprintable() else " " for ch in head).strip()
    if len(flat) <= limit and len(head) == len(text):
        return flat
    return flat[: limit - 1].rstrip() + "…"


def slug(text: str, limit: int = 48) -> str:
    """Text as an id fragment: letters, digits, ``.``, ``_`` and ``-`` only."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.-")
    return (cleaned or "x")[:limit]


def snake(text: str, limit: int = 40) -> str:
    """``SpindleSpeed`` or ``Oil temperature`` as ``spindle_speed``, ``oil_temperature``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])", "_", text)
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")[:limit] or "value"


def finite(value: Any) -> float:
    """A numeric value as a float; raises :class:`Malformed` for a bool, a non-number, NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Malformed(f"not a number ({type(value).__name__})")
    number = float(value)
    if not math.isfinite(number):
        raise Malformed("not a finite number")
    return number


# --- machine states -------------------------------------------------------------------------------------------------


def machine_view(item_state: str | None, mode: str | None) -> MachineView:
    """OPC 40001-1 ``MachineryItemState`` and ``MachineryOperationMode`` (BrowseNames of the current states) to the
    console's state. ``None`` is a state the server does not expose (or has not sent yet).

    =============  ================  ===========  ==============================  ===============
    item state     operation mode    state        reason                          fault code
    =============  ================  ===========  ==============================  ===============
    NotAvailable   any               offline      not available
    OutOfService   Maintenance       maintenance  out of service: maintenance
    OutOfService   Setup             maintenance  out of service: setup
    OutOfService   other or none     fault        out of service                  out_of_service
    Executing      Setup/Maintenance running      setup / maintenance
    Executing      other or none     running
    NotExecuting   Maintenance       maintenance  maintenance
    NotExecuting   Setup             idle         setup
    NotExecuting   other or none     idle
    none           Maintenance       maintenance  maintenance
    none           other or none     idle         no machine state on the server
    =============  ================  ===========  ==============================  ===============
    """
    if item_state is not None and item_state not in ITEM_STATES:
        raise Malformed("unknown MachineryItemState")
    if mode is not None and mode not in OPERATION_MODES:
        raise Malformed("unknown MachineryOperationMode")
    if item_state == "NotAvailable":
        return MachineView("offline", "not available")
    if item_state == "OutOfService":
        if mode in ("Maintenance", "Setup"):
            return MachineView("maintenance", f"out of service: {mode.lower()}")
        return MachineView("fault", "out of service", "out_of_service")
    if item_state == "Executing":
        return MachineView("running", mode.lower() if mode in ("Setup", "Maintenance") else None)
    if mode == "Maintenance":
        return MachineView("maintenance", "maintenance")
    if item_state == "NotExecuting":
        return MachineView("idle", "setup" if mode == "Setup" else None)
    return MachineView("idle", "no machine state on the server")


_TEXT_STATES: dict[str, str] = {
    "running": "running",
    "executing": "running",
    "processing": "running",
    "busy": "running",
    "working": "running",
    "idle": "idle",
    "ready": "idle",
    "notexecuting": "idle",
    "stopped": "idle",
    "paused": "paused",
    "hold": "paused",
    "held": "paused",
    "blocked": "blocked",
    "waiting": "blocked",
    "starved": "blocked",
    "fault": "fault",
    "error": "fault",
    "alarm": "fault",
    "aborted": "fault",
    "maintenance": "maintenance",
    "outofservice": "maintenance",
    "setup": "maintenance",
    "offline": "offline",
    "off": "offline",
    "notavailable": "offline",
    "unavailable": "offline",
}


def text_state(value: Any) -> MachineView:
    """A state variable's text (a server without the Machinery model: ``Running``, ``Idle``, ``Error`` ...) to the
    console's state; raises :class:`Malformed` for another type or a word not in the table (``docs/opcua.md``)."""
    if not isinstance(value, str) and not isinstance(getattr(value, "Text", None), str):
        raise Malformed("a state that is not text")
    text = clean_text(value, 60)
    key = re.sub(r"[^a-z]", "", text.lower())
    state = _TEXT_STATES.get(key)
    if state is None:
        raise Malformed("unknown state text")
    if state == "fault":
        return MachineView("fault", text, snake(text))
    return MachineView(state, None if key in ("running", "idle", state) else text)


# --- alarms & conditions --------------------------------------------------------------------------------------------


def priority_for(severity: Any) -> str:
    """An A&C ``Severity`` (1..1000) as a priority: >= 800 critical, >= 600 high, >= 400 medium, else low.

    Raises :class:`Malformed` for a severity that is not an integer in 1..1000.
    """
    if isinstance(severity, bool) or not isinstance(severity, int) or not 1 <= severity <= 1000:
        raise Malformed("severity not in 1..1000")
    if severity >= 800:
        return "critical"
    if severity >= 600:
        return "high"
    if severity >= 400:
        return "medium"
    return "low"


@dataclass(frozen=True, slots=True)
class AlertView:
    """What one condition event says about its alert: its contract state (``resolved`` when it is over), and
    whether the condition can be acknowledged at all."""

    state: str
    acknowledgeable: bool


def _flag(value: Any, name: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise Malformed(f"{name} is not a boolean")
    return value


def alert_state(*, active: Any, acked: Any, retain: Any, enabled: Any = True, shelved: bool = False) -> AlertView:
    """A condition's ``ActiveState/Id``, ``AckedState/Id``, ``Retain``, ``EnabledState/Id`` and shelving as an alert
    state. ``None`` is a field the condition does not have (a ``ConditionType`` has neither Active nor Acked state).

    ====================  ================  ==========================================
    Active                Acked             state
    ====================  ================  ==========================================
    true                  false             active_unacked
    true                  true              active_acked
    false                 false             cleared_unacked
    false                 true              resolved
    true / none           none              active_acked (nothing to acknowledge)
    false                 none              resolved
    ====================  ================  ==========================================

    ``Retain`` false, or a disabled condition, is ``resolved`` whatever the rest says; a shelved condition that
    would be shown is ``shelved``.
    """
    is_active = _flag(active, "ActiveState/Id")
    is_acked = _flag(acked, "AckedState/Id")
    keeps = _flag(retain, "Retain")
    is_enabled = _flag(enabled, "EnabledState/Id")
    acknowledgeable = is_acked is not None
    if is_enabled is False or keeps is False:
        return AlertView("resolved", acknowledgeable)
    if is_active is None:
        is_active = keeps is True
    if is_acked is None:
        state = "active_acked" if is_active else "resolved"
    elif is_active:
        state = "active_acked" if is_acked else "active_unacked"
    else:
        state = "resolved" if is_acked else "cleared_unacked"
    if shelved and state != "resolved":
        state = "shelved"
    return AlertView(state, acknowledgeable)


SHELVED_STATES = frozenset({"TimedShelved", "OneShotShelved"})
"""``ShelvedStateMachineType`` states in which a condition is shelved (``Unshelved`` is the other)."""


# --- telemetry ------------------------------------------------------------------------------------------------------

_UNITS: dict[str, str] = {
    "°c": "c",
    "degc": "c",
    "cel": "c",
    "°f": "f",
    "k": "k",
    "%": "pct",
    "percent": "pct",
    "rpm": "rpm",
    "1/min": "rpm",
    "r/min": "rpm",
    "kw": "kw",
    "w": "w",
    "kwh": "kwh",
    "mm/s": "mm_s",
    "mm/min": "mm_min",
    "m/min": "m_min",
    "mm": "mm",
    "m": "m",
    "bar": "bar",
    "pa": "pa",
    "kpa": "kpa",
    "mpa": "mpa",
    "a": "a",
    "v": "v",
    "hz": "hz",
    "s": "s",
    "ms": "ms",
    "min": "min",
    "h": "h",
    "kg": "kg",
    "g": "g",
    "n": "n",
    "kn": "kn",
    "nm": "nm",
    "l/min": "l_min",
}


def telemetry_name(browse_name: str, unit: str | None) -> str:
    """A variable's telemetry name, carrying its unit as the contract's names do: ``SpindleSpeed`` in ``rpm`` is
    ``spindle_speed_rpm``, ``OilTemperature`` in ``°C`` is ``oil_temperature_c``; without a unit, the name alone."""
    base = snake(browse_name)
    if not unit:
        return base
    key = unit.strip().lower()
    suffix = _UNITS.get(key) or snake(key, 12)
    return base if base.endswith(f"_{suffix}") else f"{base}_{suffix}"


def utc(value: Any, fallback: datetime) -> datetime:
    """An event time as an aware UTC datetime (``fallback`` when it is not a time or is absurd)."""
    if not isinstance(value, datetime):
        return fallback
    when = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if abs(when - fallback) > timedelta(days=3650):
        return fallback
    return when.astimezone(UTC)
