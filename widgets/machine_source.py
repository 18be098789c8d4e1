"""What the machine grid draws from: one typed source of rows, instead of loose attributes and a store callback.

Why: the grid needs more than the machines (their current telemetry, their jobs, node names, alert counts, which
are stale), and all of it must come from one place so that freezing the view (``f``) can swap in one consistent
snapshot. :class:`MachineSource` is what the grid reads; the dashboard implements it over the store (widgets may not
import the store), and :class:`MachineRows` is the plain implementation from mappings: a simple owner's data, or a
frozen :func:`snapshot` of any source. The grid holds no copies of its own: a live source is read when a line is
drawn, so a change costs the grid only the lines on screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple, Protocol

from console.api.models import Job, Machine
from widgets.safe_text import clean

__all__ = ["MachineFacts", "MachineRows", "MachineSource", "cleaned", "facts_of", "snapshot"]


class MachineSource(Protocol):
    """The machines of a view and what is known about them. Read when lines are drawn; never changed by the grid."""

    @property
    def machines(self) -> Mapping[str, Machine]:
        """Machines by id (the shown ones at least)."""
        ...

    @property
    def jobs(self) -> Mapping[str, Job]:
        """Jobs by id, for each machine's job label and the part it is making."""
        ...

    @property
    def node_names(self) -> Mapping[str, str]:
        """Node names by id for the table's node column (the id is shown when a name is missing)."""
        ...

    @property
    def alert_counts(self) -> Mapping[str, int]:
        """Active alerts per machine id."""
        ...

    @property
    def stale_ids(self) -> AbstractSet[str]:
        """Machines whose data is stale (their source is not live): drawn with the word ``stale``."""
        ...

    @property
    def stale(self) -> bool:
        """Everything is stale (the whole view's source is down)."""
        ...

    def telemetry(self, machine: Machine) -> Mapping[str, float]:
        """A machine's current telemetry values (a store keeps them apart from the machine objects)."""
        ...


@dataclass(frozen=True, slots=True)
class MachineRows:
    """A :class:`MachineSource` from plain mappings. ``telemetry_values`` by machine id, or ``None`` for each
    machine's own ``telemetry`` field."""

    machines: Mapping[str, Machine] = field(default_factory=dict)
    jobs: Mapping[str, Job] = field(default_factory=dict)
    node_names: Mapping[str, str] = field(default_factory=dict)
    alert_counts: Mapping[str, int] = field(default_factory=dict)
    stale_ids: AbstractSet[str] = frozenset()
    stale: bool = False
    telemetry_values: Mapping[str, Mapping[str, float]] | None = None

    def telemetry(self, machine: Machine) -> Mapping[str, float]:
        values = self.telemetry_values
        if values is None:
            return machine.telemetry
        return values.get(machine.id, machine.telemetry)


def snapshot(source: MachineSource, ids: Iterable[str]) -> MachineRows:
    """``source`` as it is now, for the machines ``ids``: a frozen view that a scroll cannot move on.

    Machines and jobs are never changed in place (a change stores a new object), so keeping the objects is enough;
    telemetry values may be updated in place by their owner, so they are copied.
    """
    machines = source.machines
    shown = {i: m for i in ids if (m := machines.get(i)) is not None}
    jobs = source.jobs
    shown_jobs = {j: job for m in shown.values() if (j := m.job_id) and (job := jobs.get(j)) is not None}
    stale_ids = source.stale_ids
    alerts = source.alert_counts
    return MachineRows(
        machines=shown,
        jobs=shown_jobs,
        node_names=dict(source.node_names),
        alert_counts={i: n for i in shown if (n := alerts.get(i, 0))},
        stale_ids=frozenset(i for i in shown if i in stale_ids),
        stale=source.stale,
        telemetry_values={i: dict(source.telemetry(m)) for i, m in shown.items()},
    )


class MachineFacts(NamedTuple):
    """What a tile or table row shows beyond the machine's own fields (hashable: part of the line cache's keys)."""

    marked: bool
    stale: bool
    alerts: int
    job: tuple[str, int, int] | None
    """(part, done, quantity) of the machine's job, if the source knows it."""
    node: str
    """The node's name, else its id."""


@lru_cache(maxsize=4096)
def cleaned(text: str) -> str:
    """``clean(text)``, remembered: names, job ids and parts are drawn on every repaint but rarely change."""
    return clean(text)


def facts_of(source: MachineSource, machine: Machine, marked: bool) -> MachineFacts:
    """The facts of ``machine`` in ``source`` (``marked`` is the screen's, not the source's)."""
    job_id = machine.job_id
    job = source.jobs.get(job_id) if job_id else None
    node_id = machine.node_id
    return MachineFacts(
        marked,
        source.stale or machine.id in source.stale_ids,
        source.alert_counts.get(machine.id, 0),
        None if job is None else (cleaned(job.part), job.done_qty, job.quantity),
        source.node_names.get(node_id) or node_id,
    )
