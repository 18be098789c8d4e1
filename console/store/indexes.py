"""Incrementally kept groupings of ids (machines by node, jobs by machine, alerts by priority ...).

Each event moves one id between groups in O(1); nothing is recomputed from the whole table, which matters at
20,000 machines and 100,000 events a second.

A small group is a tuple, a larger one a dict of ids to ``None``, read through its keys view (a live set). Why:
most groups are small (a machine's jobs: a handful), and a Python set of 5 ids takes 728 bytes against a tuple's 80;
at 100,000 jobs on 16,000 machines the sets alone were 11.6 MB of the store's ~150. Up to :data:`SMALL` ids, a
change rebuilds the tuple (as cheap as a set's add at that size); a group that outgrows it becomes a dict and stays
one. A dict rather than a set for the large groups: a set's table is sparse (500 ids: 2,048 slots of 16 bytes,
32 KB), a dict's entries are dense (~18 KB), and its keys view is a set to its readers.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from collections.abc import Set as AbstractSet
from typing import Generic, TypeVar

__all__ = ["SMALL", "GroupIndex"]

K = TypeVar("K", bound=Hashable)

SMALL = 8
"""The most ids a group keeps as a tuple."""

_EMPTY: frozenset[str] = frozenset()


class GroupIndex(Generic[K]):
    """A mapping from a group key to the ids in that group; empty groups are dropped."""

    __slots__ = ("_groups",)

    def __init__(self) -> None:
        self._groups: dict[K, tuple[str, ...] | dict[str, None]] = {}

    def add(self, key: K, item_id: str) -> None:
        groups = self._groups
        group = groups.get(key)
        if group is None:
            groups[key] = (item_id,)
        elif isinstance(group, tuple):
            if item_id not in group:
                groups[key] = (*group, item_id) if len(group) < SMALL else dict.fromkeys((*group, item_id))
        else:
            group[item_id] = None

    def discard(self, key: K, item_id: str) -> None:
        groups = self._groups
        group = groups.get(key)
        if group is None:
            return
        if isinstance(group, tuple):
            if item_id in group:
                if len(group) == 1:
                    del groups[key]
                else:
                    groups[key] = tuple(i for i in group if i != item_id)
        else:
            group.pop(item_id, None)
            if not group:
                del groups[key]

    def move(self, old: K, new: K, item_id: str) -> None:
        if old != new:
            self.discard(old, item_id)
            self.add(new, item_id)

    def get(self, key: K) -> AbstractSet[str]:
        """The ids in a group, as a set (a large group's is live: copy it before changing the store while
        iterating)."""
        group = self._groups.get(key)
        if group is None:
            return _EMPTY
        if isinstance(group, tuple):
            return frozenset(group)
        return group.keys()

    def count(self, key: K) -> int:
        group = self._groups.get(key)
        return len(group) if group else 0

    def counts(self) -> dict[K, int]:
        return {key: len(group) for key, group in self._groups.items()}

    def keys(self) -> Iterator[K]:
        return iter(self._groups)

    def clear(self) -> None:
        self._groups.clear()

    def as_dict(self) -> dict[K, set[str]]:
        """A copy, for tests and diagnostics."""
        return {key: set(group) for key, group in self._groups.items()}
