"""A preview: the first screenful of a big cluster, shown while its first snapshot is still arriving.

Why: at 20,000 machines the snapshot is ~37 MB of JSON, and fetching, parsing and applying it took ~2.4 s in which the
console showed nothing (issue 15). A cluster source first reads a few small pages (the nodes, the first machines, the
machines in an abnormal state, the active alerts) and hands them here; they are shown at once, and the snapshot,
when it comes, replaces them through :meth:`Store.apply_snapshot` exactly as it replaces any earlier data of that
source (objects it lacks go, equal ones are not reported as changed).

What a preview is not: a snapshot. It sets no ``seq`` and no ``instance_id`` (the source's stream stays buffered
until the snapshot is applied, so no event is applied against a preview), counts in no ``snapshots_total``, tells
the alert journal and the taps (the recorder) nothing, and is refused once the source has applied a snapshot: a
reconnect or a ``reset`` keeps showing the last snapshot's data, marked by the source's state, until the new snapshot
replaces it, as before. While a source shows a preview, :attr:`Store.previews` says how much of what it shows
(:class:`Loading`), so the header can say ``LOADING 1,000 of 20,000 machines`` and nothing claims totals it does not
have; :func:`end_preview` drops the mark when the snapshot is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from console.api.models import Alert, Cluster, Machine, Node
from console.store.changes import touch
from console.store.compact import compact
from console.store.merge import refresh_cluster, reselect_all
from console.store.registry import source_status
from console.store.replicas import Replica
from console.store.tables import RESOLVED, WRITERS

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = ["Loading", "Preview", "apply_preview", "end_preview", "loading"]


@dataclass(frozen=True, slots=True)
class Preview:
    """What a source read before its snapshot: complete or not, each list is exactly what the server said."""

    cluster: Cluster
    nodes: list[Node]
    machines: list[Machine]
    alerts: list[Alert]
    machines_total: int | None = None
    """How many machines the cluster has, by its nodes' ``machine_count`` (``None``: not known)."""
    alerts_complete: bool = False
    """Every active alert is in ``alerts`` (the list's last page was read)."""


@dataclass(frozen=True, slots=True)
class Loading:
    """A source's preview as shown: how many machines of how many, and whether the alerts are all there."""

    machines_shown: int
    machines_total: int | None
    alerts_complete: bool


def apply_preview(store: Store, source_id: str, preview: Preview) -> bool:
    """Show ``preview`` as this source's data until its snapshot comes; ``False`` (nothing done) when the source
    already applied a snapshot (its data is whole, if old: a preview must not replace it with a part)."""
    status = source_status(store, source_id)
    if status.snapshots_total:
        return False
    for group in (preview.nodes, preview.machines, preview.alerts):
        for obj in group:
            compact(obj)
    replica = store._replicas.get(source_id)
    if replica is None:
        replica = Replica(source_id, store._order[source_id], status.kind, False)
        store._replicas[source_id] = replica
        store._replica_list.append(replica)
        store._replica_list.sort(key=lambda r: r.order)
    replica.cluster = preview.cluster
    replica.nodes = {n.id: n for n in preview.nodes}
    replica.machines = {m.id: m for m in preview.machines}
    replica.telemetry = {m.id: dict(m.telemetry) for m in preview.machines}
    replica.jobs = {}
    replica.alerts = {a.id: a for a in preview.alerts if a.state != RESOLVED}
    replica.quality = {}
    if len(store._replica_list) == 1:
        _show_alone(store, source_id, replica)
    else:
        reselect_all(store)
    refresh_cluster(store)
    store.previews[source_id] = Loading(len(replica.machines), preview.machines_total, preview.alerts_complete)
    store._pending.sources.add(source_id)
    touch(store)
    return True


def _show_alone(store: Store, source_id: str, replica: Replica) -> None:
    """One source: its replica is the shown view (a second preview replaces the first; the tables were empty or
    held only this source's earlier preview)."""
    for table in ("nodes", "machines", "jobs", "alerts", "quality"):
        put, remove = WRITERS[table]
        fresh = replica.table(table)
        owners = store._owners[table]
        for oid in [oid for oid, owner in owners.items() if owner == source_id and oid not in fresh]:
            remove(store, oid)
        for obj in fresh.values():
            put(store, source_id, obj)


def end_preview(store: Store, source_id: str) -> None:
    """The source's snapshot is applied (or the source is gone): it no longer shows a preview."""
    if store.previews.pop(source_id, None) is not None:
        store._pending.sources.add(source_id)
        touch(store)


def loading(store: Store) -> dict[str, Loading]:
    """The sources showing a preview now (a forgotten source's preview is not one)."""
    return {source_id: mark for source_id, mark in store.previews.items() if source_id in store.sources}
