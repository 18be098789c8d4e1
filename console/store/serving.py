"""Which source serves what: the questions the header, the node detail and the command service ask of the merge.

Why apart from the merge itself (:mod:`console.store.merge`): these only read. They answer from the replicas and the
owners the merge left, at the moment they are asked (nothing here is cached or kept incrementally: they are asked a
few times per screen, not per event): the source serving a node (:func:`node_source`) and every source holding it
(:func:`node_sources`), where live sources disagree about a node's objects (:func:`disagreements`), and the source
a command on an object should go to (:func:`command_source`), which must be a live one that holds the object.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console.store.replicas import (
    INDEPENDENT_KINDS,
    Disagreement,
    NodeSource,
    Replica,
    differing_fields,
    node_of,
    select,
)

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = ["command_source", "disagreements", "node_source", "node_sources", "owner", "replica"]

_TABLE_OF_KIND = {"machine": "machines", "node": "nodes", "job": "jobs", "alert": "alerts"}


def _stamp(obj: Any) -> datetime | None:
    """How new a version is, for a disagreement: ``last_seen``, an alert's ``updated_at``, else unknown."""
    return getattr(obj, "last_seen", None) or getattr(obj, "updated_at", None)


def node_source(store: Store, node_id: str) -> str | None:
    """The source serving this node: its cluster source while live, else its live agent, else the freshest."""
    selection = select(node_id, store._replica_list)
    if selection is not None:
        return selection.primary
    return store._owners["nodes"].get(node_id)


def node_sources(store: Store, node_id: str) -> list[NodeSource]:
    """Every source that holds this node, in registration order, with its state and how old its data is."""
    primary = store.node_source(node_id)
    now = time.monotonic()
    found = []
    for replica in store._replica_list:
        node = replica.nodes.get(node_id)
        if node is None:
            continue
        status = store.sources.get(replica.source_id)
        found.append(
            NodeSource(
                replica.source_id,
                status.state if status else "unknown",
                status.seconds_since_event(now) if status else None,
                node.last_seen,
                replica.kind,
                replica.source_id == primary,
            )
        )
    return found


def disagreements(store: Store, node_id: str) -> list[Disagreement]:
    """Objects of this node that live sources hold in different versions (computed now: for the node detail).

    The merged view shows the newest ``last_seen`` (nodes, machines) or the serving source's version (jobs,
    alerts); this says where the sources differ and what each one's ``last_seen`` is.
    """
    live = [r for r in store._replica_list if r.live and node_id in r.nodes]
    if len(live) < 2:
        return []
    found: list[Disagreement] = []
    for table, kind in (("nodes", "node"), ("machines", "machine"), ("jobs", "job"), ("alerts", "alert")):
        versions: dict[Any, dict[str, Any]] = {}
        for replica in live:
            for key, obj in replica.table(table).items():
                if node_of(replica, table, obj) == node_id:
                    versions.setdefault(key, {})[replica.source_id] = obj
        for key in sorted(versions):
            by_source = versions[key]
            if len(by_source) < 2:
                continue
            objs = list(by_source.values())
            fields = sorted({name for other in objs[1:] for name in differing_fields(objs[0], other)})
            if fields:
                found.append(Disagreement(kind, key, fields, {sid: _stamp(o) for sid, o in by_source.items()}))
    return found


def command_source(store: Store, kind: str, target_id: str) -> str | None:
    """The source that should carry a command on this target (``machine``, ``node``, ``job``, ``alert``): the
    source serving the target's node when it is live (the cluster while live, else the node's live agent); for a
    target tied to no node, a live source holding it (a cluster source first). ``None`` when none is live."""
    table = _TABLE_OF_KIND.get(kind)
    if table is None:
        return None
    owner = store._owners[table].get(target_id)
    if owner is None:
        return None
    replica = store._replicas.get(owner)
    obj = getattr(store, table)[target_id]
    node_id = None if replica is None or replica.kind in INDEPENDENT_KINDS else node_of(replica, table, obj)
    selection = None if node_id is None else select(node_id, store._replica_list)
    if selection is not None:
        if not selection.live:
            return None
        if target_id in store._replicas[selection.primary].table(table):
            return selection.primary
    holders = [r for r in store._replica_list if r.live and target_id in r.table(table)]
    if not holders:
        return None
    if replica is not None and replica in holders:
        return owner
    holders.sort(key=lambda r: r.kind != "cluster")
    return holders[0].source_id


def replica(store: Store, source_id: str) -> Replica | None:
    """A source's own view (read it, never change it): for diagnostics and tests."""
    return store._replicas.get(source_id)


def owner(store: Store, table: str, object_id: Any) -> str | None:
    """The source that last wrote an object of a table (``nodes``, ``machines``, ``jobs``, ``alerts``,
    ``quality``)."""
    return store._owners[table].get(object_id)
