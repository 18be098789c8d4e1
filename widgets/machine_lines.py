"""The screen lines of the machine grid, one render pass at a time: which machine goes where on line ``y``.

Why its own module: Textual asks the grid for each visible line in turn; the layout maths of a line (tile row and
line within the tile at a scroll offset, the slot of each tile column, the table row under its header, the empty
message) and the reuse of drawn pieces from the line cache are apart from the widget's jobs (bindings, messages,
the view and what a change repaints). The grid hands a :class:`LinePainter` its state as a pass begins: the geometry
is then read once per pass and each machine's facts once for its four tile lines. What a tile line or a table row
shows is :mod:`widgets.machine_tiles` and :mod:`widgets.machine_table`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import cast

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from console.api.models import Machine
from widgets.line_cache import LineCache
from widgets.machine_source import MachineFacts, MachineSource, facts_of
from widgets.machine_table import table_header, table_row, table_row_line_key
from widgets.machine_tiles import TILE_CONTENT_LINES, tile_piece, tile_piece_key
from widgets.safe_text import fit

__all__ = ["LinePainter"]


class LinePainter:
    """Draws the grid's screen lines for one geometry: ``width`` cells, ``cols`` tiles a line (1 in the table),
    scrolled ``scroll_y`` lines down. ``cursor_state(index)`` is the grid's (0 off the cursor, 1 blurred, 2 focused)."""

    __slots__ = (
        "_facts",
        "cols",
        "cursor_state",
        "empty_message",
        "ids",
        "lines",
        "marked",
        "scroll_y",
        "source",
        "table",
        "tile_height",
        "width",
    )

    def __init__(
        self,
        *,
        source: MachineSource,
        ids: Sequence[str],
        marked: AbstractSet[str],
        cursor_state: Callable[[int], int],
        lines: LineCache[object],
        table: bool,
        width: int,
        cols: int,
        scroll_y: int,
        tile_height: int,
        empty_message: str,
    ) -> None:
        self.source = source
        self.ids = ids
        self.marked = marked
        self.cursor_state = cursor_state
        self.lines = lines
        self.table = table
        self.width = width
        self.cols = cols
        self.scroll_y = scroll_y
        self.tile_height = tile_height
        self.empty_message = empty_message
        self._facts: dict[str, MachineFacts] = {}

    def line(self, y: int, styles: dict[str, Style]) -> Strip:
        """Screen line ``y`` (0 at the top of the content region)."""
        width = self.width
        base = styles["_base"]
        count = len(self.ids)
        if self.table:
            if y == 0:
                return table_header(width, styles)
            if not count:
                return self._empty_line(y - 1, styles)
            index = self.scroll_y + y - 1
            machine = self._machine_at(index) if index < count else None
            if machine is None:
                return Strip.blank(width, base)
            return self._table_line(index, machine, styles)
        if not count:
            return self._empty_line(y, styles)
        cols = self.cols
        tile_row, within = divmod(self.scroll_y + y, self.tile_height)
        slot = width // cols
        segments: list[Segment] = []
        for col in range(cols):
            index = tile_row * cols + col
            machine = None if index >= count or within == TILE_CONTENT_LINES else self._machine_at(index)
            if machine is None:
                segments.append(Segment(" " * slot, base))
                continue
            segments.extend(self._tile_piece(index, machine, within, slot - 1, styles))
            segments.append(Segment(" ", base))
        used = slot * cols
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        return Strip(segments, width)

    def _machine_at(self, index: int) -> Machine | None:
        """The machine shown at ``index``, as the source has it now (``None`` if it has just left the source)."""
        return self.source.machines.get(self.ids[index])

    def facts(self, machine: Machine) -> MachineFacts:
        """``machine``'s facts, read from the source once per pass."""
        memo = self._facts
        facts = memo.get(machine.id)
        if facts is None:
            facts = memo[machine.id] = facts_of(self.source, machine, machine.id in self.marked)
        return facts

    def _tile_piece(
        self, index: int, machine: Machine, within: int, width: int, styles: dict[str, Style]
    ) -> list[Segment]:
        """One tile line of ``machine``, from the line cache when it was drawn before with the same key."""
        telemetry = self.source.telemetry(machine)
        facts = self.facts(machine)
        cursor = self.cursor_state(index)
        key = tile_piece_key(machine, telemetry, facts, within, cursor, width)
        piece = self.lines.get(key, lambda: tile_piece(machine, telemetry, facts, within, width, styles, bool(cursor)))
        return cast(list[Segment], piece)

    def _table_line(self, index: int, machine: Machine, styles: dict[str, Style]) -> Strip:
        """``machine``'s table row, from the line cache when it was drawn before with the same key."""
        width = self.width
        telemetry = self.source.telemetry(machine)
        facts = self.facts(machine)
        cursor = self.cursor_state(index)
        key = table_row_line_key(machine, telemetry, facts, cursor, width)
        line = self.lines.get(key, lambda: table_row(machine, telemetry, facts, width, styles, bool(cursor)))
        return cast(Strip, line)

    def _empty_line(self, y: int, styles: dict[str, Style]) -> Strip:
        width = self.width
        if y != 0:
            return Strip.blank(width, styles["_base"])
        return Strip([Segment(fit(" " + self.empty_message, width), styles["_base"] + styles["empty"])], width)
