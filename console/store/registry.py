"""The source registry: each source's status (``store.sources``), its connection log, its malformed events and who
we are at it.

Why in the store and not in the sources: the status bar, the diagnostics screen and the merge all read it, and the
merge depends on it (a source going live or stale, or changing kind, re-decides what is shown: :func:`set_source_state`
and :func:`register_source` call :func:`~console.store.merge.remerge`). Each change here raises a change notice
(``ChangeSet.sources``); the per-event counters on :class:`~console.store.status.SourceStatus` do not (the ingest
path bumps them, see :mod:`console.store.ingest`). A source's registration order is kept for good
(``store._order``): it is the merge's last tie-break, so it must not change when a source is forgotten and comes back.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

from console.api.models import WhoAmI
from console.api.sse import MalformedEvent
from console.api.wire import utc_now
from console.store.changes import ApplyOutcome, touch
from console.store.merge import merged_whoami, refresh_whoami, remerge, reselect_all
from console.store.status import LogLine, MalformedRecord, SourceState, SourceStatus

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = [
    "forget_source",
    "log_source",
    "record_malformed",
    "register_source",
    "set_source_state",
    "set_whoami",
    "source_status",
    "whoami_of",
]


def register_source(store: Store, source_id: str, *, kind: str = "cluster", url: str = "") -> SourceStatus:
    """Create (or update the kind and url of) a source's status. ``url`` must carry no secrets."""
    status = store.sources.get(source_id)
    if status is None:
        status = store.sources[source_id] = SourceStatus(source_id, kind=kind, url=url)
        store._order.setdefault(source_id, len(store._order))
    else:
        status.kind, status.url = kind, url
        replica = store._replicas.get(source_id)
        if replica is not None and replica.kind != kind:
            replica.kind = kind
            remerge(store)
    store._pending.sources.add(source_id)
    touch(store)
    return status


def source_status(store: Store, source_id: str) -> SourceStatus:
    """A source's status, registering it (kind ``unknown``) if it never was."""
    status = store.sources.get(source_id)
    if status is None:
        status = store.register_source(source_id, kind="unknown")
    return status


def log_source(store: Store, source_id: str, message: str) -> None:
    """Add a line to a source's connection log."""
    source_status(store, source_id).log.append(LogLine(store.clock(), message))
    store._pending.sources.add(source_id)
    touch(store)


def set_source_state(
    store: Store, source_id: str, state: str, reason: str | None = None, retry_at: float | None = None
) -> None:
    """Record a source's connection state; ``retry_at`` is on the ``time.monotonic()`` clock. Logs the change."""
    status = source_status(store, source_id)
    now = time.monotonic()
    if status.state != state:
        status.state_since = now
    status.state = state
    status.reason = reason
    status.retry_at = retry_at
    status.retry_at_wall = None
    message = str(state)
    if reason:
        message += f": {reason}"
    if retry_at is not None:
        delay = max(0.0, retry_at - now)
        status.retry_at_wall = utc_now() + timedelta(seconds=min(delay, 1e7))
        message += f" (retry in {delay:.1f} s)"
    status.log.append(LogLine(store.clock(), message))
    store._pending.sources.add(source_id)
    touch(store)
    replica = store._replicas.get(source_id)
    live = state == SourceState.LIVE
    if replica is not None and replica.live != live:
        replica.live = live
        remerge(store)


def record_malformed(store: Store, source_id: str, item: MalformedEvent) -> ApplyOutcome:
    """Keep a malformed event for diagnostics and step over its ``seq``.

    Returns ``IGNORED`` when its ``seq`` was the next one (or unknown), ``DUPLICATE`` for an old ``seq``, ``GAP``
    when it skipped some (the source must resync, as for any gap).
    """
    status = source_status(store, source_id)
    status.malformed_total += 1
    status.malformed.append(MalformedRecord.of(item, store.clock()))
    store._pending.sources.add(source_id)
    touch(store)
    if item.seq is None:
        return ApplyOutcome.IGNORED
    if status.seq is None or item.seq > status.seq + 1:
        return ApplyOutcome.GAP
    if item.seq <= status.seq:
        return ApplyOutcome.DUPLICATE
    status.seq = item.seq
    status.note_event(time.monotonic())
    return ApplyOutcome.IGNORED


def whoami_of(store: Store, source_id: str) -> WhoAmI | None:
    """Who we are at one source (its own ``whoami``), where ``Store.whoami`` is the one shown (several clusters: the
    role is checked per cluster, docs/multi-cluster.md)."""
    return store._whoami_by_source.get(source_id)


def set_whoami(store: Store, whoami: WhoAmI | None, source_id: str | None = None) -> None:
    """Who we are at a source. Shown: the one set without a source, else a cluster source's, else an agent's."""
    if whoami is None:
        store._whoami_by_source.pop(source_id, None)
    else:
        store._whoami_by_source[source_id] = whoami
    store.whoami = merged_whoami(store)
    store._pending.whoami = True
    touch(store)


def forget_source(store: Store, source_id: str) -> None:
    """Remove a source and its replica; what it alone showed goes, what others hold is shown from them."""
    replica = store._replicas.pop(source_id, None)
    if replica is not None:
        store._replica_list.remove(replica)
        reselect_all(store)
    if store._whoami_by_source.pop(source_id, None) is not None:
        refresh_whoami(store)
    if store.sources.pop(source_id, None) is not None:
        store._pending.sources.add(source_id)
    touch(store)
