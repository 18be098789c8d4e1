"""The machine grid: every machine of the (filtered, sorted) view, as tiles or as a dense table.

A Line-API ``ScrollView``: it keeps the ids of the shown machines in a list plus an id -> index map and draws only
the lines that are on screen, so a cluster of 20,000 machines costs what the visible ~50 lines cost. The machines
themselves are read, when drawn, from a mapping by id: the store's own (``set_machines(rows, machines=store.machines)``)
or, for simple owners, a private copy. When the store says which machines changed,
:meth:`MachineGrid.machines_changed` repaints only the changed lines of those that are *visible* (no full refresh);
an off-screen change costs a dict lookup and two integer compares, because the grid holds no copy of it to replace.
Sorting and filtering belong to the caller; :meth:`MachineGrid.set_machines` only indexes (O(n)).

Looks follow ISA-101: idle and running are calm (``state-normal``), colour only marks the abnormal, and a state is
always a word and a glyph too. Every server string is cleaned (``widgets.safe_text``) and drawn as plain segments,
never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import ClassVar, Literal

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.api.models import Job, Machine
from widgets._styles import part_styles
from widgets.glyphs import ascii_only, kind_abbr, machine_state_look, telemetry_label
from widgets.grid_message import GridMessage
from widgets.safe_text import clean, fit

__all__ = ["GridLayout", "MachineGrid", "progress_bar", "table_row_key", "tile_line_keys"]

GridLayout = Literal["tiles", "table"]

_EIGHTHS = " ▏▎▍▌▋▊▉"


def progress_bar(progress: float | None, width: int) -> str:
    """A bar of ``width`` cells using eighth blocks (``███▌░░``); blank-ish ``-`` when there is no progress."""
    if width <= 0:
        return ""
    if progress is None:
        return "·" * width
    value = min(1.0, max(0.0, progress)) * width
    full = int(value)
    if ascii_only():
        return "#" * full + "." * (width - full)
    rest = int((value - full) * 8)
    bar = "█" * full
    if full < width:
        bar += (_EIGHTHS[rest] if rest else "░") + "░" * (width - full - 1)
    return bar


def _percent(progress: float | None) -> str:
    return "  – " if progress is None else f"{round(progress * 100):3d}%"


def tile_line_keys(machine: Machine, telemetry: Mapping[str, float] | None = None) -> tuple[tuple[object, ...], ...]:
    """What each of a tile's four content lines shows *of the machine itself*; equal keys mean an equal line.

    Why: a telemetry tick (the most frequent change) then repaints one tile line instead of five, and a change
    that does not show (a telemetry value rounding to the same label) repaints nothing. Keep in step with
    ``MachineGrid._tile_line``: every machine field a line reads is in its key (a test renders old and new versions
    field by field to check it). Marks, stale flags, alert counts and jobs belong to the grid's owner, who asks for
    a repaint with ``refresh_ids`` after changing them.
    """
    progress = machine.progress
    kind = machine.kind
    return (
        (machine.name, kind),
        (machine.state, progress_bar(progress, 9), _percent(progress)),
        (machine.job_id, telemetry_label(kind, machine.telemetry if telemetry is None else telemetry)),
        (machine.state, machine.state_reason, machine.fault_code, machine.draining, machine.job_id),
    )


def table_row_key(machine: Machine, telemetry: Mapping[str, float] | None = None) -> tuple[object, ...]:
    """What a table line shows of the machine itself (see :func:`tile_line_keys`; ``_table_row`` reads these)."""
    progress = machine.progress
    kind = machine.kind
    return (
        machine.name,
        kind,
        machine.state,
        progress_bar(progress, 6),
        _percent(progress),
        machine.job_id,
        telemetry_label(kind, machine.telemetry if telemetry is None else telemetry),
        machine.node_id,
    )


_BOLD = Style(bold=True)


def _own_telemetry(machine: Machine) -> Mapping[str, float]:
    return machine.telemetry


class MachineGrid(ScrollView, can_focus=True):
    """Machines as tiles (several per row, 5 lines each) or as a dense table (one line each, with a header)."""

    TILE_MIN_WIDTH: ClassVar[int] = 28
    TILE_HEIGHT: ClassVar[int] = 5  # 4 lines of content and a blank separator

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

    class Highlighted(GridMessage):
        """The cursor moved to another machine (or to none: ``machine_id`` is ``None`` when the grid is empty)."""

        @property
        def machine_id(self) -> str | None:
            return self.key

    class Selected(GridMessage):
        """The operator opened a machine (enter or double click)."""

        @property
        def machine_id(self) -> str:
            return self.key or ""

    class MarkToggled(GridMessage):
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
        self._index: dict[str, int] = {}
        self._machines: Mapping[str, Machine] = {}
        self._own_machines: dict[str, Machine] | None = {}
        self._drawn_keys: dict[str, tuple[object, ...]] = {}
        """Render keys of visible machines as last painted: what a change is compared with (see machines_changed)."""
        self._drawn_range = (0, 0)
        """The visible index range ``_drawn_keys`` belongs to."""
        self._cursor = 0
        self._style_cache: dict[str, Style] | None = None
        self._style_theme: tuple[str, bool] | None = None
        self._pass_geometry: tuple[int, int, int] | None = None
        self._clean_cache: dict[str, str] = {}
        self.empty_message = empty_message
        self.jobs: Mapping[str, Job] = {}
        """Jobs by id, for the job label of each machine."""
        self.stale_ids: set[str] = set()
        """Machines whose data is stale (their source is disconnected): drawn dimmed with the word ``stale``."""
        self.stale = False
        """Everything is stale (the whole view's source is down)."""
        self.alert_counts: Mapping[str, int] = {}
        """Active alerts per machine id."""
        self.marked: set[str] = set()
        """Marked machine ids (owned by the screen; set it and call :meth:`refresh_ids` or ``refresh``)."""
        self.telemetry_of: Callable[[Machine], Mapping[str, float]] = _own_telemetry
        """A machine's current telemetry values: by default its own ``telemetry`` field; the dashboard gives the
        store's :meth:`~console.store.Store.machine_telemetry` (telemetry is kept apart from the machine objects)."""
        self.node_names: Mapping[str, str] = {}
        """Node names by id for the table's node column (the id is shown when a name is missing)."""
        # Instrumentation for tests and benchmarks: lines drawn and lines asked to repaint.
        self.rendered_lines = 0
        self.refreshed_lines = 0
        self.set_reactive(MachineGrid.grid_layout, grid_layout)

    # --- data in ---------------------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._ids)

    @property
    def machine_ids(self) -> list[str]:
        return list(self._ids)

    def set_machines(self, rows: Sequence[Machine], machines: Mapping[str, Machine] | None = None) -> None:
        """Show ``rows`` (already filtered and sorted). The cursor stays on the same machine if it is still there.

        ``machines``, when given, is a live mapping of machines by id that its owner keeps current (the store's
        ``machines``): the grid then keeps only the order of ``rows`` and draws each machine as the mapping has it
        now; the owner reports changes with :meth:`machines_changed`. Why: holding no copy of its own, the grid does
        no work for a change that is off screen, not even releasing the replaced version (at 20,000 machines that
        release was most of a refresh). Without ``machines`` the grid keeps a private copy of ``rows``, which
        :meth:`update_rows` keeps current.
        """
        old_id = self.cursor_id
        was_visible = self._index_visible(self._cursor)
        self._ids = [row.id for row in rows]
        self._index = {machine_id: i for i, machine_id in enumerate(self._ids)}
        if machines is None:
            self._own_machines = {row.id: row for row in rows}
            self._machines = self._own_machines
        else:
            self._own_machines = None
            self._machines = machines
        self._drawn_keys.clear()
        if old_id is not None and old_id in self._index:
            self._cursor = self._index[old_id]
        else:
            self._cursor = min(self._cursor, max(0, len(self._ids) - 1))
        self._update_virtual_size()
        self.refresh()
        if was_visible:
            self._scroll_to_index(self._cursor)
        if self.cursor_id != old_id:
            self.post_message(self.Highlighted(self, self.cursor_id))

    def update_rows(self, changed: Mapping[str, Machine]) -> None:
        """Swap new versions of machines already shown into the grid's private copy, then repaint as
        :meth:`machines_changed` does. With a live mapping (``set_machines(..., machines=...)``) its owner has
        already swapped them in, and this is :meth:`machines_changed` of the ids.

        Machines not in the view are ignored (the caller re-filters with :meth:`set_machines` when membership or
        order must change).
        """
        own = self._own_machines
        if own is not None:
            index = self._index
            drawn = self._drawn_keys
            lo, hi = self._visible_index_range()
            if (lo, hi) != self._drawn_range:
                drawn.clear()
                self._drawn_range = (lo, hi)
            keys_of = self._render_keys
            for machine_id, machine in changed.items():
                i = index.get(machine_id)
                if i is None:
                    continue
                if lo <= i < hi and machine_id not in drawn and (old := own.get(machine_id)) is not None:
                    drawn[machine_id] = keys_of(old)  # what is on screen now, to compare the new version with
                own[machine_id] = machine
        self.machines_changed(changed.keys())

    def machines_changed(self, ids: Iterable[str]) -> None:
        """The machines ``ids`` have new versions in the grid's mapping: repaint the changed lines of visible ones.

        Cost follows the screen, not the change set: given a set (or a dict's keys) larger than the visible range,
        the grid walks the ~50 visible items and asks the set about each, so 1 % of 20,000 machines changing costs
        what 1 % of 200 does; otherwise each id costs a dict lookup and two integer compares. A visible change
        repaints only the lines whose render key (:func:`tile_line_keys`, :func:`table_row_key`) differs from what
        was painted: a telemetry tick repaints one tile line, not five.
        """
        lo, hi = self._visible_index_range()
        drawn = self._drawn_keys
        if (lo, hi) != self._drawn_range:
            # Scrolled (or resized): the painted keys on record belong to items now off screen or were painted
            # before changes the grid skipped while they were away; repaint such items whole on their next change.
            drawn.clear()
            self._drawn_range = (lo, hi)
        shown = self._ids
        if isinstance(ids, AbstractSet) and len(ids) > hi - lo:
            visible = [(i, shown[i]) for i in range(lo, hi) if shown[i] in ids]
        else:
            index = self._index
            visible = [(i, machine_id) for machine_id in ids if (i := index.get(machine_id, -1)) >= lo and i < hi]
        if visible:
            self._refresh_changed(visible)

    def refresh_ids(self, ids: Iterable[str]) -> None:
        """Repaint the machines ``ids`` if visible (after a change of ``jobs``, ``alert_counts``, ``stale_ids``...)."""
        index = self._index
        lo, hi = self._visible_index_range()
        visible = [i for machine_id in ids if (i := index.get(machine_id)) is not None and lo <= i < hi]
        if visible:
            self._refresh_indices(visible)

    def keep_copy(self) -> None:
        """Stop reading the owner's live mapping: keep the machines as they are now in a private copy (a frozen
        view). :meth:`set_machines` with a mapping reattaches."""
        if self._own_machines is None:
            machines = self._machines
            self._own_machines = {i: m for i in self._ids if (m := machines.get(i)) is not None}
            self._machines = self._own_machines
        telemetry_of = self.telemetry_of
        if telemetry_of is not _own_telemetry:  # live values, updated in place by their owner: keep them as now
            frozen = {i: dict(telemetry_of(m)) for i, m in self._own_machines.items()}
            self.telemetry_of = lambda machine: frozen.get(machine.id, machine.telemetry)

    def get_machine(self, machine_id: str) -> Machine | None:
        return self._machines.get(machine_id) if machine_id in self._index else None

    def _machine_at(self, index: int) -> Machine | None:
        """The machine shown at ``index``, as the mapping has it now (``None`` if it has just left the mapping)."""
        return self._machines.get(self._ids[index])

    # --- cursor ----------------------------------------------------------------------------------------------------

    @property
    def cursor_id(self) -> str | None:
        """The id of the highlighted machine, ``None`` when the grid is empty."""
        if not self._ids:
            return None
        return self._ids[min(self._cursor, len(self._ids) - 1)]

    @property
    def cursor_index(self) -> int:
        return self._cursor

    def move_cursor_to(self, machine_id: str) -> bool:
        """Highlight ``machine_id`` (scrolling to it); ``False`` if it is not in the view."""
        i = self._index.get(machine_id)
        if i is None:
            return False
        self._set_cursor(i)
        return True

    def _set_cursor(self, index: int) -> None:
        if not self._ids:
            return
        index = max(0, min(index, len(self._ids) - 1))
        old = self._cursor
        if index == old:
            self._scroll_to_index(index)
            return
        self._cursor = index
        self._refresh_indices([old, index])
        self._scroll_to_index(index)
        self.post_message(self.Highlighted(self, self._ids[index]))

    # --- geometry --------------------------------------------------------------------------------------------------

    @property
    def _columns(self) -> int:
        if self.grid_layout == "table":
            return 1
        return max(1, self.scrollable_content_region.width // self.TILE_MIN_WIDTH)

    @property
    def _row_height(self) -> int:
        return 1 if self.grid_layout == "table" else self.TILE_HEIGHT

    @property
    def _header_height(self) -> int:
        return 1 if self.grid_layout == "table" else 0

    def _first_line(self, index: int) -> int:
        """The virtual line where the item ``index`` starts."""
        return self._header_height + (index // self._columns) * self._row_height

    def _update_virtual_size(self) -> None:
        cols = self._columns
        n_lines = -(-len(self._ids) // cols) * self._row_height + self._header_height
        self.virtual_size = Size(self.scrollable_content_region.width, max(n_lines, 1 + self._header_height))

    def _geometry(self) -> tuple[int, int, int, int]:
        """(content width, content height, columns, header height), read once per call.

        Why: ``scrollable_content_region`` is a computed Textual property (styles, gutter, scrollbars; ~5 µs), so the
        per-item loops take these numbers from here instead of the ``_columns``/``_header_height`` properties.
        """
        region = self.scrollable_content_region
        if self.grid_layout == "table":
            return region.width, region.height, 1, 1
        return region.width, region.height, max(1, region.width // self.TILE_MIN_WIDTH), 0

    def _visible_index_range(self) -> tuple[int, int]:
        """Items ``[lo, hi)`` with at least one line in the scrolled body (the header excluded)."""
        _, height, cols, header = self._geometry()
        row_height = self._row_height
        top = self.scroll_offset.y
        first_row = top // row_height
        end_row = -(-(top + max(0, height - header)) // row_height)
        return first_row * cols, min(end_row * cols, len(self._ids))

    def _index_visible(self, index: int) -> bool:
        """Whether the first line of item ``index`` is in the scrolled body."""
        _, height, cols, header = self._geometry()
        top = self.scroll_offset.y
        line = (index // cols) * self._row_height
        return top <= line < top + height - header

    def _refresh_indices(self, indices: Iterable[int]) -> None:
        """Repaint the items ``indices`` that are visible (the whole tile, or the table line)."""
        lo, hi = self._visible_index_range()
        _, _, cols, header = self._geometry()
        height = self._row_height
        seen: set[int] = set()
        for i in indices:
            if not lo <= i < hi:
                continue
            line = header + (i // cols) * height
            if line in seen:
                continue
            seen.add(line)
            self.refreshed_lines += height
            self.refresh_lines(line, height)

    def _render_keys(self, machine: Machine) -> tuple[object, ...]:
        """What decides how ``machine`` looks in the current layout: a key per tile line, or the table row's key."""
        telemetry = self.telemetry_of(machine)
        return table_row_key(machine, telemetry) if self.grid_layout == "table" else tile_line_keys(machine, telemetry)

    def _refresh_changed(self, visible: list[tuple[int, str]]) -> None:
        """Repaint the lines of the visible items ``(index, id)`` whose render key differs from what was painted.

        Only the machine's own fields are compared: marks, stale flags, alert counts and jobs are set on the grid by
        its owner, who then calls :meth:`refresh_ids` (whole tiles) or ``refresh``. An item with no painted keys on
        record (the grid scrolled since) is repainted whole.
        """
        machines = self._machines
        drawn = self._drawn_keys
        _, _, cols, header = self._geometry()
        if self.grid_layout == "table":
            lines: set[int] = set()
            for i, machine_id in visible:
                machine = machines.get(machine_id)
                new_key = None if machine is None else table_row_key(machine, self.telemetry_of(machine))
                if new_key is None or drawn.get(machine_id) != new_key:
                    lines.add(header + i)
                if new_key is None:
                    drawn.pop(machine_id, None)
                else:
                    drawn[machine_id] = new_key
            for line in lines:
                self.refresh_line(line)
            self.refreshed_lines += len(lines)
            return
        height = self.TILE_HEIGHT
        dirty: set[tuple[int, int]] = set()  # (column of tiles, line)
        for i, machine_id in visible:
            first = (i // cols) * height
            column = i % cols
            machine = machines.get(machine_id)
            old_keys = drawn.get(machine_id)
            if machine is None:
                drawn.pop(machine_id, None)
                new_keys: tuple[object, ...] | None = None
            else:
                new_keys = drawn[machine_id] = tile_line_keys(machine, self.telemetry_of(machine))
            for within in range(height - 1):
                if old_keys is None or new_keys is None or old_keys[within] != new_keys[within]:
                    dirty.add((column, first + within))
        self.refreshed_lines += len(dirty)
        # Repaint only the changed tile's own cells, not the whole screen line: over SSH a telemetry tick of one
        # tile then costs one tile's width of bytes, not the width of the screen.
        run_column = run_start = run_end = -1
        for column, line in sorted(dirty):  # contiguous lines of one tile column in one region each
            if column != run_column or line != run_end:
                if run_end > run_start:
                    self.refresh_tile_lines(run_column, run_start, run_end - run_start)
                run_column, run_start = column, line
            run_end = line + 1
        if run_end > run_start:
            self.refresh_tile_lines(run_column, run_start, run_end - run_start)

    def refresh_tile_lines(self, column: int, y_start: int, count: int = 1) -> None:
        """Repaint ``count`` virtual lines from ``y_start`` of one column of tiles only (not the whole width)."""
        width, _, cols, _ = self._geometry()
        slot = width // cols
        self.refresh(Region(column * slot, y_start - self.scroll_offset.y, slot, count))

    def _scroll_to_index(self, index: int) -> None:
        line = self._first_line(index) - self._header_height
        body_height = max(1, self.scrollable_content_region.height - self._header_height)
        top = self.scroll_offset.y
        if line < top:
            self.scroll_to(y=line, animate=False, immediate=True)
        elif line + self._row_height > top + body_height:
            self.scroll_to(y=line + self._row_height - body_height, animate=False, immediate=True)

    def watch_grid_layout(self) -> None:
        self._drawn_keys.clear()  # keys of the other layout
        self._update_virtual_size()
        self._scroll_to_index(self._cursor)
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()

    # --- actions ---------------------------------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self._set_cursor(self._cursor - self._columns)

    def action_cursor_down(self) -> None:
        self._set_cursor(self._cursor + self._columns)

    def action_cursor_left(self) -> None:
        self._set_cursor(self._cursor - 1)

    def action_cursor_right(self) -> None:
        self._set_cursor(self._cursor + 1)

    def _page_items(self) -> int:
        body = max(1, self.scrollable_content_region.height - self._header_height)
        return max(1, body // self._row_height) * self._columns

    def action_page_up(self) -> None:
        self._set_cursor(self._cursor - self._page_items())

    def action_page_down(self) -> None:
        self._set_cursor(self._cursor + self._page_items())

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self._ids) - 1)

    def action_select(self) -> None:
        machine_id = self.cursor_id
        if machine_id is not None:
            self.post_message(self.Selected(self, machine_id))

    def action_toggle_mark(self) -> None:
        machine_id = self.cursor_id
        if machine_id is not None:
            self.post_message(self.MarkToggled(self, machine_id))

    def _index_at(self, x: int, y: int) -> int | None:
        """The item under viewport content coordinates ``(x, y)``, if any."""
        if y < self._header_height:
            return None
        line = y + self.scroll_offset.y - self._header_height
        row, within = divmod(line, self._row_height)
        if self.grid_layout == "tiles" and within == self._row_height - 1:
            return None  # the separator line
        cols = self._columns
        col = min(x // max(1, self.scrollable_content_region.width // cols), cols - 1)
        index = row * cols + col
        return index if 0 <= index < len(self._ids) else None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self._index_at(offset.x, offset.y)
        if index is None:
            return
        self._set_cursor(index)
        if event.chain >= 2:
            self.post_message(self.Selected(self, self._ids[index]))

    # --- rendering -------------------------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        self._style_cache = None
        super().notify_style_update()

    def _styles(self) -> dict[str, Style]:
        """All component styles, resolved once per render pass (and theme), not per cell."""
        theme = self.app.theme
        cache = self._style_cache
        if cache is None or self._style_theme != (theme, self.has_focus):
            cache = part_styles(self, self.COMPONENT_CLASSES, "machine-grid--")
            cache["_base"] = self.rich_style
            cache["tile"] = self.rich_style + cache["tile"]
            cache["cursor"] = self.rich_style + cache["cursor"]
            self._style_cache = cache
            self._style_theme = (theme, self.has_focus)
        return cache

    def on_focus(self) -> None:
        self._refresh_indices([self._cursor])

    def on_blur(self) -> None:
        self._refresh_indices([self._cursor])

    def render_lines(self, crop: Region) -> list[Strip]:
        """Read the geometry once for the whole pass; :meth:`render_line` takes it from ``_pass_geometry``."""
        width, _, cols, _ = self._geometry()
        self._pass_geometry = (width, cols, self.scroll_offset.y)
        try:
            return super().render_lines(crop)
        finally:
            self._pass_geometry = None

    def _clean(self, text: str) -> str:
        """``clean(text)``, remembered: names and job ids are drawn on every repaint of their line but rarely change."""
        cache = self._clean_cache
        cleaned = cache.get(text)
        if cleaned is None:
            if len(cache) >= 4096:  # bounded: a few screens' worth of names and job ids
                cache.clear()
            cleaned = cache[text] = clean(text)
        return cleaned

    def render_line(self, y: int) -> Strip:
        self.rendered_lines += 1
        geometry = self._pass_geometry
        if geometry is None:  # called outside a render pass (tests, get_style_at)
            width, _, cols, _ = self._geometry()
            scroll_y = self.scroll_offset.y
        else:
            width, cols, scroll_y = geometry
        styles = self._styles()
        if self.grid_layout == "table":
            if y == 0:
                return self._table_header(width, styles)
            if not self._ids:
                return self._empty_line(y - 1, width, styles)
            index = scroll_y + y - 1
            if index >= len(self._ids):
                return Strip.blank(width, styles["_base"])
            machine = self._machine_at(index)
            if machine is None:
                return Strip.blank(width, styles["_base"])
            return self._table_row(index, machine, width, styles)
        if not self._ids:
            return self._empty_line(y, width, styles)
        tile_row, within = divmod(scroll_y + y, self.TILE_HEIGHT)
        slot = width // cols
        segments: list[Segment] = []
        for col in range(cols):
            index = tile_row * cols + col
            machine = None if index >= len(self._ids) or within == self.TILE_HEIGHT - 1 else self._machine_at(index)
            if machine is None:
                segments.append(Segment(" " * slot, styles["_base"]))
                continue
            segments.extend(self._tile_line(index, machine, within, slot - 1, styles))
            segments.append(Segment(" ", styles["_base"]))
        used = slot * cols
        if used < width:
            segments.append(Segment(" " * (width - used), styles["_base"]))
        return Strip(segments, width)

    def _empty_line(self, y: int, width: int, styles: dict[str, Style]) -> Strip:
        if y != 0:
            return Strip.blank(width, styles["_base"])
        return Strip([Segment(fit(" " + self.empty_message, width), styles["_base"] + styles["empty"])], width)

    def _state_style(self, styles: dict[str, Style], style_class: str) -> Style:
        return styles.get(f"state-{style_class}", styles["state-unknown"])

    def _row_facts(self, machine: Machine) -> tuple[bool, bool, int, str]:
        """(marked, stale, alert count, job label) of a machine."""
        stale = self.stale or machine.id in self.stale_ids
        return (
            machine.id in self.marked,
            stale,
            self.alert_counts.get(machine.id, 0),
            self._clean(machine.job_id or "—"),
        )

    def _tile_line(
        self, index: int, machine: Machine, within: int, width: int, styles: dict[str, Style]
    ) -> list[Segment]:
        at_cursor = index == self._cursor
        base = styles["cursor"] if at_cursor else styles["tile"]

        def part(key: str) -> Style:
            # On the cursor the cursor's own colours win (a theme's part colour could vanish into its background,
            # e.g. white on white in mono); words and glyphs still tell the state.
            if at_cursor:
                return base + _BOLD if key == "name" else base
            return base + styles[key]

        marked, stale, alerts, job = self._row_facts(machine)
        look = machine_state_look(machine.state)
        state_style = base if at_cursor else base + self._state_style(styles, look.style)
        muted = part("muted")
        parts: list[tuple[str, Style]]
        if within == 0:
            mark = ("*" if ascii_only() else "●") if marked else " "
            kind = kind_abbr(machine.kind)
            kind_width = min(max(4, len(kind)), 8)
            name_width = max(1, width - kind_width - 3)
            parts = [
                (mark, part("mark")),
                (fit(self._clean(machine.name), name_width, cleaned=True), part("name")),
                (" ", base),
                (fit(kind, kind_width, align="right", cleaned=True), muted),
                (" ", base),
            ]
        elif within == 1:
            label_width = max(4, width - 16)
            parts = [
                (" ", base),
                (fit(look.label, label_width, cleaned=True), state_style),
                (" ", base),
                (progress_bar(machine.progress, 9), part("progress")),
                (" ", base),
                (_percent(machine.progress), muted),
            ]  # exactly ``width`` cells (no trailing space: it was cropped off on every draw)
        elif within == 2:
            tele = "stale" if stale else telemetry_label(machine.kind, self.telemetry_of(machine))
            alert_text = f"!{alerts}" if alerts else ""
            job_width = max(1, min(11, width - 18))
            parts = [
                (" ", base),
                (fit(job, job_width, cleaned=True), base),
                (" ", base),
                (
                    fit(tele, max(1, width - job_width - 6), align="right", cleaned=True),
                    part("stale") if stale else muted,
                ),
                (" ", base),
                (fit(alert_text, 3, align="right", cleaned=True), part("alerts") if alerts else base),
            ]  # exactly ``width`` cells, as above
        else:
            detail, detail_style = self._detail(machine, look.style, styles)
            parts = [(" ", base), (fit(detail, width - 2), base if at_cursor else base + detail_style), (" ", base)]
        return self._fit_parts(parts, width, base)

    def _detail(self, machine: Machine, style_class: str, styles: dict[str, Style]) -> tuple[str, Style]:
        """The fourth tile line: why an abnormal machine is so, else what it is making."""
        if style_class != "normal" and (machine.state_reason or machine.fault_code):
            text = " ".join(clean(part) for part in (machine.fault_code, machine.state_reason) if part)
            return text, Style(color=self._state_style(styles, style_class).color)
        if machine.draining:
            return "draining", styles["state-paused"]
        job = self.jobs.get(machine.job_id) if machine.job_id else None
        if job is not None:
            return f"{clean(job.part)} {job.done_qty}/{job.quantity}", styles["muted"]
        return "", styles["muted"]

    @staticmethod
    def _fit_parts(parts: list[tuple[str, Style]], width: int, base: Style) -> list[Segment]:
        segments: list[Segment] = []
        used = 0
        for text, style in parts:
            segments.append(Segment(text, style))
            used += len(text) if text.isascii() else Segment(text).cell_length
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        elif used > width:
            return list(Strip(segments).crop(0, width))
        return segments

    _TABLE_COLUMNS: ClassVar[tuple[tuple[str, int], ...]] = (
        ("KIND", 4),
        ("STATE", 13),
        ("PROGRESS", 11),
        ("JOB", 10),
        ("TELEMETRY", 14),
        ("AL", 3),
    )

    def _table_widths(self, width: int) -> tuple[int, int]:
        """(name width, node width) for the table at ``width``: the name takes what is left, the node if room."""
        fixed = 2 + sum(w + 1 for _, w in self._TABLE_COLUMNS)
        rest = width - fixed
        if rest >= 28:
            node = min(16, rest - 16)
            return rest - node - 1, node
        return max(6, rest), 0

    def _table_header(self, width: int, styles: dict[str, Style]) -> Strip:
        name_w, node_w = self._table_widths(width)
        text = "  " + fit("NAME", name_w) + " "
        text += " ".join(fit(label, w) for label, w in self._TABLE_COLUMNS) + " "
        if node_w:
            text += fit("NODE", node_w)
        return Strip([Segment(fit(text, width, cleaned=True), styles["_base"] + styles["header"])], width)

    def _table_row(self, index: int, machine: Machine, width: int, styles: dict[str, Style]) -> Strip:
        base = styles["cursor"] if index == self._cursor else styles["_base"] + styles["state-normal"]
        marked, stale, alerts, job = self._row_facts(machine)
        look = machine_state_look(machine.state)
        muted = base + styles["muted"]
        name_w, node_w = self._table_widths(width)
        tele = "stale" if stale else telemetry_label(machine.kind, self.telemetry_of(machine))
        mark = ("*" if ascii_only() else "●") if marked else " "
        parts: list[tuple[str, Style]] = [
            (mark, base + styles["mark"]),
            (" ", base),
            (fit(self._clean(machine.name), name_w, cleaned=True), base + styles["name"]),
            (" ", base),
            (fit(kind_abbr(machine.kind), 4, cleaned=True), muted),
            (" ", base),
            (fit(look.label, 13, cleaned=True), base + self._state_style(styles, look.style)),
            (" ", base),
            (progress_bar(machine.progress, 6), base + styles["progress"]),
            (" ", base),
            (_percent(machine.progress), muted),
            (" ", base),
            (fit(job, 10, cleaned=True), base),
            (" ", base),
            (fit(tele, 14, cleaned=True), base + styles["stale"] if stale else muted),
            (" ", base),
            (
                fit(f"!{alerts}" if alerts else "", 3, align="right", cleaned=True),
                base + styles["alerts"] if alerts else base,
            ),
            (" ", base),
        ]
        if node_w:
            parts.append((fit(self.node_names.get(machine.node_id) or machine.node_id, node_w), muted))
        return Strip(self._fit_parts(parts, width, base), width)
