"""The dashboard's grid placement moves changed machines to exactly where a full filter and stable sort puts them."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest

from console.rules import MACHINE_SORTS, machine_sort_key, sort_machines
from console.screens.grid_placement import GridPlacement

STATES = ["fault", "blocked", "offline", "maintenance", "paused", "running", "idle"]


def _machine(i: int, rng: random.Random) -> Any:
    # Few names and nodes, so that many machines tie on their sort value: the order among equals is what is tested.
    return SimpleNamespace(
        id=f"M-{i:04d}",
        node_id=f"N-{rng.randrange(3)}",
        name=f"Press {rng.randrange(4)}",
        kind=rng.choice(["press", "printer"]),
        state=rng.choice(STATES),
        progress=rng.choice([None, 0.25, 0.5]),
    )


def _full(store: Any, key: str, belongs: Any) -> list[str]:
    return [m.id for m in sort_machines([m for m in store.machines.values() if belongs(m)], key)]


@pytest.mark.parametrize("sort", [s for s, _ in MACHINE_SORTS])
@pytest.mark.parametrize("filtered", [False, True])
def test_reposition_gives_the_full_sort_order(sort: str, filtered: bool) -> None:
    rng = random.Random(f"{sort}{filtered}")
    store = SimpleNamespace(machines={})
    for i in range(300):
        machine = _machine(i, rng)
        store.machines[machine.id] = machine

    def belongs(machine: Any) -> bool:
        return not filtered or machine.state != "idle"

    key = machine_sort_key(sort)
    placement = GridPlacement()
    ranks = {machine_id: i for i, machine_id in enumerate(store.machines)}
    placement.place(sort_machines([m for m in store.machines.values() if belongs(m)], sort), key, ranks)
    moved = placed = 0
    for _ in range(200):
        changed: set[str] = set()
        for _ in range(rng.randrange(1, 12)):
            machine_id = f"M-{rng.randrange(300):04d}"
            if machine_id in changed:
                continue  # removed and added again before the placement hears of it: the one stated exception
            old = store.machines.get(machine_id)
            if old is None or rng.random() < 0.03:
                store.machines.pop(machine_id, None)  # gone (or back: appended last, as a dict does)
                if old is None:
                    store.machines[machine_id] = _machine(int(machine_id[2:]), rng)
            else:
                store.machines[machine_id] = SimpleNamespace(**{**vars(old), "state": rng.choice(STATES)})
            changed.add(machine_id)
        answer = placement.reposition(store, changed, belongs, key)  # type: ignore[arg-type]
        if answer is None:
            placed += 1
            ranks = {machine_id: i for i, machine_id in enumerate(store.machines)}
            placement.place(sort_machines([m for m in store.machines.values() if belongs(m)], sort), key, ranks)
        elif answer:
            moved += 1
        assert placement.order == _full(store, sort, belongs)
        assert placement.shown_ids == set(placement.order)
    if sort in ("state", "progress"):
        assert moved > placed  # most changes were moves, not full sorts


def test_without_ranks_it_only_says_whether_to_place() -> None:
    rng = random.Random(1)
    store = SimpleNamespace(machines={m.id: m for m in (_machine(i, rng) for i in range(20))})
    key = machine_sort_key("state")
    placement = GridPlacement()
    placement.place(sort_machines(store.machines.values(), "state"), key)
    first = next(iter(store.machines.values()))
    assert placement.reposition(store, {first.id}, lambda m: True, key) is False  # type: ignore[arg-type]
    other = next(s for s in STATES if s != first.state)
    store.machines[first.id] = SimpleNamespace(**{**vars(first), "state": other})
    assert placement.reposition(store, {first.id}, lambda m: True, key) is None  # type: ignore[arg-type]
