"""A screen built around one long list (jobs, alerts, nodes, quality): filter, sort, marks, cheap updates.

Subclasses say which rows exist (``build_rows``) and which of them a change set touches (``changed_keys``). When only
fields of shown rows changed and the order cannot have moved, the grid repaints just those rows; otherwise the list
is rebuilt once per flush.

Working a long list (a standing-alarm pile): ``space`` marks the cursor row and moves down (as in k9s and file
managers), ``*`` marks every row the filter shows, ``u`` unmarks; the screen's actions then act on the marked rows.
An empty list says why: nothing at all (``EMPTY``), or nothing the filter lets through ("No alerts match the filter",
never "No active alerts" while alerts exist).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType

from console.screens.base import ConsoleScreen
from console.store.changes import ChangeSet
from console.store.query import Kind
from console.store.query.fields import PLURAL
from widgets.data_grid import Column, DataGrid, RowData

_KIND_OF_TABLE: tuple[tuple[str, Kind], ...] = (
    ("nodes", "node"),
    ("alerts", "alert"),
    ("jobs", "job"),
    ("machines", "machine"),
)
"""Which table's rows a list shows, when it does not say (``FILTER_KIND``): the first of these its ``TABLES`` watch
(the nodes list watches jobs and alerts too, for its counts, but its rows are nodes)."""


class ListScreen(ConsoleScreen):
    """One DataGrid, sorted and filtered."""

    COLUMNS: ClassVar[list[Column]] = []
    EMPTY = "Nothing to show"
    """What the list says when there is nothing at all to show (no filter)."""
    ROW_NOUN: ClassVar[str] = ""
    """What the rows are, plural, for "No <rows> match the filter" (default: from the filter's kind, else "rows")."""
    TABLES: ClassVar[frozenset[str]] = frozenset()
    """The store tables whose changes concern this list."""
    FILTER_KIND: ClassVar[Kind | None] = None
    """``None`` here: the kind of the table the list shows (see ``_KIND_OF_TABLE``), else free text."""

    DEFAULT_CSS = """
    ListScreen #list { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("asterisk", "mark_all", "Mark all shown", key_display="*", show=False, id="view.mark_all"),
    ]

    def compose_body(self) -> ComposeResult:
        yield from self.compose_above()
        yield DataGrid(self.COLUMNS, id="list", empty_message=self.EMPTY)
        yield from self.compose_below()

    def compose_above(self) -> ComposeResult:
        yield from ()

    def compose_below(self) -> ComposeResult:
        yield from ()

    @classmethod
    def filter_kind(cls) -> Kind | None:
        if cls.FILTER_KIND is not None:
            return cls.FILTER_KIND
        return next((kind for table, kind in _KIND_OF_TABLE if table in cls.TABLES), None)

    @classmethod
    def empty_message(cls, filtered: bool) -> str:
        """What the empty list says: ``EMPTY``, or, when a filter is set, that nothing matches it."""
        if not filtered:
            return cls.EMPTY
        kind = cls.filter_kind()
        noun = cls.ROW_NOUN or (PLURAL[kind] if kind is not None else "rows")
        return f"No {noun} match the filter"

    def on_mount(self) -> None:
        super().on_mount()
        self.grid.focus()

    @property
    def grid(self) -> DataGrid:
        return self.query_one("#list", DataGrid)

    def focus_main(self) -> None:
        self.grid.focus()

    def current_key(self) -> str | None:
        return self.grid.cursor_key

    def targets(self) -> list[str]:
        """The marked rows, or the row under the cursor."""
        if self.marked:
            return sorted(self.marked)
        key = self.grid.cursor_key
        return [key] if key else []

    def build_rows(self) -> list[RowData]:
        return []

    def rebuild(self) -> None:
        super().rebuild()
        grid = self.grid
        grid.marked = self.marked
        grid.set_sort(self.sort_column(), self.sort_reverse)
        message = self.empty_message(bool(self.query_text))
        if grid.empty_message != message:
            grid.empty_message = message
            grid.refresh()
        self.fill_grid(grid)
        if self.marked and not self.marked <= (shown := set(grid.keys)):
            self.marked &= shown  # a mark the filter hides, or on a row that went, must not be acted on
            grid.marked = self.marked
        self.after_rebuild()

    def fill_grid(self, grid: DataGrid) -> None:
        """Put the rows in the grid (all of them, formatted: fine for lists of hundreds; long ones do better)."""
        grid.set_rows(self.build_rows())

    def after_rebuild(self) -> None:
        """Update anything beside the list (banners, titles, charts)."""

    def sort_column(self) -> str | None:
        return self.sort_key or None

    def apply_changes(self, changes: ChangeSet) -> None:
        if self.needs_rebuild or changes.structure or self._touches(changes):
            self.rebuild()

    def _touches(self, changes: ChangeSet) -> bool:
        return any(getattr(changes, table) for table in self.TABLES)

    def marks_changed(self) -> None:
        grid = self.grid
        grid.marked = self.marked
        grid.refresh()

    def on_data_grid_mark_toggled(self, event: DataGrid.MarkToggled) -> None:
        """Space: mark (or unmark) the row and move down, so holding space marks a run of rows."""
        event.stop()
        grid = self.grid
        if event.control is not grid or event.key is None:
            return
        self.marked ^= {event.key}
        self.marks_changed()
        if grid.cursor_key == event.key:
            grid.action_cursor_down()

    def action_mark_all(self) -> None:
        """``*``: mark every row the filter shows (the rows a bulk action then acts on); ``u`` unmarks."""
        keys = self.grid.keys
        if not keys:
            self.notify("Nothing to mark: the list is empty", timeout=2)
            return
        self.marked |= set(keys)
        self.marks_changed()
        scope = "rows the filter shows" if self.query_text else "rows in the list"
        extra = f", {len(self.marked)} marked in all" if len(self.marked) > len(keys) else ""
        self.notify(f"Marked all {len(keys)} {scope}{extra} (u unmarks)", timeout=2)
