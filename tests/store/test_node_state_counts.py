"""``Store.counts_by_state(node)`` comes from counts the table writers keep: they must always equal a recount of
the machines, through updates that move machines between states and nodes, removals by a new snapshot, and two
sources whose merge decides which version is shown."""

from __future__ import annotations

import random
from collections import Counter

from console.api.models import Machine
from console.store import Store
from tests.store import factories as f

STATES = ["idle", "running", "fault", "paused", "offline"]
NODES = ["N-1", "N-2", "N-3"]


def _recount(store: Store, node_id: str) -> dict[str, int]:
    return dict(Counter(m.state for m in store.machines.values() if m.node_id == node_id))


def _check(store: Store) -> None:
    for node_id in [*NODES, "N-gone"]:
        assert store.counts_by_state(node_id) == _recount(store, node_id), node_id
    assert sum(sum(c.values()) for c in store._node_state_counts.values()) == len(store.machines)


def _machines(rng: random.Random, count: int) -> list[Machine]:
    return [f.machine(f"M-{i}", rng.choice(NODES), state=rng.choice(STATES)) for i in range(count)]


def test_counts_follow_updates_and_snapshots() -> None:
    rng = random.Random(5)
    store = Store()
    store.apply_snapshot("c", f.snapshot(1, nodes=[f.node(n) for n in NODES], machines=_machines(rng, 40)))
    _check(store)
    seq = 1
    for _ in range(400):
        seq += 1
        machine = f.machine(f"M-{rng.randrange(50)}", rng.choice(NODES), state=rng.choice(STATES))
        store.apply_event("c", f.ev(seq, "machine.updated", machine))
        _check(store)
    # a new snapshot without half of them removes those
    store.apply_snapshot("c", f.snapshot(seq + 1, nodes=[f.node(n) for n in NODES], machines=_machines(rng, 20)))
    _check(store)
    assert store.counts_by_state("N-gone") == {}


def test_counts_follow_the_merge_of_two_sources() -> None:
    rng = random.Random(9)
    store = Store()
    store.register_source("a")
    store.register_source("b", kind="agent")
    nodes = [f.node(n) for n in NODES]
    store.apply_snapshot("a", f.snapshot(1, nodes=nodes, machines=_machines(rng, 30)))
    store.apply_snapshot("b", f.snapshot(1, nodes=nodes, machines=_machines(rng, 30)))
    _check(store)
    for _ in range(200):
        source = rng.choice(["a", "b"])
        machine = f.machine(f"M-{rng.randrange(35)}", rng.choice(NODES), state=rng.choice(STATES))
        store.apply_event(source, f.ev(store.sources[source].seq + 1, "machine.updated", machine))  # type: ignore[operator]
        _check(store)
