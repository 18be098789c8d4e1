"""Keeping the merged view right: which replica's version of each object the public tables show, re-decided when
something that decides it changes.

Why apart from the rule: :mod:`console.store.replicas` says, purely, who wins (:func:`~console.store.replicas.select`
per node, :func:`~console.store.replicas.winner` per object); this module applies that answer to the store's tables
through the writers (:mod:`console.store.tables`), reporting a change only when what is shown changes, and decides
*how much* to redo: one object when a replica changes it (:func:`resolve`), the alerts and quality about an object
whose node moved (:func:`resolve_refs`), everything when a source's liveness or kind changes or a snapshot comes with
several sources (:func:`reselect_all`). With one source none of this runs on the ingest path (the handlers write the
tables directly), which is what keeps the common case as fast as it was before there were several.

The shown cluster object and the shown ``whoami`` are merges over the sources too (:func:`refresh_cluster`,
:func:`merged_whoami`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.api.models import WhoAmI
from console.store.changes import touch
from console.store.replicas import TABLES, Replica, Selection, merged_cluster, select, winner
from console.store.tables import WRITERS

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = [
    "NodeSelections",
    "merged_whoami",
    "refresh_cluster",
    "refresh_whoami",
    "remerge",
    "reselect_all",
    "resolve",
    "resolve_refs",
]

_WHOAMI_RANK = {"cluster": 0, "agent": 1}


class NodeSelections:
    """Cached node selections over the store's replica list (the list itself, which the store changes in place).

    Why a cache: :func:`~console.store.replicas.winner` asks for the selection of an object's node for every object
    it decides, and a selection looks at every replica. Every node some replica object is tied to is here once it
    has been asked for; :meth:`changed` relies on that (a node not here has nothing to redo). Cleared whenever
    everything is decided again.
    """

    __slots__ = ("_cache", "_replicas")

    def __init__(self, replicas: list[Replica]) -> None:
        self._cache: dict[str, Selection | None] = {}
        self._replicas = replicas

    def of(self, node_id: str) -> Selection | None:
        cache = self._cache
        if node_id in cache:
            return cache[node_id]
        selection = cache[node_id] = select(node_id, self._replicas)
        return selection

    def changed(self, node_id: str) -> bool:
        """Whether a node's selection moved. A node not in the cache has no object tied to it: nothing to redo."""
        if node_id not in self._cache:
            return False
        return select(node_id, self._replicas) != self._cache[node_id]

    def clear(self) -> None:
        self._cache.clear()


def resolve(store: Store, table: str, key: Any) -> None:
    """Show the winning version of one object (or none), reporting a change only when what is shown changes."""
    found = winner(table, key, store._replica_list, store._selections.of)
    current: dict[Any, Any] = getattr(store, table)
    put, remove = WRITERS[table]
    if found is None:
        if key in current:
            remove(store, key)
        return
    replica, obj = found
    held = current.get(key)
    if held is not None and (held is obj or held == obj):
        current[key] = obj
        store._owners[table][key] = replica.source_id
        return
    put(store, replica.source_id, obj)


def resolve_refs(store: Store, kind: str, ref: str) -> None:
    """An object's node moved in a replica: alerts (and quality) about it follow it."""
    refs = store._alert_refs.get((kind, ref))
    if refs:
        for alert_id in list(refs):
            resolve(store, "alerts", alert_id)
    if kind == "machine":
        resolve(store, "quality", ("machine", ref))


def remerge(store: Store) -> None:
    """A source's liveness or kind changed: with several sources, decide everything again."""
    if len(store._replica_list) > 1:
        reselect_all(store)
    else:
        refresh_cluster(store)
        refresh_whoami(store)


def reselect_all(store: Store) -> None:
    """Decide every object again (a source's liveness changed, or a snapshot came, with several sources)."""
    store._selections.clear()
    refs: dict[tuple[str, str], set[str]] = {}
    for replica in store._replica_list:
        for alert in replica.alerts.values():
            refs.setdefault((alert.source.kind, alert.source.id), set()).add(alert.id)
    store._alert_refs = refs
    for table in TABLES:
        keys = set(getattr(store, table))
        for replica in store._replica_list:
            keys.update(replica.table(table))
        for key in keys:
            resolve(store, table, key)
    refresh_cluster(store)
    refresh_whoami(store)


def merged_whoami(store: Store) -> WhoAmI | None:
    """Who we are, shown: the one set without a source, else a cluster source's, else an agent's (then the first
    registered)."""
    by_source = store._whoami_by_source
    if None in by_source:
        return by_source[None]
    best: tuple[tuple[int, int], WhoAmI] | None = None
    for source_id, whoami in by_source.items():
        status = store.sources.get(source_id or "")
        key = (_WHOAMI_RANK.get(status.kind, 2) if status else 3, store._order.get(source_id or "", 1 << 30))
        if best is None or key < best[0]:
            best = (key, whoami)
    return None if best is None else best[1]


def refresh_whoami(store: Store) -> None:
    whoami = merged_whoami(store)
    if whoami != store.whoami:
        store.whoami = whoami
        store._pending.whoami = True
        touch(store)


def refresh_cluster(store: Store) -> None:
    cluster = merged_cluster(store._replica_list)
    if cluster is not None and cluster != store.cluster:
        store.cluster = cluster
        store._pending.cluster = True
        touch(store)
