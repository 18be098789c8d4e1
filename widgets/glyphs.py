"""Words, glyphs and style classes for states and kinds: the one vocabulary every widget uses.

ISA-101 (high-performance HMI) says normal must look calm and only abnormal draws the eye, and that colour is never
the only cue (colour-blind operators, monochrome terminals, NO_COLOR). So every state has a *word* and a *glyph*,
and a style class that is ``normal`` for the normal states; themes give colour only to the abnormal classes.

Unknown values (the contract's enumerations are open) get a ``?`` glyph, the ``unknown`` class and their own
cleaned text as the word. An ASCII-only glyph set exists for terminals without Unicode (``set_ascii_only(True)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from widgets.charset import ascii_only, set_ascii_only
from widgets.safe_text import clean

__all__ = [
    "ALERT_PRIORITY_CLASS",
    "KIND_ABBR",
    "KIND_TELEMETRY",
    "StateLook",
    "alert_priority_look",
    "ascii_only",
    "job_status_look",
    "kind_abbr",
    "kind_glyph",
    "machine_state_look",
    "node_state_look",
    "set_ascii_only",
    "telemetry_label",
]


@dataclass(frozen=True, slots=True)
class StateLook:
    """How a state is shown: its word, its glyph, and its style class (``normal``, ``fault``, ``unknown`` ...)."""

    word: str
    glyph: str
    style: str

    @property
    def label(self) -> str:
        return f"{self.glyph} {self.word}"


# state -> (unicode glyph, ascii glyph, style class)
_MACHINE_STATES: dict[str, tuple[str, str, str]] = {
    "idle": ("○", "-", "normal"),
    "running": ("▶", ">", "normal"),
    "paused": ("‖", "=", "paused"),
    "blocked": ("■", "#", "blocked"),
    "fault": ("✖", "X", "fault"),
    "maintenance": ("◆", "M", "maintenance"),
    "offline": ("⊘", "o", "offline"),
}

_NODE_STATES: dict[str, tuple[str, str, str]] = {
    "online": ("●", "*", "normal"),
    "degraded": ("◐", "~", "blocked"),
    "offline": ("⊘", "o", "offline"),
    "paused": ("‖", "=", "paused"),
}

_JOB_STATUSES: dict[str, tuple[str, str, str]] = {
    "queued": ("·", ".", "normal"),
    "assigned": ("→", ">", "normal"),
    "running": ("▶", ">", "normal"),
    "paused": ("‖", "=", "paused"),
    "completed": ("✔", "v", "normal"),
    "failed": ("✖", "X", "fault"),
    "cancelled": ("⊘", "o", "offline"),
}

_ALERT_PRIORITIES: dict[str, tuple[str, str, str]] = {
    "critical": ("‼", "!!", "critical"),
    "high": ("▲", "^", "high"),
    "medium": ("◆", "*", "medium"),
    "low": ("·", ".", "low"),
}

ALERT_PRIORITY_CLASS: dict[str, str] = {"critical": "critical", "high": "high", "medium": "medium", "low": "low"}

KIND_ABBR: dict[str, str] = {
    "fdm_printer": "FDM",
    "sla_printer": "SLA",
    "sls_printer": "SLS",
    "cnc_mill": "MILL",
    "cnc_lathe": "LATH",
    "laser_cutter": "LASR",
    "injection_molder": "INJM",
    "inspection": "INSP",
    "assembly": "ASSY",
}

_KIND_GLYPH: dict[str, tuple[str, str]] = {
    "fdm_printer": ("⊓", "P"),
    "sla_printer": ("◒", "S"),
    "sls_printer": ("▦", "S"),
    "cnc_mill": ("⊕", "M"),
    "cnc_lathe": ("◎", "L"),
    "laser_cutter": ("⌁", "Z"),
    "injection_molder": ("⊏", "I"),
    "inspection": ("⌕", "Q"),
    "assembly": ("⧉", "A"),
}

KIND_TELEMETRY: dict[str, tuple[str, ...]] = {
    "fdm_printer": ("nozzle_c", "bed_c"),
    "sla_printer": ("chamber_c", "power_kw"),
    "sls_printer": ("chamber_c", "power_kw"),
    "cnc_mill": ("spindle_load_pct", "spindle_rpm", "vibration_mm_s"),
    "cnc_lathe": ("spindle_load_pct", "spindle_rpm", "vibration_mm_s"),
    "laser_cutter": ("laser_pct", "power_kw"),
    "injection_molder": ("power_kw", "chamber_c"),
    "inspection": ("power_kw",),
    "assembly": ("power_kw",),
}
"""The most telling telemetry value per kind, in order of preference."""

_TELEMETRY_FORMAT: dict[str, tuple[str, str, int]] = {
    # name -> (short label, unit, decimals)
    "nozzle_c": ("nozzle", "°C", 0),
    "bed_c": ("bed", "°C", 0),
    "chamber_c": ("chamber", "°C", 0),
    "spindle_rpm": ("spindle", "rpm", 0),
    "spindle_load_pct": ("load", "%", 0),
    "feed_mm_min": ("feed", "mm/min", 0),
    "laser_pct": ("laser", "%", 0),
    "power_kw": ("power", "kW", 1),
    "vibration_mm_s": ("vib", "mm/s", 1),
}


def _look(table: dict[str, tuple[str, str, str]], value: object) -> StateLook:
    key = value if isinstance(value, str) else str(value)
    known = table.get(key)
    if known is None:
        return StateLook(clean(key, 16) or "?", "?", "unknown")
    glyph, ascii_glyph, style = known
    return StateLook(key, ascii_glyph if ascii_only() else glyph, style)


def machine_state_look(state: object) -> StateLook:
    return _look(_MACHINE_STATES, state)


def node_state_look(state: object) -> StateLook:
    return _look(_NODE_STATES, state)


def job_status_look(status: object) -> StateLook:
    return _look(_JOB_STATUSES, status)


def alert_priority_look(priority: object) -> StateLook:
    return _look(_ALERT_PRIORITIES, priority)


def kind_abbr(kind: object) -> str:
    """A short (4 cells) code for a known machine kind; an unknown kind is shown as it is (cleaned, ≤ 8 chars)."""
    key = kind if isinstance(kind, str) else str(kind)
    return KIND_ABBR.get(key) or clean(key, 8) or "?"


def kind_glyph(kind: object) -> str:
    key = kind if isinstance(kind, str) else str(kind)
    known = _KIND_GLYPH.get(key)
    if known is None:
        return "?"
    return known[1] if ascii_only() else known[0]


def telemetry_label(kind: object, telemetry: Mapping[str, float]) -> str:
    """The most telling telemetry value of a machine as ``label value unit`` (``nozzle 215°C``), or ``""``."""
    if not telemetry:
        return ""
    key = kind if isinstance(kind, str) else str(kind)
    name = next((n for n in KIND_TELEMETRY.get(key, ()) if n in telemetry), None)
    if name is None:
        name = min(telemetry)
    value = telemetry[name]
    label, unit, decimals = _TELEMETRY_FORMAT.get(name, (clean(name, 12), "", 1))
    if unit and ascii_only():
        unit = unit.replace("°", "")  # 215C: the degree sign is not ASCII
    return f"{label} {value:.{decimals}f}{unit}"
