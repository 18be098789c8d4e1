"""The contract as models: unknown fields ignored, unknown enum values kept as they are, times timezone-aware."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from console.api.models import Alert, Event, Machine, MachineState, Snapshot

MACHINE = {
    "id": "M-1",
    "node_id": "N-1",
    "name": "Prusa #1",
    "kind": "fdm_printer",
    "model": "Prusa MK4",
    "state": "running",
    "state_since": "2026-11-25T12:00:00Z",
    "envelope_mm": [250, 210, 220],
    "last_seen": "2026-11-25T12:00:05Z",
}


def test_unknown_fields_are_ignored():
    machine = Machine.model_validate({**MACHINE, "warp_factor": 9, "future": {"nested": True}})
    assert machine.id == "M-1"
    assert "warp_factor" not in machine.model_dump()


def test_unknown_enum_values_are_kept_as_their_string():
    machine = Machine.model_validate({**MACHINE, "state": "levitating", "kind": "plasma_torch"})
    assert machine.state == "levitating" and machine.kind == "plasma_torch"
    assert MachineState.RUNNING == "running"  # known values still compare as plain strings


def test_times_are_timezone_aware_and_naive_times_are_refused():
    machine = Machine.model_validate(MACHINE)
    assert machine.state_since.tzinfo is not None
    with pytest.raises(ValidationError):
        Machine.model_validate({**MACHINE, "last_seen": "2026-11-25T12:00:05"})


@pytest.mark.parametrize("progress", [-0.1, 1.5, float("nan")])
def test_out_of_range_or_nan_progress_is_malformed(progress):
    with pytest.raises(ValidationError):
        Machine.model_validate({**MACHINE, "progress": progress})


def test_events_parse_by_type_and_unknown_types_are_none():
    event = Event.parse(5, "machine.updated", json.dumps(MACHINE))
    assert event is not None and event.seq == 5 and isinstance(event.data, Machine)
    assert Event.parse(6, "machine.teleported", "{}") is None


def test_alert_with_an_unknown_priority_and_state_still_parses():
    alert = Alert.model_validate(
        {
            "id": "A-1",
            "priority": "apocalyptic",
            "state": "on_fire",
            "source": {"kind": "spaceship", "id": "X"},
            "code": "c",
            "message": "m",
            "raised_at": "2026-11-25T12:00:00Z",
            "updated_at": "2026-11-25T12:00:00Z",
        }
    )
    assert (alert.priority, alert.state, alert.source.kind) == ("apocalyptic", "on_fire", "spaceship")


def test_snapshot_defaults_to_empty_lists():
    snapshot = Snapshot.model_validate(
        {
            "seq": 1,
            "cluster": {
                "id": "c",
                "name": "n",
                "region": "r",
                "server_time": "2026-11-25T12:00:00Z",
                "seq": 1,
                "instance_id": "i",
            },
        }
    )
    assert snapshot.machines == [] and snapshot.alerts == []
