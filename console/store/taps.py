"""Taps: observers of what enters the store (the recorder, ``console.recording``), and :func:`clear` for a replay.

A tap sees each input after the store has taken it, with cheap arguments: the source id and the objects the source
handed in (never a copy). It is called synchronously on the store's own thread, so it must only note what it was
given and return (the recorder puts a reference on a queue; a writer thread does the rest). A tap that raises is
logged and never stops ingest.

How it costs nothing when nothing taps: :func:`add_tap` gives that one store instance tapped versions of its input
methods (``apply_snapshot``, ``apply_event``, ``apply_events``, ``set_source_state``, ``record_malformed``,
``merge_audit``), each
calling the class's own method and then the taps; :func:`remove_tap` of the last tap takes them away. ``Store``'s
class methods stay the modules' functions themselves (no delegating layer on the hot path), and a tapped read of the
stream costs one more call per batch, not per event. Add taps before the sources start: a source that bound a
method earlier keeps the untapped one.

:func:`clear` forgets every source and everything heard (a replay rebuilds the store from a checkpoint when it seeks
back): the screens see ordinary change sets, objects removed, then the checkpoint's objects put.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from types import MethodType
from typing import TYPE_CHECKING, Any, Protocol

from console.api.models import AuditEntry, Event, Snapshot
from console.api.sse import MalformedEvent
from console.store.changes import ApplyOutcome, touch

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = ["StoreTap", "add_tap", "clear", "remove_tap"]

log = logging.getLogger(__name__)

_SEQ_TAKEN = (ApplyOutcome.APPLIED, ApplyOutcome.IGNORED)


class StoreTap(Protocol):
    """What a tap is told. ``items[start:end]`` are the events just applied, in ``seq`` order."""

    def snapshot(self, source_id: str, snapshot: Snapshot) -> None: ...

    def events(self, source_id: str, items: list[Any], start: int, end: int) -> None: ...

    def source_state(self, source_id: str, state: str, reason: str | None) -> None: ...

    def malformed(self, source_id: str, item: MalformedEvent) -> None: ...

    def audit_page(self, source_id: str, entries: list[AuditEntry]) -> None:
        """A page of the server's audit trail the console fetched (``Store.merge_audit``), as handed in."""
        ...


def _failed(tap: StoreTap) -> None:
    log.exception("store tap %r failed", tap)


def _apply_snapshot(store: Store, source_id: str, snapshot: Snapshot) -> None:
    type(store).apply_snapshot(store, source_id, snapshot)
    for tap in store.taps:
        try:
            tap.snapshot(source_id, snapshot)
        except Exception:
            _failed(tap)


def _apply_event(store: Store, source_id: str, event: Event) -> ApplyOutcome:
    outcome = type(store).apply_event(store, source_id, event)
    if store.taps and outcome in _SEQ_TAKEN:
        items = [event]
        for tap in store.taps:
            try:
                tap.events(source_id, items, 0, 1)
            except Exception:
                _failed(tap)
    return outcome


def _apply_events(store: Store, source_id: str, items: list[Any], start: int = 0) -> int:
    end = type(store).apply_events(store, source_id, items, start)
    if store.taps and end > start:
        for tap in store.taps:
            try:
                tap.events(source_id, items, start, end)
            except Exception:
                _failed(tap)
    return end


def _set_source_state(
    store: Store, source_id: str, state: str, reason: str | None = None, retry_at: float | None = None
) -> None:
    type(store).set_source_state(store, source_id, state, reason, retry_at)
    for tap in store.taps:
        try:
            tap.source_state(source_id, state, reason)
        except Exception:
            _failed(tap)


def _record_malformed(store: Store, source_id: str, item: MalformedEvent) -> ApplyOutcome:
    outcome = type(store).record_malformed(store, source_id, item)
    for tap in store.taps:
        try:
            tap.malformed(source_id, item)
        except Exception:
            _failed(tap)
    return outcome


def _merge_audit(store: Store, source_id: str, entries: list[AuditEntry]) -> int:
    new = type(store).merge_audit(store, source_id, entries)
    if new:
        for tap in store.taps:
            try:
                tap.audit_page(source_id, entries)
            except Exception:
                _failed(tap)
    return new


_TAPPED: dict[str, Callable[..., Any]] = {
    "apply_snapshot": _apply_snapshot,
    "apply_event": _apply_event,
    "apply_events": _apply_events,
    "set_source_state": _set_source_state,
    "record_malformed": _record_malformed,
    "merge_audit": _merge_audit,
}


def add_tap(store: Store, tap: StoreTap) -> None:
    """Tell ``tap`` every input of this store from now on (see the module docstring)."""
    if tap not in store.taps:
        store.taps.append(tap)
    for name, function in _TAPPED.items():
        setattr(store, name, MethodType(function, store))


def remove_tap(store: Store, tap: StoreTap) -> None:
    """Stop telling ``tap``; with no tap left the store's methods are the plain ones again."""
    if tap in store.taps:
        store.taps.remove(tap)
    if not store.taps:
        for name in _TAPPED:
            store.__dict__.pop(name, None)


def clear(store: Store, audit: Iterable[AuditEntry] = ()) -> None:
    """Forget every source, its replica and status, and what was heard (audit trail, telemetry history, machine
    events, the alert journal, the timeline); then keep ``audit`` as the audit trail. The sources' registration order
    is kept (the merge's last tie-break), so a source registered again ranks as before."""
    for source_id in list(store.sources):
        store.forget_source(source_id)
    store.audit.clear()
    store._audit_ids.clear()
    for entry in audit:
        if entry.id not in store._audit_ids:
            store.audit.append(entry)
            store._audit_ids.add(entry.id)
    store.telemetry_history = type(store.telemetry_history)(store.telemetry_history.capacity)
    store.machine_events = type(store.machine_events)(store.machine_events.capacity)
    old_journal = store.journal
    store.journal = type(old_journal)(old_journal.capacity)
    store.journal.version = old_journal.version + 1  # a screen comparing versions must see a change
    old_timeline = store.timeline
    store.timeline = type(old_timeline)(old_timeline.per_subject, old_timeline.total)
    store.timeline.version = old_timeline.version + 1
    for entry in store.audit:  # who acked or shelved what, for the rows the checkpoint's snapshot is about to make
        store.journal.note_audit(entry)
    store._pending.audit.update(e.id for e in store.audit)
    store._pending.structure = True
    touch(store)
