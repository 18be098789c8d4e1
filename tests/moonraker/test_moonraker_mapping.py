"""The pure mapping from Klipper's and Moonraker's words to the console's (the tables of docs/moonraker.md)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from console.sources.moonraker.mapping import (
    envelope,
    map_state,
    parse_queue,
    parse_spec,
    print_progress,
    seconds_left,
    telemetry,
    websocket_url,
)


def stats(state: str, message: str = "", **extra: Any) -> dict[str, Any]:
    return {"print_stats": {"state": state, "message": message, "filename": "a.gcode"}, **extra}


@pytest.mark.parametrize(
    ("host", "message", "objects", "expected"),
    [
        ("ready", "", stats("printing"), ("running", None, None)),
        ("ready", "", stats("paused"), ("paused", None, None)),
        ("ready", "", stats("standby"), ("idle", None, None)),
        ("ready", "", stats("complete"), ("idle", "print complete", None)),
        ("ready", "", stats("cancelled"), ("idle", "print cancelled", None)),
        ("ready", "", stats("error", "Move out of range"), ("fault", "Move out of range", "print_error")),
        ("ready", "", stats("error"), ("fault", "print error", "print_error")),
        ("ready", "", stats("standby", idle_timeout={"state": "Printing"}), ("idle", "running G-code", None)),
        ("ready", "", stats("warming"), ("idle", "print state warming", None)),
        ("ready", "", {}, ("idle", None, None)),
        (
            "shutdown",
            "MCU 'mcu' shutdown: Timer too close",
            stats("error"),
            ("fault", "MCU 'mcu' shutdown: Timer too close", "klipper_shutdown"),
        ),
        ("error", "Option 'x' is not valid", {}, ("fault", "Option 'x' is not valid", "klipper_error")),
        ("shutdown", "", {}, ("fault", "Klipper shutdown", "klipper_shutdown")),
        ("startup", "", {}, ("offline", "Klipper starting", None)),
        ("disconnected", "", stats("printing"), ("offline", "Klipper disconnected", None)),
        ("", "", {}, ("offline", "Klipper disconnected", None)),
        ("rebooting", "", {}, ("offline", "Klipper rebooting", None)),
    ],
)
def test_machine_state(host: str, message: str, objects: dict[str, Any], expected: tuple[Any, ...]) -> None:
    view = map_state(host, message, objects)
    assert (view.state, view.reason, view.fault_code) == expected
    assert (view.error is not None) == (view.state == "fault")
    assert view.job_active == (view.state in ("running", "paused"))


def test_the_display_message_is_the_reason_of_a_running_or_paused_print() -> None:
    objects = stats("printing", display_status={"message": "Layer 3/120"})
    assert map_state("ready", "", objects).reason == "Layer 3/120"
    objects = stats("paused", display_status={"message": "\x1b[31mfilament\nrunout\x07"})
    assert map_state("ready", "", objects).reason == "[31mfilament runout"


def test_telemetry_keeps_finite_plausible_numbers_only() -> None:
    objects = {
        "extruder": {"temperature": 209.5, "target": 210.0},
        "extruder1": {"temperature": math.nan, "target": "hot"},
        "heater_bed": {"temperature": True, "target": 60},
        "chamber_fan": {"speed": 1.0},
        "extruder2": {"temperature": 1e9},
    }
    assert telemetry(objects) == {"nozzle_c": 209.5, "nozzle_target_c": 210.0, "bed_target_c": 60.0}
    assert telemetry({"extruder": "not an object"}) == {}


def test_progress_and_time_left() -> None:
    objects = {"display_status": {"progress": 0.25}, "virtual_sdcard": {"progress": 0.2}}
    assert print_progress(objects) == 0.25
    assert print_progress({"virtual_sdcard": {"progress": 3}}) == 1.0
    assert print_progress({"display_status": {"progress": None}, "virtual_sdcard": {"progress": -1}}) == 0.0
    assert print_progress({}) is None
    spent = {"print_stats": {"print_duration": 300.0}}
    assert seconds_left(spent, 0.25) == pytest.approx(900.0)
    assert seconds_left(spent, 0.001) is None  # too early to tell
    assert seconds_left({"print_stats": {"print_duration": "x"}}, 0.5) is None


def test_envelope_from_the_toolhead_limits() -> None:
    toolhead = {"toolhead": {"axis_minimum": [-5.0, 0.0, -2.0, 0.0], "axis_maximum": [230.0, 235.0, 250.0, 0.0]}}
    assert envelope(toolhead) == (235.0, 235.0, 252.0)
    assert envelope({"toolhead": {"axis_minimum": [0, 0], "axis_maximum": "big"}}) == (0.0, 0.0, 0.0)
    assert envelope({"toolhead": {"axis_minimum": [0, 0, 0], "axis_maximum": [1e9, math.inf, 5]}}) == (0.0, 0.0, 5.0)


def test_the_queue_keeps_well_formed_entries() -> None:
    answer = {
        "queued_jobs": [
            {"filename": "a.gcode", "job_id": "0000000066D99C90", "time_added": 1636151050.7666452},
            {"filename": "sub/b.gcode", "job_id": "0000000066D991F0", "time_added": "yesterday"},
            {"filename": "c.gcode", "job_id": "../../etc"},
            {"filename": "", "job_id": "00A"},
            {"filename": "d.gcode", "job_id": 7},
            "not an entry",
        ],
        "queue_state": "ready",
    }
    parsed = parse_queue(answer)
    assert parsed is not None
    queue, state = parsed
    assert [(q.job_id, q.filename, q.time_added) for q in queue] == [
        ("0000000066D99C90", "a.gcode", 1636151050.7666452),
        ("0000000066D991F0", "sub/b.gcode", None),
    ]
    assert state == "ready"
    assert parse_queue({"action": "state_changed", "updated_queue": [], "queue_state": "paused"}) == ([], "paused")
    assert parse_queue({"queued_jobs": "many"}) is None
    assert parse_queue(["not", "a", "status"]) is None


def test_spec_and_websocket_url() -> None:
    assert parse_spec("k1=http://10.0.4.30:7125/") == ("k1", "http://10.0.4.30:7125")
    assert parse_spec(" voron.2 = wss://farm.example/voron ") == ("voron.2", "wss://farm.example/voron")
    for bad in ("k1", "=http://x", "bad name=http://x", "k1=ftp://x", "k1="):
        with pytest.raises(ValueError):
            parse_spec(bad)
    assert websocket_url("http://10.0.4.30:7125") == "ws://10.0.4.30:7125/websocket"
    assert websocket_url("https://farm.example/voron/") == "wss://farm.example/voron/websocket"
    assert websocket_url("ws://10.0.4.30:7125/websocket") == "ws://10.0.4.30:7125/websocket"
