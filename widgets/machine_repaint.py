"""Which lines of the visible machines a change repaints: the machine grid's record of what it painted.

Why its own module: the dashboard's main cost at 20,000 machines was repainting; the rule that keeps it small
(compare each visible changed machine's render keys, :func:`~widgets.machine_tiles.tile_line_keys` or
:func:`~widgets.machine_table.table_row_key`, with those last painted, and repaint only the lines that differ, in
runs of one tile column) is subtle enough to deserve its own home and its own tests, apart from drawing and scrolling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet

from console.api.models import Machine
from widgets.machine_table import table_row_key
from widgets.machine_tiles import TILE_CONTENT_LINES, tile_line_keys

__all__ = ["PaintedKeys", "tile_runs", "visible_changes"]

Telemetry = Callable[[Machine], Mapping[str, float]]


def visible_changes(
    ids: Iterable[str], shown: Sequence[str], index: Mapping[str, int], lo: int, hi: int
) -> list[tuple[int, str]]:
    """``(index, id)`` of the changed ``ids`` that are visible: in ``shown[lo:hi]`` (``index`` maps id to position).

    The cost follows the screen, not the change set: a set (or a dict's keys) larger than the visible range is asked
    about each of the ~50 visible items; otherwise each id costs a dict lookup and two integer compares.
    """
    if isinstance(ids, AbstractSet) and len(ids) > hi - lo:
        return [(i, shown[i]) for i in range(lo, hi) if shown[i] in ids]
    return [(i, machine_id) for machine_id in ids if (i := index.get(machine_id, -1)) >= lo and i < hi]


class PaintedKeys:
    """Render keys of visible machines as last painted, for the visible index range they belong to."""

    __slots__ = ("keys", "range")

    def __init__(self) -> None:
        self.keys: dict[str, tuple[object, ...]] = {}
        self.range = (0, 0)

    def clear(self) -> None:
        self.keys.clear()

    def follow(self, lo: int, hi: int) -> None:
        """The visible range is now ``[lo, hi)``. If it moved (a scroll, a resize), the keys on record belong to
        items now off screen or were painted before changes skipped while they were away: forget them, so such items
        are repainted whole on their next change."""
        if (lo, hi) != self.range:
            self.keys.clear()
            self.range = (lo, hi)

    def swap_in(
        self,
        own: dict[str, Machine],
        changed: Mapping[str, Machine],
        index: Mapping[str, int],
        keys_of: Callable[[Machine], tuple[object, ...]],
    ) -> None:
        """Store the ``changed`` machines that are shown (in ``index``) into ``own``, a grid's private copy. A visible
        one with no keys on record first has its old version's keys (``keys_of``) recorded: that is what is on screen
        now, to compare the new version with. Call after :meth:`follow`; machines not shown are ignored."""
        lo, hi = self.range
        drawn = self.keys
        for machine_id, machine in changed.items():
            i = index.get(machine_id)
            if i is None:
                continue
            if lo <= i < hi and machine_id not in drawn and (old := own.get(machine_id)) is not None:
                drawn[machine_id] = keys_of(old)
            own[machine_id] = machine

    def table_lines(
        self, visible: list[tuple[int, str]], machines: Mapping[str, Machine], telemetry: Telemetry, header: int
    ) -> set[int]:
        """Virtual lines of the visible ``(index, id)`` rows whose key changed (or whose machine is gone)."""
        drawn = self.keys
        lines: set[int] = set()
        for i, machine_id in visible:
            machine = machines.get(machine_id)
            new_key = None if machine is None else table_row_key(machine, telemetry(machine))
            if new_key is None or drawn.get(machine_id) != new_key:
                lines.add(header + i)
            if new_key is None:
                drawn.pop(machine_id, None)
            else:
                drawn[machine_id] = new_key
        return lines

    def tile_lines(
        self,
        visible: list[tuple[int, str]],
        machines: Mapping[str, Machine],
        telemetry: Telemetry,
        cols: int,
        tile_height: int,
    ) -> set[tuple[int, int]]:
        """(tile column, virtual line) of the visible ``(index, id)`` tiles' content lines whose key changed: a
        telemetry tick dirties one line of one tile, not five."""
        drawn = self.keys
        dirty: set[tuple[int, int]] = set()
        for i, machine_id in visible:
            first = (i // cols) * tile_height
            column = i % cols
            machine = machines.get(machine_id)
            old_keys = drawn.get(machine_id)
            if machine is None:
                drawn.pop(machine_id, None)
                new_keys: tuple[object, ...] | None = None
            else:
                new_keys = drawn[machine_id] = tile_line_keys(machine, telemetry(machine))
            for within in range(TILE_CONTENT_LINES):
                if old_keys is None or new_keys is None or old_keys[within] != new_keys[within]:
                    dirty.add((column, first + within))
        return dirty


def tile_runs(dirty: set[tuple[int, int]]) -> Iterator[tuple[int, int, int]]:
    """Contiguous lines of one tile column as ``(column, first line, count)``: one repaint region each."""
    run_column = run_start = run_end = -1
    for column, line in sorted(dirty):
        if column != run_column or line != run_end:
            if run_end > run_start:
                yield run_column, run_start, run_end - run_start
            run_column, run_start = column, line
        run_end = line + 1
    if run_end > run_start:
        yield run_column, run_start, run_end - run_start
