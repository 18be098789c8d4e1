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

    # --- objects ----------------------------------------------------------------------------------------------------

    def obj(self, data: Any) -> Any:
        """One event payload (or snapshot object) with its ids qualified, *in place*, returned; a payload without ids
        is returned as is.

        In place because it is fresh from the parser and nobody else holds it yet (as ``console.store.compact`` shrinks
        objects before the store keeps them): with a ``model_copy`` a telemetry event cost 3.2 us to parse and
        qualify against 1.2 us to parse; written in place, 1.6 us (one core, this machine). Models take the value
        in their ``__dict__``; the lean records (machines, jobs, quality) are frozen dataclasses, written through
        ``object.__setattr__``.
        """
        kind = type(data)
        p = self._prefix
        if kind is MachineTelemetry:
            data.__dict__["machine_id"] = p + data.machine_id
        elif kind is Machine:
            _set(data, "id", p + data.id)
            _set(data, "node_id", p + data.node_id)
            if data.job_id is not None:
                _set(data, "job_id", p + data.job_id)
        elif kind is Job:
            _set(data, "id", p + data.id)
            if data.node_id is not None:
                _set(data, "node_id", p + data.node_id)
            if data.machine_id is not None:
                _set(data, "machine_id", p + data.machine_id)
        elif kind is Alert:
            data.__dict__["id"] = p + data.id
            data.source.__dict__["id"] = p + data.source.id
        elif kind is AuditEntry:
            data.__dict__["id"] = p + data.id
            data.target.__dict__["id"] = p + data.target.id
        elif kind is Quality:
            _set(data, "id", p + data.id)
        elif kind is Node or kind is JobRemoved or kind is Cluster:
            data.__dict__["id"] = p + data.id
        return data

    def snapshot(self, snapshot: Snapshot) -> Snapshot:
        """A snapshot fresh from the client, its objects qualified in place (see :meth:`obj`)."""
        obj = self.obj
        obj(snapshot.cluster)
        for objects in (snapshot.nodes, snapshot.machines, snapshot.jobs, snapshot.alerts, snapshot.quality):
            for item in objects:
                obj(item)
        return snapshot

    def parse(self, event_id: str, event_type: str, data: str) -> StreamItem:
        """:func:`~console.api.sse.parse_sse`, then the event's payload qualified (the source's parse when several
        clusters are configured). A malformed event or a ``reset`` has no ids to qualify."""
        item = parse_sse(event_id, event_type, data)
        if type(item) is Event and item.data is not None:
            self.obj(item.data)
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


def _set(record: Any, name: str, value: str) -> None:
    object.__setattr__(record, name, value)  # a lean record is a frozen dataclass; this one is not stored yet


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
