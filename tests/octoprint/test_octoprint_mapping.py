"""The pure mapping from OctoPrint's answers to machine states, telemetry and job fields."""

from __future__ import annotations

import pytest

from console.sources.octoprint.mapping import (
    clean_text,
    current_profile,
    envelope_from_profile,
    job_file,
    job_progress,
    map_flags,
    map_state_text,
    parse_spec,
    print_time_left,
    slug,
    telemetry_from_temperatures,
)
from tests.octoprint import fixtures


@pytest.mark.parametrize(
    ("octoprint_state", "state", "reason", "job_active"),
    [
        ("Operational", "idle", None, False),
        ("Printing", "running", None, True),
        ("Pausing", "paused", "pausing", True),
        ("Paused", "paused", None, True),
        ("Resuming", "running", "resuming", True),
        ("Cancelling", "running", "cancelling", True),
        ("Finishing", "running", "finishing", True),
        ("Offline", "offline", "Offline", False),
        ("Connecting", "offline", "Connecting", False),
    ],
)
def test_flags_map_to_machine_states(octoprint_state: str, state: str, reason: str | None, job_active: bool) -> None:
    view = map_flags(fixtures.STATES[octoprint_state])
    assert (view.state, view.reason, view.job_active) == (state, reason, job_active)
    assert view.error is None and view.fault_code is None


@pytest.mark.parametrize("octoprint_state", ["Error", "Offline after error"])
def test_errors_are_faults_with_the_printer_text(octoprint_state: str) -> None:
    view = map_flags(fixtures.STATES[octoprint_state])
    expected = fixtures.STATES[octoprint_state]["error"]
    assert (view.state, view.fault_code, view.error, view.reason) == ("fault", "printer_error", expected, expected)


def test_an_error_flag_without_text_uses_the_state_text() -> None:
    view = map_flags(fixtures.printer_state("Error: something", "error"))
    assert view.state == "fault" and view.error == "Error: something"


def test_missing_or_odd_flags_are_offline_not_a_crash() -> None:
    assert map_flags({}).state == "offline"
    assert map_flags({"text": "Weird", "flags": "nope"}).state == "offline"
    assert map_flags({"text": None, "flags": {"printing": "yes"}}).state == "offline"  # only true counts


@pytest.mark.parametrize(
    ("text", "error", "state", "fault"),
    [
        ("Offline", None, "offline", False),
        ("Offline after error", None, "fault", True),
        ("Error: MINTEMP triggered!", None, "fault", True),
        ("Offline", "Connection lost", "fault", True),
        ("Detecting serial connection", None, "offline", False),
        ("Operational", None, "idle", False),
        ("Printing from SD", None, "running", False),
        ("Paused", None, "paused", False),
        (None, None, "offline", False),
    ],
)
def test_state_text_when_the_printer_endpoint_is_closed(
    text: str | None, error: str | None, state: str, fault: bool
) -> None:
    view = map_state_text(text, error)
    assert view.state == state
    assert (view.error is not None) is fault


def test_temperatures_become_telemetry_with_targets() -> None:
    values = telemetry_from_temperatures(fixtures.PRINTER_OPERATIONAL["temperature"])
    assert values == {
        "nozzle_c": 214.8821,
        "nozzle_target_c": 220.0,
        "nozzle1_c": 25.3,
        "bed_c": 50.221,
        "bed_target_c": 70.0,
    }


def test_telemetry_skips_non_numbers_and_unknown_heaters() -> None:
    values = telemetry_from_temperatures(
        {
            "chamber": {"actual": 31.5, "target": 0},
            "tool0": {"actual": float("nan"), "target": True},
            "toolX": {"actual": 1.0},
            "W": {"actual": 2.0},
            "bed": "hot",
        }
    )
    assert values == {"chamber_c": 31.5, "chamber_target_c": 0.0}
    assert telemetry_from_temperatures(None) == {}


def test_job_fields() -> None:
    answer = fixtures.JOB_PRINTING
    assert job_progress(answer["progress"]) == pytest.approx(0.002298468264184775)
    assert print_time_left(answer["progress"]) == 912
    assert job_file(answer["job"]) == ("whistle_v2.gcode", "whistle_v2.gcode")
    assert job_file(fixtures.JOB_NONE["job"]) is None
    assert job_progress(fixtures.JOB_NONE["progress"]) is None
    assert job_progress({"completion": 150}) == 1.0
    assert job_progress({"completion": -3}) == 0.0
    assert print_time_left({"printTimeLeft": -1}) is None


def test_untrusted_strings_are_cut_and_flattened() -> None:
    text = clean_text("[bold red]x[/]\x1b[31m\nline" + "y" * 500)
    assert "\n" not in text and "\x1b" not in text
    assert text.startswith("[bold red]x[/]")  # kept as data: rendering escapes it elsewhere
    assert len(text) == 200 and text.endswith("…")
    assert slug("../My part (v2).gcode") == "My_part_v2_.gcode"
    assert slug("!!!") == "file"


def test_profile_envelope() -> None:
    profile = current_profile(fixtures.PROFILES)
    assert envelope_from_profile(profile) == (200.0, 210.0, 200.0)
    assert envelope_from_profile(None) == (0.0, 0.0, 0.0)
    assert current_profile({"profiles": []}) is None


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("mk3=http://10.0.0.5", ("mk3", "http://10.0.0.5")),
        (" ender-2 = https://farm.local/octo/ ", ("ender-2", "https://farm.local/octo")),
    ],
)
def test_parse_spec(spec: str, expected: tuple[str, str]) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["mk3", "=http://x", "mk3=", "bad name=http://x", "mk3=ftp://x", "a/b=http://x"])
def test_parse_spec_refuses(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_spec(spec)
