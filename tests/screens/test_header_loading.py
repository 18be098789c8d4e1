"""The header's LOADING badge (``console.screens.header_facts.loading_badge``): while a big cluster's preview is shown
and its snapshot still arrives, the header says how much of it is on screen; nothing once the snapshot is applied."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from console.screens.header_facts import header_badges, loading_badge
from console.store import Store
from console.store.preview import Preview
from tests.store.factories import cluster, machine, node, snapshot


def _preview(count: int, total: int | None) -> Preview:
    machines = [machine(f"M-{i:03}") for i in range(count)]
    return Preview(cluster(seq=1), [node(machine_count=total or 0)], machines, [], machines_total=total)


def _host(store: Store) -> Any:
    settings = SimpleNamespace(insecure=False, demo=True)
    return SimpleNamespace(
        store=store, session=SimpleNamespace(playback=None), frozen=False, read_only=False, settings=settings
    )


def test_the_badge_says_how_many_of_how_many_then_goes() -> None:
    store = Store()
    store.register_source("cluster")
    assert loading_badge(store) is None
    store.apply_preview("cluster", _preview(3, 20_000))
    assert loading_badge(store) == "LOADING 3 of 20,000 machines"
    assert header_badges(_host(store)) == ["LOADING 3 of 20,000 machines", "DEMO"]
    store.apply_snapshot("cluster", snapshot(2, nodes=[node()], machines=[machine("M-000")]))
    store.end_preview("cluster")
    assert loading_badge(store) is None and header_badges(_host(store)) == ["DEMO"]


def test_an_unknown_total_is_not_made_up() -> None:
    store = Store()
    store.register_source("leeds")
    store.register_source("york")
    store.apply_preview("leeds", _preview(2, 5_000))
    store.apply_preview("york", _preview(2, None))
    assert loading_badge(store) == "LOADING 4 machines so far"  # two sources, two each; one total unknown
