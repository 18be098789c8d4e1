"""Which machines the dashboard's grid shows, in which order, kept current from change sets without a full re-sort.

Why its own module: at 20,000 machines sorted by state (the dashboard's default: abnormal first), the demo's stream
changes some machine's state in nearly every flush (~1,500 machine.updated events a second at speed 20), and each
such change moves that machine in the sort. Filtering and sorting all 20,000 again for it cost 25-70 ms of CPU per
flush, ten flushes a second: most of the console's CPU under the demo's mix, and in the way of keys.

How: a full placement (:meth:`GridPlacement.place`) remembers each shown machine's sort value and, when the input was
the store's machines in the store's order, that order (its *rank*). ``sorted`` is stable, so the order it gives is
exactly the ascending order of ``(sort value, rank)``, and those pairs are unique. :meth:`GridPlacement.reposition`
then moves only the changed machines: each is taken out at its old pair (a binary search) and put in at its new one,
or only taken out or put in when it left or joined the filter. The result is the same list a full sort would give.
A machine that leaves the store loses its rank, so one
that comes back (last in the store's order, as a new one) is placed in full too; one removed and added again between
two flushes is the exception: among machines with equal sort values it keeps its old place. New machines (no rank
yet), a reversed sort, a node selection (its input is the node's index, not the store's order)
or a very large change set fall back to a full placement, as before.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from console.api.models import Machine

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = ["GridPlacement"]

_MOST_MOVES = 2_000
"""More changed machines than this in one flush: a full placement (one sort) is cheaper than that many moves."""


@dataclass
class GridPlacement:
    """Which machines the grid shows and the sort value each was placed by: from these a change set tells whether
    the grid must be filtered and sorted again (a machine joined, left or moved) or only repainted in place; with
    ranks, :meth:`reposition` moves the changed ones itself (see the module docstring)."""

    shown_ids: set[str] = field(default_factory=set)
    sort_values: dict[str, Any] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    """The shown ids in grid order (as placed, then as repositioned)."""
    _ranks: dict[str, int] | None = None
    _pairs: list[tuple[Any, int]] = field(default_factory=list)
    """``(sort value, rank)`` of ``order``'s machines, ascending; kept only with ranks."""

    def place(
        self,
        machines: list[Machine],
        key: Callable[[Machine], object],
        ranks: Mapping[str, int] | None = None,
    ) -> None:
        """``machines`` as sorted (stably, ascending) from an input whose order ``ranks`` gives, if it does; without
        ``ranks`` only :meth:`needs_placing` can be asked later."""
        self.order = [m.id for m in machines]
        self.shown_ids = set(self.order)
        values = {m.id: key(m) for m in machines}
        self.sort_values = values
        if ranks is None:
            self._ranks, self._pairs = None, []
        else:
            self._ranks = dict(ranks)
            self._pairs = [(values[i], self._ranks[i]) for i in self.order]

    def needs_placing(
        self,
        store: Store,
        changed: set[str],
        belongs: Callable[[Machine], bool],
        key: Callable[[Machine], object],
    ) -> bool:
        """Did a changed machine join or leave the view (``belongs``: the node selection and the filter), or change
        what it is sorted by?"""
        for machine_id in changed:
            machine = store.machines.get(machine_id)
            shown = machine_id in self.shown_ids
            if machine is None:
                if shown:
                    return True
                continue
            if belongs(machine) != shown or (shown and key(machine) != self.sort_values.get(machine_id)):
                return True
        return False

    def reposition(
        self,
        store: Store,
        changed: set[str],
        belongs: Callable[[Machine], bool],
        key: Callable[[Machine], object],
    ) -> bool | None:
        """Move the changed machines that joined, left or moved in the sort to where a full sort would put them.

        Returns ``False`` when none did (repaint in place), ``True`` when :attr:`order` changed, ``None`` when this
        placement cannot do it (no ranks, a machine never ranked, too many changes): then place again in full.
        """
        ranks = self._ranks
        if ranks is None or len(changed) > _MOST_MOVES:
            return None if self.needs_placing(store, changed, belongs, key) else False
        machines, shown_ids, values = store.machines, self.shown_ids, self.sort_values
        moves: list[tuple[str, Machine | None, Any]] = []
        gone: list[str] = []
        for machine_id in changed:
            machine = machines.get(machine_id)
            shown = machine_id in shown_ids
            if machine is None:
                if machine_id in ranks:
                    gone.append(machine_id)
                if shown:
                    moves.append((machine_id, None, None))
                continue
            if not belongs(machine):
                if shown:
                    moves.append((machine_id, None, None))
                continue
            value = key(machine)
            if shown and value == values[machine_id]:
                continue
            if machine_id not in ranks:
                return None  # new to the store since the placement: its place among equals is not known here
            moves.append((machine_id, machine, value))
        if not moves:
            for machine_id in gone:
                del ranks[machine_id]
            return False
        pairs, order = self._pairs, self.order
        for machine_id, machine, value in moves:
            if machine_id in shown_ids:
                at = bisect_left(pairs, (values[machine_id], ranks[machine_id]))
                del pairs[at], order[at]
                shown_ids.discard(machine_id)
                del values[machine_id]
            if machine is not None:
                pair = (value, ranks[machine_id])
                at = bisect_left(pairs, pair)
                pairs.insert(at, pair)
                order.insert(at, machine_id)
                shown_ids.add(machine_id)
                values[machine_id] = value
        for machine_id in gone:  # if it comes back it is last in the store's order: a full placement ranks it
            del ranks[machine_id]
        return True
