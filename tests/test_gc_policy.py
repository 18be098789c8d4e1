"""The console's collector policy after a big snapshot: freeze what is alive, collect the young generation less often
(``FactoryConsoleApp._freeze_after_big_snapshot``; docs/performance.md §3), never lowering a larger threshold."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from console.app import FactoryConsoleApp


@pytest.fixture
def collector() -> Iterator[None]:
    saved = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)


def _app(machines: int) -> Any:
    store = SimpleNamespace(
        sources={"cluster": SimpleNamespace(snapshots_total=1)},
        machines=dict.fromkeys(range(machines)),
        jobs={},
    )
    return SimpleNamespace(
        store=store,
        _snapshots_seen=0,
        BIG_SNAPSHOT_OBJECTS=FactoryConsoleApp.BIG_SNAPSHOT_OBJECTS,
        BIG_GC_THRESHOLD=FactoryConsoleApp.BIG_GC_THRESHOLD,
    )


@pytest.mark.usefixtures("collector")
def test_a_big_snapshot_raises_the_young_threshold_and_freezes() -> None:
    gc.set_threshold(700, 10, 10)
    FactoryConsoleApp._freeze_after_big_snapshot(_app(20_000))
    assert gc.get_threshold() == (FactoryConsoleApp.BIG_GC_THRESHOLD, 10, 10)
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("collector")
def test_a_small_one_changes_nothing_and_a_larger_threshold_is_kept() -> None:
    gc.set_threshold(700, 10, 10)
    FactoryConsoleApp._freeze_after_big_snapshot(_app(100))
    assert gc.get_threshold() == (700, 10, 10)
    gc.set_threshold(50_000, 20, 20)
    FactoryConsoleApp._freeze_after_big_snapshot(_app(20_000))
    assert gc.get_threshold() == (50_000, 20, 20)
