"""The console's collector policy after a big snapshot: freeze what is alive, collect the young generation less often
(``console.heap_policy.HeapPolicy``; docs/performance.md §3), never lowering a larger threshold."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from console.heap_policy import HeapPolicy


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
    return HeapPolicy(store, later=lambda delay, run: None)


@pytest.mark.usefixtures("collector")
def test_a_big_snapshot_raises_the_young_threshold_and_freezes() -> None:
    gc.set_threshold(700, 10, 10)
    _app(20_000).after_big_snapshot()
    assert gc.get_threshold() == (HeapPolicy.BIG_GC_THRESHOLD, 10, 10)
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("collector")
def test_a_small_one_changes_nothing_and_a_larger_threshold_is_kept() -> None:
    gc.set_threshold(700, 10, 10)
    _app(100).after_big_snapshot()
    assert gc.get_threshold() == (700, 10, 10)
    gc.set_threshold(50_000, 20, 20)
    _app(20_000).after_big_snapshot()
    assert gc.get_threshold() == (50_000, 20, 20)
