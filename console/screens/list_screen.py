"""A screen built around one long list (jobs, alerts, nodes, quality): filter, sort, marks, cheap updates.

Subclasses say which rows exist (``build_rows``) and which of them a change set touches (``changed_keys``). When only
fields of shown rows changed and the order cannot have moved, the grid repaints just those rows; otherwise the list
is rebuilt once per flush.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult

from console.screens.base import ConsoleScreen
from console.store.changes import ChangeSet
from widgets.data_grid import Column, DataGrid, RowData


class ListScreen(ConsoleScreen):
    """One DataGrid, sorted and filtered."""

    COLUMNS: ClassVar[list[Column]] = []
    EMPTY = "Nothing to show"
    TABLES: ClassVar[frozenset[str]] = frozenset()
    """The store tables whose changes concern this list."""

    DEFAULT_CSS = """
    ListScreen #list { height: 1fr; }
    """

    def compose_body(self) -> ComposeResult:
        yield from self.compose_above()
        yield DataGrid(self.COLUMNS, id="list", empty_message=self.EMPTY)
        yield from self.compose_below()

    def compose_above(self) -> ComposeResult:
        yield from ()

    def compose_below(self) -> ComposeResult:
        yield from ()

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
        self.fill_grid(grid)
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
        event.stop()
        if event.control is not self.grid or event.key is None:
            return
        self.marked ^= {event.key}
        self.marks_changed()
