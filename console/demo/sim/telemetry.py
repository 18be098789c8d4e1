"""Plausible telemetry per machine kind, state and loaded material.

Every name carries its unit (``nozzle_c``, ``spindle_rpm`` ...). Values follow the state: a running FDM printer's
nozzle sits at the material's print temperature, an idle one cools to room temperature, a thermal runaway overshoots.
"""

from __future__ import annotations

import random

from .draws import gauss

__all__ = ["baseline", "sample"]

_NOZZLE = {"PLA": 215.0, "PETG": 240.0, "ASA": 255.0, "ABS": 250.0, "PA6-CF": 280.0}
_BED = {"PLA": 60.0, "PETG": 80.0, "ASA": 100.0, "ABS": 100.0, "PA6-CF": 90.0}
_BARREL = {"ABS": 235.0, "polypropylene": 220.0, "PC": 295.0, "nylon PA66": 285.0}


def _targets(kind: str, state: str, material: str | None, condition: str | None) -> dict[str, float]:
    """Noise-free values for a machine in a state: what it would read in a perfectly steady shop."""
    running = state == "running"
    holding = state in ("paused", "blocked") and condition != "laser_door_open"
    if kind == "fdm_printer":
        nozzle = _NOZZLE.get(material or "", 220.0)
        bed = _BED.get(material or "", 60.0)
        hot = running or holding
        values = {
            "nozzle_c": nozzle if running else (170.0 if hot else 28.0),
            "bed_c": bed if hot else 26.0,
            "chamber_c": (40.0 if material in ("ASA", "ABS") else 29.0) if hot else 23.0,
            "power_kw": 0.28 if running else (0.12 if hot else 0.02),
        }
        if condition == "thermal_runaway":
            values["nozzle_c"] = nozzle + 75.0
        elif condition == "nozzle_clog":
            values["nozzle_c"] = nozzle
            values["power_kw"] = 0.15
        return values
    if kind == "sla_printer":
        return {"chamber_c": 35.0 if running or holding else 25.0, "power_kw": 0.15 if running else 0.03}
    if kind == "sls_printer":
        return {
            "chamber_c": 172.0 if running or holding else 45.0,
            "laser_pct": 65.0 if running else 0.0,
            "power_kw": 3.1 if running else (1.8 if holding else 0.4),
        }
    if kind in ("cnc_mill", "cnc_lathe"):
        mill = kind == "cnc_mill"
        values = {
            "spindle_rpm": (10000.0 if mill else 2500.0) if running else 0.0,
            "spindle_load_pct": (38.0 if mill else 31.0) if running else 0.0,
            "feed_mm_min": (1800.0 if mill else 250.0) if running else 0.0,
            "vibration_mm_s": (1.8 if mill else 1.2) if running else 0.2,
            "power_kw": (7.5 if mill else 5.0) if running else 0.8,
        }
        if condition == "spindle_overload":
            values["spindle_load_pct"] = 118.0
            values["vibration_mm_s"] = 7.5
            values["spindle_rpm"] = 0.0
        elif condition == "tool_wear" and running:
            values["vibration_mm_s"] *= 2.6
            values["spindle_load_pct"] *= 1.3
        return values
    if kind == "laser_cutter":
        return {
            "laser_pct": 85.0 if running else 0.0,
            "feed_mm_min": 6000.0 if running else 0.0,
            "power_kw": 9.0 if running else 1.2,
        }
    if kind == "injection_molder":
        barrel = _BARREL.get(material or "", 230.0)
        values = {
            "barrel_c": barrel if running or holding else 180.0,
            "mould_c": 60.0 if running or holding else 35.0,
            "power_kw": 12.0 if running else 3.0,
        }
        if condition == "mould_temp_deviation":
            values["mould_c"] = 76.0
        return values
    # inspection and anything else: a temperature-controlled room
    return {"chamber_c": 20.0, "power_kw": 0.6 if running else 0.3}


def baseline(kind: str, state: str, material: str | None) -> dict[str, float]:
    """Steady values without noise: the initial telemetry, computed without touching a random generator."""
    return _targets(kind, state, material, None)


def sample(kind: str, state: str, material: str | None, condition: str | None, rng: random.Random) -> dict[str, float]:
    """One noisy reading."""
    out: dict[str, float] = {}
    for name, target in _targets(kind, state, material, condition).items():
        if target == 0.0:
            out[name] = 0.0
            continue
        value = max(0.0, target * (1.0 + gauss(rng, 0.015)))
        # float(round(v)): the contract says float, and the events carry the record as it is (see ``construct``)
        out[name] = float(round(value)) if name.endswith("_rpm") else round(value, 1 if abs(value) >= 10 else 2)
    return out
