"""The machine grid: every machine of the (filtered, sorted) view, as tiles or as a dense table.

A Line-API ``ScrollView`` on :class:`~widgets.cursor_grid.CursorGrid` (cursor, paging, marks, clicks, messages): it
keeps the ids of the shown machines in a list plus an id -> index map and draws only the lines that are on screen,
so a cluster of 20,000 machines costs what the visible ~50 lines cost. Everything it draws comes from one
:class:`~widgets.machine_source.MachineSource` (machines, telemetry, jobs, node names, alert counts, stale flags),
read when a line is drawn: the dashboard gives a source over the store, a simple owner its machines
(:meth:`MachineGrid.set_machines`), and freezing the view swaps in a snapshot (:meth:`MachineGrid.freeze`).

When the owner says which machines changed, :meth:`MachineGrid.machines_changed` repaints only the changed lines of
those that are *visible* (no full refresh); an off-screen change costs a dict lookup and two integer compares. A
repainted line whose key (what it shows, width, cursor, mark) was drawn before comes from the line cache. Sorting and
filtering belong to the caller. Which lines a change repaints is :mod:`widgets.machine_repaint`; which machine goes
where on a screen line, :mod:`widgets.machine_lines`; what a tile line or a table row looks like,
:mod:`widgets.machine_tiles` and :mod:`widgets.machine_table`; the bar, :mod:`widgets.progress_bar`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import ClassVar, Literal

from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip

from console.api.models import Machine
from widgets.cursor_grid import CursorGrid
from widgets.machine_lines import LinePainter
from widgets.machine_repaint import PaintedKeys, tile_runs, visible_changes
from widgets.machine_source import MachineRows, MachineSource, snapshot
from widgets.machine_table import table_row_key
from widgets.machine_tiles import TILE_CONTENT_LINES, tile_line_keys
from widgets.progress_bar import progress_bar

__all__ = ["GridLayout", "MachineGrid", "progress_bar", "table_row_key", "tile_line_keys"]

GridLayout = Literal["tiles", "table"]


class MachineGrid(CursorGrid, can_focus=True):
    """Machines as tiles (several per row, 5 lines each) or as a dense table (one line each, with a header)."""

    TILE_MIN_WIDTH: ClassVar[int] = 28
    TILE_HEIGHT: ClassVar[int] = TILE_CONTENT_LINES + 1  # 4 lines of content and a blank separator
    PART_PREFIX: ClassVar[str] = "machine-grid--"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="machine-grid.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="machine-grid.down"),
        Binding("left,h", "cursor_left", "Left", show=False, id="machine-grid.left"),
        Binding("right,l", "cursor_right", "Right", show=False, id="machine-grid.right"),
        Binding("pageup", "page_up", "Page up", show=False, id="machine-grid.page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="machine-grid.page-down"),
        Binding("home", "first", "First", show=False, id="machine-grid.first"),
        Binding("end", "last", "Last", show=False, id="machine-grid.last"),
        Binding("enter", "select", "Open", show=False, id="machine-grid.select"),
        Binding("space", "toggle_mark", "Mark", show=False, id="machine-grid.mark"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "machine-grid--tile",
        "machine-grid--cursor",
        "machine-grid--header",
        "machine-grid--name",
        "machine-grid--muted",
        "machine-grid--empty",
        "machine-grid--mark",
        "machine-grid--progress",
        "machine-grid--progress-empty",
        "machine-grid--alerts",
        "machine-grid--state-normal",
        "machine-grid--state-fault",
        "machine-grid--state-blocked",
        "machine-grid--state-paused",
        "machine-grid--state-maintenance",
        "machine-grid--state-offline",
        "machine-grid--state-unknown",
        "machine-grid--stale",
    }

    DEFAULT_CSS = """
    MachineGrid {
        overflow-x: hidden;
        overflow-y: auto;
        background: $background;
        color: $foreground;
        height: 1fr;
    }
    MachineGrid > .machine-grid--tile { background: $surface; color: $state-normal; }
    MachineGrid > .machine-grid--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    MachineGrid:focus > .machine-grid--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    MachineGrid > .machine-grid--header { color: $text-muted; text-style: bold; }
    MachineGrid > .machine-grid--name { color: $foreground; text-style: bold; }
    MachineGrid > .machine-grid--muted { color: $text-muted; }
    MachineGrid > .machine-grid--empty { color: $text-muted; text-style: italic; }
    MachineGrid > .machine-grid--mark { color: $mark; text-style: bold; }
    MachineGrid > .machine-grid--progress { color: $progress-fill; }
    MachineGrid > .machine-grid--progress-empty { color: $progress-empty; }
    MachineGrid > .machine-grid--alerts { color: $alarm-high; text-style: $alarm-high-style; }
    MachineGrid > .machine-grid--state-normal { color: $state-normal; }
    MachineGrid > .machine-grid--state-fault { color: $state-fault; text-style: $state-fault-style; }
    MachineGrid > .machine-grid--state-blocked { color: $state-blocked; text-style: $state-blocked-style; }
    MachineGrid > .machine-grid--state-paused { color: $state-paused; text-style: $state-paused-style; }
    MachineGrid > .machine-grid--state-maintenance { color: $state-maintenance; text-style: $state-maintenance-style; }
    MachineGrid > .machine-grid--state-offline { color: $state-offline; text-style: $state-offline-style; }
    MachineGrid > .machine-grid--state-unknown { color: $state-unknown; text-style: $state-unknown-style; }
    MachineGrid > .machine-grid--stale { color: $state-stale; text-style: $state-stale-style; }
    """

    grid_layout: reactive[GridLayout] = reactive("tiles")
    """``tiles`` or ``table``. (Not ``layout``: that name is a Textual ``Widget`` property.)"""

    class Highlighted(CursorGrid.Highlighted):
        """The cursor moved to another machine (or to none: ``machine_id`` is ``None`` when the grid is empty)."""

        @property
        def machine_id(self) -> str | None:
            return self.key

    class Selected(CursorGrid.Selected):
        """The operator opened a machine (enter or double click)."""

        @property
        def machine_id(self) -> str:
            return self.key or ""

    class MarkToggled(CursorGrid.MarkToggled):
        """The operator pressed space on a machine; the owner updates ``marked`` (the grid does not)."""

        @property
        def machine_id(self) -> str:
            return self.key or ""

    def __init__(
        self,
        *,
        grid_layout: GridLayout = "tiles",
        empty_message: str = "No machines match the filter",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._ids: list[str] = []
        self._source: MachineSource = MachineRows()
        self._own_machines: dict[str, Machine] | None = None
        """The grid's private copy of the machines (``set_machines`` without a mapping), kept by ``update_rows``."""
        self._painted = PaintedKeys()
        """Render keys of visible machines as last painted: what a change is compared with (see machines_changed)."""
        self._pass: LinePainter | None = None
        """The painter of the render pass under way (see render_lines)."""
        self.empty_message = empty_message
        self.set_reactive(MachineGrid.grid_layout, grid_layout)

    # --- CursorGrid ------------------------------------------------------------------------------------------------

    def _item_count(self) -> int:
        return len(self._ids)

    def _key_at(self, index: int) -> str:
        return self._ids[index]

    def _layout(self, width: int) -> tuple[int, int, int]:
        if self.grid_layout == "table":
            return 1, 1, 1
        return max(1, width // self.TILE_MIN_WIDTH), self.TILE_HEIGHT, 0

    def _gap_line(self, within: int) -> bool:
        return self.grid_layout == "tiles" and within == self.TILE_HEIGHT - 1

    def _extra_styles(self, styles: dict[str, Style]) -> None:
        styles["tile"] = self.rich_style + styles["tile"]
        styles["cursor"] = self.rich_style + styles["cursor"]

    # --- data in ---------------------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._ids)

    @property
    def machine_ids(self) -> list[str]:
        return list(self._ids)

    @property
    def source(self) -> MachineSource:
        """What the grid draws from. Setting it repaints everything shown (the ids stay)."""
        return self._source

    @source.setter
    def source(self, source: MachineSource) -> None:
        self._source = source
        self._own_machines = None
        self._painted.clear()
        self.refresh()

    def set_view(self, ids: Sequence[str], source: MachineSource | None = None) -> None:
        """Show the machines ``ids`` (already filtered and sorted), from ``source`` if given, else the current one.
        The cursor stays on the same machine if it is still there.

        The grid keeps only the order of ``ids``: a live source (the dashboard's, over the store) is read when a
        line is drawn, and its owner reports changes with :meth:`machines_changed`. Why: holding no copy of its own,
        the grid does no work for a change that is off screen, not even releasing the replaced version (at 20,000
        machines that release was most of a refresh).
        """
        new_ids = list(ids)
        if (source is None or source is self._source) and self._same_on_screen(new_ids):
            # Machines moved only off screen (the dashboard's placement moves a few each flush at 20,000
            # machines): what is painted stays true, so no repaint of the whole grid (its frame was ~10 ms).
            self._ids = new_ids
            self._index = {machine_id: i for i, machine_id in enumerate(new_ids)}
            return
        old_key, was_visible = self._shown()
        if source is not None:
            self._source = source
            self._own_machines = None
        self._ids = new_ids
        self._index = {machine_id: i for i, machine_id in enumerate(self._ids)}
        self._painted.clear()
        self._reshown(old_key, was_visible)

    def _same_on_screen(self, new_ids: list[str]) -> bool:
        """``new_ids`` show what is on screen now, in the same places, with the cursor on the same machine at the
        same index, and as many machines (the scroll range is the same)."""
        old = self._ids
        if len(new_ids) != len(old) or not old:
            return False
        cursor = self._cursor
        if not 0 <= cursor < len(old) or new_ids[cursor] != old[cursor]:
            return False
        lo, hi = self._visible_index_range()
        return new_ids[lo:hi] == old[lo:hi]

    def set_machines(self, rows: Sequence[Machine], machines: Mapping[str, Machine] | None = None) -> None:
        """Show ``rows`` for an owner that has nothing but machines: the source becomes ``machines`` (a live mapping
        its owner keeps current) or, without it, a private copy of ``rows`` that :meth:`update_rows` keeps current.
        Jobs, alerts and stale flags are then empty; an owner with those gives a source to :meth:`set_view`."""
        own: dict[str, Machine] | None = None
        if machines is None:
            machines = own = {row.id: row for row in rows}
        self.set_view([row.id for row in rows], MachineRows(machines=machines))
        self._own_machines = own

    def update_rows(self, changed: Mapping[str, Machine]) -> None:
        """Swap new versions of machines already shown into the grid's private copy, then repaint as
        :meth:`machines_changed` does. With a live source its owner has already swapped them in, and this is
        :meth:`machines_changed` of the ids.

        Machines not in the view are ignored (the caller places them with :meth:`set_view` when membership or
        order must change).
        """
        own = self._own_machines
        if own is not None:
            self._painted.follow(*self._visible_index_range())
            self._painted.swap_in(own, changed, self._index, self._render_keys)
        self.machines_changed(changed.keys())

    def machines_changed(self, ids: Iterable[str]) -> None:
        """The machines ``ids`` have new versions in the source: repaint the changed lines of visible ones.

        Cost follows the screen, not the change set: given a set (or a dict's keys) larger than the visible range,
        the grid walks the ~50 visible items and asks the set about each, so 1 % of 20,000 machines changing costs
        what 1 % of 200 does; otherwise each id costs a dict lookup and two integer compares. A visible change
        repaints only the lines whose render key (:func:`tile_line_keys`, :func:`table_row_key`) differs from what
        was painted: a telemetry tick repaints one tile line, not five.
        """
        lo, hi = self._visible_index_range()
        self._painted.follow(lo, hi)
        visible = visible_changes(ids, self._ids, self._index, lo, hi)
        if visible:
            self._refresh_changed(visible)

    def refresh_ids(self, ids: Iterable[str]) -> None:
        """Repaint the machines ``ids`` if visible (after the source's jobs, alert counts or stale flags changed)."""
        index = self._index
        lo, hi = self._visible_index_range()
        visible = [i for machine_id in ids if (i := index.get(machine_id)) is not None and lo <= i < hi]
        if visible:
            self._refresh_indices(visible)

    def freeze(self) -> None:
        """Stop reading the owner's live source: swap in a snapshot of it as it is now, for the shown machines (a
        frozen view: a scroll must not show what arrived after the freeze). :meth:`set_view` with a source
        reattaches."""
        self._source = snapshot(self._source, self._ids)
        self._own_machines = None

    @property
    def stale_ids(self) -> AbstractSet[str]:
        """The machines the source says are stale."""
        return self._source.stale_ids

    def telemetry_of(self, machine: Machine) -> Mapping[str, float]:
        """``machine``'s telemetry values as the grid draws them (the source's, frozen with it)."""
        return self._source.telemetry(machine)

    def get_machine(self, machine_id: str) -> Machine | None:
        return self._source.machines.get(machine_id) if machine_id in self._index else None

    @property
    def cursor_id(self) -> str | None:
        """The id of the highlighted machine, ``None`` when the grid is empty."""
        return self.cursor_key

    # --- geometry and repaints -------------------------------------------------------------------------------------

    def _geometry(self) -> tuple[int, int, int, int]:
        """(content width, content height, columns, header lines): ``scrollable_content_region`` read once."""
        region = self.scrollable_content_region
        cols, _, header = self._layout(region.width)
        return region.width, region.height, cols, header

    def watch_grid_layout(self) -> None:
        self._painted.clear()  # keys of the other layout
        self._update_virtual_size()
        self._scroll_to_index(self._cursor)
        self.refresh()

    def _render_keys(self, machine: Machine) -> tuple[object, ...]:
        """What decides how ``machine`` looks in the current layout: a key per tile line, or the table row's key."""
        telemetry = self._source.telemetry(machine)
        return table_row_key(machine, telemetry) if self.grid_layout == "table" else tile_line_keys(machine, telemetry)

    def _refresh_changed(self, visible: list[tuple[int, str]]) -> None:
        """Repaint the lines of the visible items ``(index, id)`` whose render key differs from what was painted.

        Only the machine's own fields are compared: marks, stale flags, alert counts and jobs come from the source,
        whose owner then calls :meth:`refresh_ids` (whole tiles) or ``refresh``. An item with no painted keys on
        record (the grid scrolled since) is repainted whole.
        """
        source = self._source
        _, _, cols, header = self._geometry()
        if self.grid_layout == "table":
            lines = self._painted.table_lines(visible, source.machines, source.telemetry, header)
            for line in lines:
                self.refresh_line(line)
            self.refreshed_lines += len(lines)
            return
        dirty = self._painted.tile_lines(visible, source.machines, source.telemetry, cols, self.TILE_HEIGHT)
        self.refreshed_lines += len(dirty)
        # Repaint only the changed tile's own cells, not the whole screen line: over SSH a telemetry tick of one
        # tile then costs one tile's width of bytes, not the width of the screen.
        for column, start, count in tile_runs(dirty):
            self.refresh_tile_lines(column, start, count)

    def refresh_tile_lines(self, column: int, y_start: int, count: int = 1) -> None:
        """Repaint ``count`` virtual lines from ``y_start`` of one column of tiles only (not the whole width)."""
        width, _, cols, _ = self._geometry()
        slot = width // cols
        self.refresh(Region(column * slot, y_start - self.scroll_offset.y, slot, count))

    # --- rendering -------------------------------------------------------------------------------------------------

    def _painter(self) -> LinePainter:
        """A painter of the lines as the grid is now (its geometry read once)."""
        width, _, cols, _ = self._geometry()
        return LinePainter(
            source=self._source,
            ids=self._ids,
            marked=self.marked,
            cursor_state=self._cursor_state,
            lines=self._lines,
            table=self.grid_layout == "table",
            width=width,
            cols=cols,
            scroll_y=self.scroll_offset.y,
            tile_height=self.TILE_HEIGHT,
            empty_message=self.empty_message,
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        """One painter for the whole pass: the geometry read once, each machine's facts once for its tile lines."""
        self._pass = self._painter()
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def render_line(self, y: int) -> Strip:
        self.rendered_lines += 1
        painter = self._pass or self._painter()  # a call outside a render pass (tests, get_style_at)
        return painter.line(y, self._styles())
