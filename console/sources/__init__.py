"""Sources: each runs a loop that bootstraps from a snapshot, streams events, reconnects, and feeds the store."""

from console.sources.base import Backoff, Source
from console.sources.cluster import ClusterSource

__all__ = ["Backoff", "ClusterSource", "Source"]
