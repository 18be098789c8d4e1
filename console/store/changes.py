"""What changed in the store since the screens last looked, and how an event was taken.

The store hands out one :class:`ChangeSet` per refresh (``Store.take_changes``) so a screen repaints only the rows
that changed, and rebuilds its lists only when ``structure`` says objects came or went.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["ApplyOutcome", "ChangeSet"]


class ApplyOutcome(StrEnum):
    """What ``Store.apply_event`` did with an event."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    """``seq`` at or below the last applied one: already seen, ignored."""
    GAP = "gap"
    """``seq`` skipped one or more events (or the source has no snapshot yet): NOT applied; resync from a snapshot."""
    IGNORED = "ignored"
    """An event type the console does not know (or one about an object it does not have): ``seq`` advances."""


@dataclass(slots=True)
class ChangeSet:
    """Ids changed per table since the last ``take_changes``.

    ``machines`` holds machines whose fields changed; ``telemetry_only`` those whose *only* change was telemetry (a
    screen may repaint just a gauge). ``structure`` is set when objects were added or removed, or moved between
    groups (a machine to another node or state, a job to another machine or node, an alert to another priority), so
    grouped lists must be rebuilt; ``structure_tables`` names the tables concerned.
    """

    nodes: set[str] = field(default_factory=set)
    machines: set[str] = field(default_factory=set)
    jobs: set[str] = field(default_factory=set)
    alerts: set[str] = field(default_factory=set)
    quality: set[tuple[str, str]] = field(default_factory=set)
    audit: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    telemetry_only: set[str] = field(default_factory=set)
    cluster: bool = False
    whoami: bool = False
    structure: bool = False
    structure_tables: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not (
            self.nodes
            or self.machines
            or self.jobs
            or self.alerts
            or self.quality
            or self.audit
            or self.sources
            or self.telemetry_only
            or self.cluster
            or self.whoami
            or self.structure
        )
