"""The toy printer behind the Klipper stand-in: Klipper's printer objects and how they change.

The objects and fields are Klipper's (``docs/Status_Reference.md``): ``webhooks``, ``print_stats``, ``virtual_sdcard``,
``display_status``, ``extruder``, ``heater_bed``, ``idle_timeout``, ``pause_resume``, ``toolhead``, ``configfile``.
A print advances ``virtual_sdcard.progress`` each :meth:`ToyPrinter.step` and ends ``complete``; heaters approach
their targets; the G-code Moonraker sends (``SDCARD_PRINT_FILE``, ``PAUSE``, ``M104`` ...) does what Klipper's would.
Every change goes to ``push`` as the fields that changed, which the stand-in sends to its subscribers.
No I/O and no loop here: the stand-in calls it on its own thread.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["READY_MESSAGE", "PrinterError", "ToyPrinter", "pick"]

READY_MESSAGE = "Printer is ready"

Status = dict[str, dict[str, Any]]


class PrinterError(Exception):
    """What Klipper refuses (the stand-in answers ``{"error": {"error": "WebRequestError", "message": ...}}``)."""


def pick(status: Status, wanted: dict[str, list[str] | None]) -> Status:
    """The objects (and fields) asked for that exist; unknown objects are left out, as Klipper does."""
    picked: Status = {}
    for name, fields in wanted.items():
        if name not in status:
            continue
        chosen = {k: copy.deepcopy(v) for k, v in status[name].items() if fields is None or k in fields}
        if chosen:
            picked[name] = chosen
    return picked


class ToyPrinter:
    """Klipper's objects for one printer whose virtual SD card is ``gcodes``. See the module docstring."""

    def __init__(self, gcodes: Path, push: Callable[[Status], None], *, tick: float, print_seconds: float) -> None:
        self.gcodes = gcodes
        self.push = push
        self.tick = tick
        self.print_seconds = print_seconds
        self.scripts: list[str] = []
        """Every G-code script received (``gcode/script``)."""
        self.rate = 1.0 / print_seconds
        self.status: Status = self.fresh()

    def fresh(self) -> Status:
        """A printer just started: ready, in standby, cold."""
        return {
            "webhooks": {"state": "ready", "state_message": READY_MESSAGE},
            "print_stats": {
                "filename": "",
                "total_duration": 0.0,
                "print_duration": 0.0,
                "filament_used": 0.0,
                "state": "standby",
                "message": "",
                "info": {"total_layer": None, "current_layer": None},
            },
            "virtual_sdcard": {"file_path": None, "progress": 0.0, "is_active": False, "file_position": 0},
            "display_status": {"progress": 0.0, "message": None},
            "extruder": {"temperature": 22.0, "target": 0.0, "power": 0.0, "can_extrude": False},
            "heater_bed": {"temperature": 21.5, "target": 0.0, "power": 0.0},
            "idle_timeout": {"state": "Ready", "printing_time": 0.0},
            "pause_resume": {"is_paused": False},
            "toolhead": {
                "homed_axes": "",
                "axis_minimum": [0.0, 0.0, 0.0, 0.0],
                "axis_maximum": [235.0, 235.0, 250.0, 0.0],
            },
            "configfile": {
                "config": {"virtual_sdcard": {"path": str(self.gcodes)}},
                "settings": {"virtual_sdcard": {"path": str(self.gcodes)}},
                "save_config_pending": False,
            },
            "gcode_move": {"speed_factor": 1.0, "extrude_factor": 1.0},
        }

    @property
    def ready(self) -> bool:
        return bool(self.status["webhooks"]["state"] == "ready")

    def update(self, changes: Status) -> None:
        """Apply ``changes`` and push the fields that changed."""
        diff: Status = {}
        for name, fields in changes.items():
            current = self.status.setdefault(name, {})
            for key, value in fields.items():
                if key not in current or current[key] != value:
                    current[key] = value
                    diff.setdefault(name, {})[key] = value
        if diff:
            self.push(diff)

    # --- a print --------------------------------------------------------------------------------------------------

    def start_print(self, filename: str, seconds: float | None = None) -> None:
        if not self.ready:
            raise PrinterError("Printer not ready")
        if self.status["print_stats"]["state"] in ("printing", "paused"):
            raise PrinterError("SD busy")
        path = self.gcodes / filename
        self.rate = 1.0 / (seconds or self.print_seconds)
        self.update(
            {
                "print_stats": {
                    "filename": filename,
                    "state": "printing",
                    "message": "",
                    "total_duration": 0.0,
                    "print_duration": 0.0,
                },
                "virtual_sdcard": {"file_path": str(path), "progress": 0.0, "is_active": True},
                "display_status": {"progress": 0.0},
                "idle_timeout": {"state": "Printing"},
                "pause_resume": {"is_paused": False},
                "extruder": {"target": 210.0},
                "heater_bed": {"target": 60.0},
            }
        )

    def pause(self) -> None:
        if self.status["print_stats"]["state"] != "printing":
            raise PrinterError("Print is not in progress")
        self.update(
            {
                "print_stats": {"state": "paused"},
                "pause_resume": {"is_paused": True},
                "virtual_sdcard": {"is_active": False},
            }
        )

    def resume(self) -> None:
        if self.status["print_stats"]["state"] != "paused":
            raise PrinterError("Print is not paused, resume aborted")
        self.update(
            {
                "print_stats": {"state": "printing"},
                "pause_resume": {"is_paused": False},
                "virtual_sdcard": {"is_active": True},
            }
        )

    def cancel(self) -> None:
        if self.status["print_stats"]["state"] not in ("printing", "paused"):
            raise PrinterError("Print is not in progress")
        self.end_print("cancelled", "")

    def end_print(self, state: str, message: str) -> None:
        """The print ends ``complete``, ``cancelled`` or ``error`` (with ``message``); heaters off."""
        self.update(
            {
                "print_stats": {"state": state, "message": message},
                "virtual_sdcard": {"is_active": False},
                "pause_resume": {"is_paused": False},
                "idle_timeout": {"state": "Ready"},
                "extruder": {"target": 0.0},
                "heater_bed": {"target": 0.0},
            }
        )

    def shutdown(self, message: str) -> None:
        """Klipper shuts down: a print in progress ends in error; ``webhooks`` says ``shutdown`` and why."""
        if self.status["print_stats"]["state"] in ("printing", "paused"):
            self.end_print("error", message)
        self.update({"webhooks": {"state": "shutdown", "state_message": message}})

    def standby(self) -> None:
        """Back to standby, heaters off (a ready printer between tests)."""
        fresh = self.fresh()
        self.update({name: fresh[name] for name in ("print_stats", "virtual_sdcard", "display_status", "idle_timeout")})
        self.update({"pause_resume": fresh["pause_resume"], "extruder": {"target": 0.0}, "heater_bed": {"target": 0.0}})

    def step(self) -> None:
        """One tick: heaters move towards their targets; a print advances (and completes at 100 %)."""
        changes: Status = {}
        for heater in ("extruder", "heater_bed"):
            status = self.status[heater]
            temperature, target = status.get("temperature"), status.get("target")
            if isinstance(temperature, int | float) and isinstance(target, int | float):
                goal = target if target > 0 else 21.0
                new = round(temperature + (goal - temperature) * 0.3, 2)
                if new != temperature:
                    changes[heater] = {"temperature": new, "power": 1.0 if goal > new else 0.0}
        stats = self.status["print_stats"]
        if stats.get("state") in ("printing", "paused"):
            stats_change: dict[str, Any] = {"total_duration": round(stats["total_duration"] + self.tick, 3)}
            if stats["state"] == "printing":
                stats_change["print_duration"] = round(stats["print_duration"] + self.tick, 3)
                progress = min(1.0, round(self.status["virtual_sdcard"]["progress"] + self.rate * self.tick, 4))
                changes["virtual_sdcard"] = {"progress": progress}
                changes["display_status"] = {"progress": progress}
                if progress >= 1.0:
                    self.update({"print_stats": stats_change, **changes})
                    self.end_print("complete", "")
                    return
            changes["print_stats"] = stats_change
        self.update(changes)

    # --- G-code ---------------------------------------------------------------------------------------------------

    def run_script(self, script: str) -> None:
        """``gcode/script``: the commands Moonraker sends, done as Klipper would; the rest is accepted."""
        self.scripts.append(script)
        for line in script.splitlines():
            words = line.strip().split()
            if not words:
                continue
            command = words[0].upper()
            if command == "SDCARD_PRINT_FILE":
                match = re.search(r'FILENAME="?((?:[^"\\]|\\.)*)"?', line)
                if match is None:
                    raise PrinterError("SDCARD_PRINT_FILE: missing FILENAME")
                self.start_print(match.group(1).replace('\\"', '"'))
            elif command == "PAUSE":
                self.pause()
            elif command == "RESUME":
                self.resume()
            elif command == "CANCEL_PRINT":
                self.cancel()
            elif command in ("M104", "M109", "M140", "M190"):
                value = next((float(w[1:]) for w in words[1:] if w.upper().startswith("S")), 0.0)
                self.update({"extruder" if command in ("M104", "M109") else "heater_bed": {"target": value}})
            elif command == "M117":
                self.update({"display_status": {"message": line.strip()[5:] or None}})
