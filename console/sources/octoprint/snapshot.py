"""What one printer's source holds, as a contract snapshot: the synthetic node (and cluster) and the translation's
machine, job and alert at its ``seq``. The source hands it to the store at start and after a gap.

Every printer's source builds the very same node and cluster objects (nothing in them depends on the printer, and
their times are fixed at import), so a farm of printers causes no churn in the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.api.models import Cluster, Node, Snapshot
from console.api.wire import utc_now
from console.sources.octoprint.translation import Translator

__all__ = ["Farm"]

_STARTED = utc_now().replace(microsecond=0)
"""The synthetic node's ``last_seen`` and cluster's ``server_time``: fixed, so every source builds the same ones."""


@dataclass(frozen=True, slots=True)
class Farm:
    """The synthetic node every printer is a machine of."""

    node_id: str
    node_name: str
    node_city: str
    farm_size: int

    def node(self) -> Node:
        """The synthetic node, the same object from every printer's source (nothing in it depends on one)."""
        return Node(
            id=self.node_id,
            name=self.node_name,
            city=self.node_city,
            lat=0.0,
            lon=0.0,
            state="online",
            last_seen=_STARTED,
            machine_count=self.farm_size,
            agent_url=None,
        )

    def snapshot(self, translator: Translator, cluster: Cluster | None) -> Snapshot:
        """Everything ``translator`` holds, at its ``seq``. A snapshot must carry a cluster, and the store takes it as
        *the* cluster: pass the one a cluster source put there; without one, a synthetic cluster that every
        printer's source builds the same (so no churn)."""
        return Snapshot(
            seq=translator.seq,
            cluster=cluster
            or Cluster(
                id=self.node_id,
                name=self.node_name,
                region="",
                server_time=_STARTED,
                seq=0,
                instance_id=f"octoprint-{self.node_id}",
            ),
            nodes=[self.node()],
            machines=[translator.machine],
            jobs=[translator.job] if translator.job is not None else [],
            alerts=[translator.alert] if translator.alert is not None else [],
        )
