"""Stored objects are compacted (shared fields sets, interned strings, shared designs) without changing their values."""

from __future__ import annotations

import copy
import dataclasses
import sys
from typing import Any, TypeVar

import pytest

from console.api.models import Job, Machine, Node, Snapshot
from console.api.shared_values import sharing
from console.store import Store
from console.store.compact import SharedFieldsSet
from console.store.history import TelemetryHistory
from tests.store import factories as f

M = TypeVar("M", Machine, Job, Node)


def wire(model: type[M], obj: Any) -> M:
    """The object as it comes off the wire: parsed from its JSON (so its strings are fresh, not literals)."""
    parsed: M = model.model_validate_json(obj.model_dump_json())
    return parsed


def loaded() -> Store:
    machines = [wire(Machine, f.machine(f"M-{i}")) for i in range(3)]
    jobs = [wire(Job, f.job(f"J-{i}", machine_id=f"M-{i}")) for i in range(3)]
    store = Store()
    store.apply_snapshot("c", f.snapshot(0, nodes=[f.node("N-1")], machines=machines, jobs=jobs))
    return store


def test_objects_of_one_shape_share_one_immutable_fields_set() -> None:
    store = loaded()
    store.apply_event("c", f.ev(1, "node.updated", wire(Node, f.node("N-1", state="offline"))))
    store.apply_event("c", f.ev(2, "node.updated", wire(Node, f.node("N-2"))))
    sets = {id(n.__pydantic_fields_set__) for n in store.nodes.values()}
    assert len(sets) == 1
    first = next(iter(store.nodes.values()))
    assert type(first.__pydantic_fields_set__) is SharedFieldsSet
    assert first.model_fields_set == set(Node.model_fields)
    designs = {id(j.design) for j in store.jobs.values()}
    assert len(designs) == 1  # equal designs are one object


def test_machines_are_lean_records_without_dict_or_fields_set() -> None:
    store = loaded()
    machine = store.machines["M-0"]
    assert not hasattr(machine, "__dict__") and not hasattr(machine, "__pydantic_fields_set__")


def test_strings_are_interned_and_values_unchanged() -> None:
    store = loaded()
    a, b = store.machines["M-0"], store.machines["M-1"]
    assert a.node_id is b.node_id and a.state is b.state and a.materials[0] is b.materials[0]
    assert a == wire(Machine, f.machine("M-0"))
    assert a.model_dump(exclude_unset=True) == wire(Machine, f.machine("M-0")).model_dump(exclude_unset=True)
    partial = f.machine("M-9")  # built with some fields left to their defaults
    expected = partial.model_dump(exclude_unset=True)
    store.apply_event("c", f.ev(1, "machine.updated", partial))
    assert store.machines["M-9"].model_dump(exclude_unset=True) == expected


def test_values_are_shared_as_a_snapshot_is_parsed() -> None:
    # Parsed, not yet stored: the duplicates are freed while the next record is parsed (console.api.shared_values).
    text = f.snapshot(
        0,
        nodes=[f.node("N-1")],
        machines=[f.machine(f"M-{i}") for i in range(2)],
        jobs=[f.job(f"J-{i}", machine_id="M-0") for i in range(2)],
    ).model_dump_json()
    snapshot = Snapshot.model_validate_json(text)
    assert snapshot.values_shared and not Snapshot.model_validate(snapshot.model_dump()).values_shared
    assert snapshot == Snapshot.model_validate(snapshot.model_dump())  # how it was parsed is not part of its value
    machines, jobs = snapshot.machines, snapshot.jobs
    assert machines[0].node_id is machines[1].node_id and machines[0].kind is machines[1].kind
    assert machines[0].materials[0] is machines[1].materials[0]
    assert jobs[0].machine_id is jobs[1].machine_id and jobs[0].size_mm is jobs[1].size_mm
    assert jobs[0].design is jobs[1].design
    with sharing():
        zero = Job.model_validate({**jobs[0].model_dump(), "size_mm": (-0.0, 1.0, 2.0)})
        assert Job.model_validate({**jobs[0].model_dump(), "size_mm": (0.0, 1.0, 2.0)}).size_mm is not zero.size_mm
    assert zero.model_dump_json().count("-0.0") == 1  # a zero's sign is kept: sizes with a zero are not shared
    alone = [wire(Job, f.job(f"J-{i}", machine_id="M-0")) for i in range(2)]  # an event's record: the store shares
    assert alone[0].machine_id == alone[1].machine_id and alone[0].size_mm is not alone[1].size_mm


def test_stored_objects_cannot_be_changed_in_place_but_can_be_copied() -> None:
    store = loaded()
    machine = store.machines["M-0"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        store.machines["M-2"].state = "running"  # type: ignore[misc]  # a lean record is frozen
    changed = machine.model_copy(update={"state": "running"})
    assert changed.state == "running" and machine.state == "idle"
    assert copy.copy(machine) == machine and copy.deepcopy(machine) == machine
    node = store.nodes["N-1"]
    given = set(node.__pydantic_fields_set__)
    with pytest.raises(TypeError):
        node.state = "offline"  # loud (pydantic writes the value before it records the name)
    copied = node.model_copy(update={"state": "online"})
    copied.state = "degraded"  # a copy owns an ordinary set again
    assert store.nodes["N-1"].__pydantic_fields_set__ == given


def test_events_are_compacted_too() -> None:
    store = loaded()
    store.apply_event("c", f.ev(1, "machine.updated", wire(Machine, f.machine("M-1", state="running"))))
    updated = store.machines["M-1"]
    assert updated.state == "running" and updated.state is sys.intern("running")
    copied = store.machines["M-0"].model_copy(update={"node_id": "".join(["N-", "1"])})  # not validated: not interned
    store.apply_event("c", f.ev(2, "machine.updated", copied))
    assert store.machines["M-0"].node_id is store.machines["M-1"].node_id
    store.apply_event("c", f.ev(3, "machine.telemetry", f.telemetry("M-1", bed_c=60.0)))
    assert store.machine_telemetry("M-1")["bed_c"] == 60.0
    store.apply_event("c", f.ev(4, "node.updated", wire(Node, f.node("N-1", state="offline"))))
    with pytest.raises(TypeError):
        store.nodes["N-1"].state = "online"


def test_history_keeps_single_precision_and_clamps_huge_values() -> None:
    history = TelemetryHistory(3)
    for value in (1.5, 1e39, -1e300, 215.25):
        history.add("M-1", {"t": value})
    big = 3.4028234663852886e38
    assert history.get("M-1", "t") == [pytest.approx(big), pytest.approx(-big), 215.25]
