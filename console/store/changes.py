"""What changed in the store since the screens last looked, how an event was taken, and who is told.

The store hands out one :class:`ChangeSet` per refresh (``Store.take_changes``) so a screen repaints only the rows
that changed, and rebuilds its lists only when ``structure`` says objects came or went. Its listeners are called
once when it goes from clean to dirty (:func:`touch`), not once per change: the app waits a refresh interval after
that first notice, so a burst of events becomes one repaint.

The functions below take the store as their first argument (``Store`` binds them as its methods); the pending
change set, the dirty flag and the listeners are the store's own attributes (``_pending``, ``_dirty``,
``_listeners``), so the ingest path reads them with one attribute lookup and no call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = ["ApplyOutcome", "ChangeSet", "Listener", "add_listener", "mark_structure", "take_changes", "touch"]

log = logging.getLogger(__name__)

Listener = Callable[[], None]


class ApplyOutcome(StrEnum):
    """What ``Store.apply_event`` did with an event."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    """``seq`` at or below the last applied one: already seen, ignored."""
    GAP = "gap"
    """``seq`` skipped one or more events (or the source has no snapshot yet): NOT applied; resync from a snapshot."""
    IGNORED = "ignored"
    """An event type the console does not know (or one about an object it does not have): ``seq`` advances."""


@dataclass(slots=True)
class ChangeSet:
    """Ids changed per table since the last ``take_changes``.

    ``machines`` holds machines whose fields changed; ``telemetry_only`` those whose *only* change was telemetry (a
    screen may repaint just a gauge). ``structure`` is set when objects were added or removed, or moved between
    groups (a machine to another node or state, a job to another machine or node, an alert to another priority), so
    grouped lists must be rebuilt; ``structure_tables`` names the tables concerned.
    """

    nodes: set[str] = field(default_factory=set)
    machines: set[str] = field(default_factory=set)
    jobs: set[str] = field(default_factory=set)
    alerts: set[str] = field(default_factory=set)
    quality: set[tuple[str, str]] = field(default_factory=set)
    audit: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    telemetry_only: set[str] = field(default_factory=set)
    cluster: bool = False
    whoami: bool = False
    structure: bool = False
    structure_tables: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not (
            self.nodes
            or self.machines
            or self.jobs
            or self.alerts
            or self.quality
            or self.audit
            or self.sources
            or self.telemetry_only
            or self.cluster
            or self.whoami
            or self.structure
        )


def add_listener(store: Store, callback: Listener) -> Callable[[], None]:
    """Call ``callback()`` each time the store goes from clean to dirty. Returns a function that removes it."""
    store._listeners.append(callback)

    def remove() -> None:
        if callback in store._listeners:
            store._listeners.remove(callback)

    return remove


def touch(store: Store) -> None:
    """The store has a change to report: tell the listeners if it was clean (hot callers check ``_dirty`` first)."""
    if store._dirty:
        return
    store._dirty = True
    for callback in list(store._listeners):
        try:
            callback()
        except Exception:  # a broken listener must not stop ingest
            log.exception("store listener failed")


def take_changes(store: Store) -> ChangeSet:
    """What changed since the last call; the store is clean afterwards (the next change notifies again)."""
    changes = store._pending
    changes.telemetry_only -= changes.machines
    store._pending = ChangeSet()
    store._dirty = False
    return changes


def mark_structure(store: Store, table: str) -> None:
    """Objects of ``table`` came, went or moved between groups: grouped lists must be rebuilt."""
    store._pending.structure = True
    store._pending.structure_tables.add(table)
