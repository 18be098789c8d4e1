"""Stored objects are compacted (shared fields sets, interned strings, shared designs) without changing their values."""

from __future__ import annotations

import copy

import pytest

from console.api.models import Job, Machine
from console.store import Store
from console.store.compact import SharedFieldsSet
from console.store.history import TelemetryHistory
from tests.store import factories as f


def wire(model: type, obj: object) -> object:
    """The object as it comes off the wire: parsed from its JSON (so its strings are fresh, not literals)."""
    return model.model_validate_json(obj.model_dump_json())  # type: ignore[attr-defined]


def loaded() -> Store:
    machines = [wire(Machine, f.machine(f"M-{i}")) for i in range(3)]
    jobs = [wire(Job, f.job(f"J-{i}", machine_id=f"M-{i}")) for i in range(3)]
    store = Store()
    store.apply_snapshot("c", f.snapshot(0, nodes=[f.node("N-1")], machines=machines, jobs=jobs))
    return store


def test_objects_of_one_shape_share_one_immutable_fields_set() -> None:
    store = loaded()
    sets = {id(m.__pydantic_fields_set__) for m in store.machines.values()}
    assert len(sets) == 1
    first = next(iter(store.machines.values()))
    assert type(first.__pydantic_fields_set__) is SharedFieldsSet
    assert first.model_fields_set == set(Machine.model_fields)
    designs = {id(j.design) for j in store.jobs.values()}
    assert len(designs) == 1  # equal designs are one object


def test_strings_are_interned_and_values_unchanged() -> None:
    store = loaded()
    a, b = store.machines["M-0"], store.machines["M-1"]
    assert a.node_id is b.node_id and a.state is b.state and a.materials[0] is b.materials[0]
    assert a == wire(Machine, f.machine("M-0"))
    assert a.model_dump(exclude_unset=True) == wire(Machine, f.machine("M-0")).model_dump(exclude_unset=True)
    partial = f.machine("M-9")  # built with some fields left to their defaults: its own (shared) shape
    expected = partial.model_dump(exclude_unset=True)
    store.apply_event("c", f.ev(1, "machine.updated", partial))
    assert store.machines["M-9"].model_dump(exclude_unset=True) == expected


def test_stored_objects_cannot_be_changed_in_place_but_can_be_copied() -> None:
    store = loaded()
    machine = store.machines["M-0"]
    with pytest.raises(TypeError):
        store.machines["M-2"].state = "running"  # loud (pydantic writes the value before it records the name)
    changed = machine.model_copy(update={"state": "running"})
    assert changed.state == "running" and machine.state == "idle"
    changed.state = "paused"  # a copy owns an ordinary set again
    assert copy.copy(machine) == machine and copy.deepcopy(machine) == machine
    assert store.machines["M-1"].__pydantic_fields_set__ == set(Machine.model_fields)


def test_events_are_compacted_too() -> None:
    store = loaded()
    store.apply_event("c", f.ev(1, "machine.updated", wire(Machine, f.machine("M-1", state="running"))))
    updated = store.machines["M-1"]
    assert updated.state == "running" and type(updated.__pydantic_fields_set__) is SharedFieldsSet
    store.apply_event("c", f.ev(2, "machine.telemetry", f.telemetry("M-1", bed_c=60.0)))
    assert store.machine_telemetry("M-1")["bed_c"] == 60.0
    with pytest.raises(TypeError):
        store.machines["M-1"].state = "idle"


def test_history_keeps_single_precision_and_clamps_huge_values() -> None:
    history = TelemetryHistory(3)
    for value in (1.5, 1e39, -1e300, 215.25):
        history.add("M-1", {"t": value})
    big = 3.4028234663852886e38
    assert history.get("M-1", "t") == [pytest.approx(big), pytest.approx(-big), 215.25]
