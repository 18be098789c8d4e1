"""The cluster API and node agents as a source adapter: a :class:`ClusterClient` and the :class:`ClusterSource`
loop that feeds the store from it, built from one ``SourceSpec`` with the settings' limits. A source of one cluster
among several (``spec.cluster``) qualifies its ids and carries commands through a
:class:`~console.sources.cluster_ids.QualifiedCarrier` (``docs/multi-cluster.md``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.api.client import ClusterClient
from console.sources.adapter import AdapterContext, CommandCarrier
from console.sources.cluster import ClusterSource
from console.sources.cluster_ids import QualifiedCarrier, Qualifier

if TYPE_CHECKING:
    from console.settings import SourceSpec

__all__ = ["ClusterAdapter"]


class ClusterAdapter:
    """One server of the contract (the cluster API, kind ``cluster``, or a node agent, kind ``agent``)."""

    supported_actions: frozenset[str] | None = None
    """Every contract command."""
    grants_role: str | None = None
    """The server says who we are (``GET /v1/whoami``)."""

    def __init__(self, source_id: str, kind: str, client: ClusterClient, source: ClusterSource) -> None:
        self.source_id = source_id
        self.kind = kind
        self.client = client
        self.source = source
        qualifier = source.qualifier
        self._carrier: CommandCarrier = client if qualifier is None else QualifiedCarrier(client, qualifier)

    @classmethod
    def from_spec(cls, spec: SourceSpec, context: AdapterContext) -> ClusterAdapter:
        settings = context.settings
        transport = None
        if spec.start_answers is not None:  # the first reads, sent while the console imported (issue 15)
            from console.api.prefetched import prefetched_transport

            transport = prefetched_transport(spec.start_answers, spec.url, spec.verify)
        client = ClusterClient(
            spec.url,
            token=spec.token,
            verify=spec.verify,
            transport=transport,
            max_response_bytes=settings.max_response_bytes,
            max_event_bytes=settings.max_event_bytes,
        )
        source = ClusterSource(
            spec.source_id,
            client,
            context.store,
            kind=spec.kind,
            stale_after=settings.stale_after_s,
            qualifier=Qualifier(spec.cluster) if spec.cluster else None,
        )
        return cls(spec.source_id, spec.kind, client, source)

    @property
    def carrier(self) -> CommandCarrier:
        return self._carrier

    async def run(self) -> None:
        await self.source.run()

    def stop(self) -> None:
        self.source.stop()

    async def aclose(self) -> None:
        await self.client.aclose()
