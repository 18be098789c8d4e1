"""OctoPrint-shaped answers, after the examples of OctoPrint's REST API documentation (docs.octoprint.org, "Printer
operations" and "Job operations") and what OctoPrint 1.11 answered in the states the docs do not show."""

from __future__ import annotations

import copy
from typing import Any

FLAG_NAMES = (
    "cancelling",
    "closedOrError",
    "error",
    "finishing",
    "operational",
    "paused",
    "pausing",
    "printing",
    "ready",
    "resuming",
    "sdReady",
)


def flags(*on: str) -> dict[str, bool]:
    return {name: name in on for name in FLAG_NAMES}


def printer_state(text: str, *on: str, error: str = "") -> dict[str, Any]:
    return {"text": text, "flags": flags(*on), "error": error}


# GET /api/printer, the documented example (two tools, a bed, a history list).
PRINTER_OPERATIONAL: dict[str, Any] = {
    "temperature": {
        "tool0": {"actual": 214.8821, "target": 220.0, "offset": 0},
        "tool1": {"actual": 25.3, "target": None, "offset": 0},
        "bed": {"actual": 50.221, "target": 70.0, "offset": 5},
        "history": [
            {
                "time": 1395651928,
                "tool0": {"actual": 214.8821, "target": 220.0},
                "tool1": {"actual": 25.3, "target": None},
                "bed": {"actual": 50.221, "target": 70.0},
            }
        ],
    },
    "sd": {"ready": True},
    "state": printer_state("Operational", "operational", "ready", "sdReady"),
}

STATES: dict[str, dict[str, Any]] = {
    "Operational": printer_state("Operational", "operational", "ready", "sdReady"),
    "Printing": printer_state("Printing", "operational", "printing", "sdReady"),
    "Pausing": printer_state("Pausing", "operational", "pausing", "printing", "sdReady"),
    "Paused": printer_state("Paused", "operational", "paused", "sdReady"),
    "Resuming": printer_state("Resuming", "operational", "resuming", "printing", "sdReady"),
    "Cancelling": printer_state("Cancelling", "operational", "cancelling", "printing", "sdReady"),
    "Finishing": printer_state("Finishing", "operational", "finishing", "printing", "sdReady"),
    "Error": printer_state("Error", "error", "closedOrError", error="MINTEMP triggered!"),
    "Offline after error": printer_state(
        "Offline after error", "closedOrError", "error", error="Too many consecutive timeouts"
    ),
    "Offline": printer_state("Offline", "closedOrError"),
    "Connecting": printer_state("Connecting"),
}


def printer(state: str, temperature: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = copy.deepcopy(PRINTER_OPERATIONAL)
    answer["state"] = copy.deepcopy(STATES[state])
    if temperature is not None:
        answer["temperature"] = temperature
    return answer


# GET /api/job, the documented example while printing.
JOB_PRINTING: dict[str, Any] = {
    "job": {
        "file": {"name": "whistle_v2.gcode", "origin": "local", "size": 1468987, "date": 1378847754},
        "estimatedPrintTime": 8811,
        "filament": {"tool0": {"length": 810, "volume": 5.36}},
    },
    "progress": {"completion": 0.2298468264184775, "filepos": 337942, "printTime": 276, "printTimeLeft": 912},
    "state": "Printing",
}

# GET /api/job with no file selected (as OctoPrint 1.11 answers it).
JOB_NONE: dict[str, Any] = {
    "job": {
        "estimatedPrintTime": None,
        "filament": {"length": None, "volume": None},
        "file": {"date": None, "name": None, "origin": None, "path": None, "size": None},
        "lastPrintTime": None,
        "user": None,
    },
    "progress": {
        "completion": None,
        "filepos": None,
        "printTime": None,
        "printTimeLeft": None,
        "printTimeLeftOrigin": None,
    },
    "state": "Operational",
}


def job(
    state: str,
    *,
    path: str = "whistle_v2.gcode",
    completion: float | None = 0.2298468264184775,
    print_time: int | None = 276,
    left: int | None = 912,
    error: str | None = None,
) -> dict[str, Any]:
    answer = copy.deepcopy(JOB_PRINTING)
    answer["state"] = state
    answer["job"]["file"].update(name=path.rsplit("/", 1)[-1], path=path, display=path.rsplit("/", 1)[-1])
    answer["progress"].update(completion=completion, printTime=print_time, printTimeLeft=left)
    if error:
        answer["error"] = error
    return answer


# GET /api/printerprofiles (abridged documented example).
PROFILES: dict[str, Any] = {
    "profiles": {
        "_default": {
            "id": "_default",
            "name": "Default",
            "current": True,
            "default": True,
            "model": "Generic RepRap Printer",
            "volume": {"formFactor": "rectangular", "origin": "lowerleft", "width": 200, "depth": 210, "height": 200},
        }
    }
}

VERSION: dict[str, Any] = {"api": "0.1", "server": "1.11.8", "text": "OctoPrint 1.11.8"}
