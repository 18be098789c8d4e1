"""The console's garbage-collector policy: freeze what is long-lived, collect the young generation less often.

Why its own module: the app flushes the store's changes to the screens; when and how the heap is frozen is a separate
decision, with its own measurements (``docs/performance.md`` §3 and §8), taken once per flush by
:meth:`HeapPolicy.after_flush`.

* After a big snapshot (:data:`HeapPolicy.BIG_SNAPSHOT_OBJECTS` machines and jobs or more): freeze and raise the
  young threshold. With hundreds of thousands of long-lived models in the store, each full collection walks them all
  and stalls the event loop for a good part of a second (keys feel dead). They hold no reference cycles of their own,
  so reference counting still frees each one when the store replaces it. A big cluster's stream (the demo's mix at
  20,000 machines, ~9,000 events/s) makes ~3 tracked objects an event that live until the next version replaces
  them; at Python's 700 a young collection ran every ~250 events and each survivor was walked again by the older
  generations' passes: ~7 µs of collector CPU per event (a quarter of ingest), ~3.5 µs at 10,000. Never lowered: a
  process that already set a larger one (the test suite) keeps it.
* With ``--demo``, once, :data:`HeapPolicy.DEMO_FREEZE_AFTER_S` after the first machines are shown (not in the way of
  the first frame): the simulator runs in the console's process, and its long-lived state plus the store made every
  full collection walk ~130,000 objects, ~110 ms of CPU that landed inside whatever the operator had just asked for
  (one in the palette's open: 249 ms of CPU, 142 with the heap frozen).

Frozen objects are never collected again: what becomes garbage later is still freed by reference counting unless it
is part of a cycle, so at most what was alive at the freeze and later dies in a cycle is kept.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = ["HeapPolicy", "freeze_heap"]


def freeze_heap() -> None:
    """Collect, then move what is alive to the collector's permanent generation."""
    gc.collect()
    gc.freeze()


class HeapPolicy:
    """When to freeze the heap (see the module docstring); the app calls :meth:`after_flush` on every flush."""

    BIG_SNAPSHOT_OBJECTS = 10_000
    BIG_GC_THRESHOLD = 10_000
    """The collector's first-generation threshold with a big cluster (Python's default: 700 net allocations)."""
    DEMO_FREEZE_AFTER_S = 2.0

    def __init__(self, store: Store | Any, *, later: Callable[[float, Callable[[], None]], object]) -> None:
        self.store = store
        self.later = later
        """Run a function after a delay (the app's ``set_timer``)."""
        self.freeze: Callable[[], None] = freeze_heap
        self._snapshots_seen = 0
        self._demo_frozen = False

    def after_flush(self, *, demo: bool) -> None:
        """``demo``: the simulator runs in this process (``--demo``)."""
        self.after_big_snapshot()
        if demo and not self._demo_frozen and self.store.machines:
            self._demo_frozen = True
            self.later(self.DEMO_FREEZE_AFTER_S, lambda: self.freeze())

    def after_big_snapshot(self) -> None:
        """Once per snapshot applied: freeze and raise the young threshold if the cluster is big."""
        store = self.store
        total = sum(status.snapshots_total for status in store.sources.values())
        if total == self._snapshots_seen:
            return
        self._snapshots_seen = total
        if len(store.machines) + len(store.jobs) >= self.BIG_SNAPSHOT_OBJECTS:
            freeze_heap()
            first, *older = gc.get_threshold()
            if first < self.BIG_GC_THRESHOLD:
                gc.set_threshold(self.BIG_GC_THRESHOLD, *older)
