"""One cluster among several: its ids qualified on the way in (``leeds/N-01``) and unqualified on the way out.

Why here, at the source boundary: the store, the filter and the screens then see ids that are simply unique, and
merge a cluster API with its own node agents by id as they always did (both qualify with the cluster's name). The
server never sees a qualified id: :class:`QualifiedCarrier` strips the prefix from a command's path and body and
qualifies the ids in what it answers (reroute candidates, the audit trail). Used only when more than one cluster is
configured; with one, the source parses as before and pays nothing (``docs/multi-cluster.md``).

Every id-bearing field of the contract is rewritten: a node's ``id``; a machine's ``id``, ``node_id``, ``job_id``; a
job's ``id``, ``node_id``, ``machine_id``; an alert's ``id`` and ``source.id`` (also ``cluster``-scoped: the cluster
object's id is qualified too); quality's ``id``; an audit entry's ``id`` and ``target.id``; telemetry's
``machine_id``; ``job.removed``'s ``id``. Other text (names, order ids, messages) is left as the server sent it.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote, unquote

from console.api.command_bodies import CommandResult
from console.api.models import (
    Alert,
    AuditEntry,
    Cluster,
    Event,
    Job,
    JobRemoved,
    Machine,
    MachineTelemetry,
    Node,
    Page,
    Quality,
    RerouteCandidate,
    Snapshot,
    SourceRef,
)
from console.api.sse import StreamItem, parse_sse
from console.sources.adapter import CommandCarrier
from console.store.clusters import unqualify

__all__ = ["QualifiedCarrier", "Qualifier"]

_BODY_IDS = ("machine_id", "node_id")
"""Body members that name an object (a reroute's target)."""


class Qualifier:
    """Rewrites one cluster's contract objects so that their ids carry the cluster's name."""

    __slots__ = ("_prefix", "cluster")

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self._prefix = cluster + "/"

    def id(self, value: str) -> str:
        return self._prefix + value

    def opt(self, value: str | None) -> str | None:
        return None if value is None else self._prefix + value

    def ref(self, ref: SourceRef) -> SourceRef:
        return ref.model_copy(update={"id": self._prefix + ref.id})

    # --- objects ----------------------------------------------------------------------------------------------------

    def obj(self, data: Any) -> Any:
        """One event payload (or snapshot object) with its ids qualified; a payload without ids is returned as is."""
        kind = type(data)
        if kind is MachineTelemetry:
            return data.model_copy(update={"machine_id": self._prefix + data.machine_id})
        if kind is Machine:
            update = {"id": self.id(data.id), "node_id": self.id(data.node_id), "job_id": self.opt(data.job_id)}
            return data.model_copy(update=update)
        if kind is Job:
            return dataclasses.replace(
                data, id=self.id(data.id), node_id=self.opt(data.node_id), machine_id=self.opt(data.machine_id)
            )
        if kind is Node:
            return data.model_copy(update={"id": self.id(data.id)})
        if kind is Alert:
            return data.model_copy(update={"id": self.id(data.id), "source": self.ref(data.source)})
        if kind is Quality:
            return dataclasses.replace(data, id=self.id(data.id))
        if kind is AuditEntry:
            return data.model_copy(update={"id": self.id(data.id), "target": self.ref(data.target)})
        if kind is JobRemoved:
            return data.model_copy(update={"id": self.id(data.id)})
        if kind is Cluster:
            return data.model_copy(update={"id": self.id(data.id)})
        return data

    def snapshot(self, snapshot: Snapshot) -> Snapshot:
        obj = self.obj
        return snapshot.model_copy(
            update={
                "cluster": obj(snapshot.cluster),
                "nodes": [obj(n) for n in snapshot.nodes],
                "machines": [obj(m) for m in snapshot.machines],
                "jobs": [obj(j) for j in snapshot.jobs],
                "alerts": [obj(a) for a in snapshot.alerts],
                "quality": [obj(q) for q in snapshot.quality],
            }
        )

    def parse(self, event_id: str, event_type: str, data: str) -> StreamItem:
        """:func:`~console.api.sse.parse_sse`, then the event's payload qualified (the source's parse when several
        clusters are configured). A malformed event or a ``reset`` has no ids to qualify."""
        item = parse_sse(event_id, event_type, data)
        if type(item) is Event and item.data is not None:
            return Event(item.seq, item.type, self.obj(item.data))
        return item

    # --- on the way out ---------------------------------------------------------------------------------------------

    def path(self, path: str) -> str:
        """``/v1/machines/leeds%2FM-01/pause`` -> ``/v1/machines/M-01/pause`` (the id is the third segment)."""
        parts = path.split("/")
        if len(parts) > 3:
            parts[3] = quote(unqualify(self.cluster, unquote(parts[3])), safe="")
        return "/".join(parts)

    def body(self, body: dict[str, Any]) -> dict[str, Any]:
        if not any(isinstance(body.get(name), str) for name in _BODY_IDS):
            return body
        out = dict(body)
        for name in _BODY_IDS:
            value = out.get(name)
            if isinstance(value, str):
                out[name] = unqualify(self.cluster, value)
        return out


class QualifiedCarrier:
    """A cluster's carrier seen through its :class:`Qualifier`: the server gets its own ids, the console ours."""

    def __init__(self, inner: CommandCarrier, qualifier: Qualifier) -> None:
        self.inner = inner
        self.qualifier = qualifier

    async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult:
        q = self.qualifier
        return await self.inner.command(q.path(path), q.body(body), idempotency_key)

    async def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]:
        q = self.qualifier
        found = await self.inner.reroute_candidates(unqualify(q.cluster, job_id))
        return [c.model_copy(update={"machine_id": q.id(c.machine_id), "node_id": q.id(c.node_id)}) for c in found]

    async def audit(self, cursor: str | None = None, limit: int = 100) -> Page[AuditEntry]:
        page = await self.inner.audit(cursor, limit)
        return page.model_copy(update={"items": [self.qualifier.obj(entry) for entry in page.items]})

    def __getattr__(self, name: str) -> Any:  # reads the screens may make beyond the protocol (whoami, probe)
        return getattr(self.inner, name)
