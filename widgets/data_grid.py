"""A generic virtualised table for long lists: jobs, alerts, nodes, quality rows.

Why not Textual's ``DataTable``: each ``update_cell`` refreshes the whole widget and rebuilds O(rows) offsets
(measured ~50 % of a core at 10 Hz over 10k rows). This is a Line-API ``ScrollView``: it draws only the visible lines,
and :meth:`DataGrid.update_rows` repaints only the visible rows that changed. The cursor, paging, marks and clicks
are :class:`~widgets.cursor_grid.CursorGrid`'s (one row per item); drawn rows are remembered by content in its line
cache, so scrolling back or moving the cursor does not format a row again.

The caller owns the data: it builds :class:`RowData` (cells already made safe: ``str`` cells are cleaned again here
anyway, ``Text``/``Content`` cells are drawn as given), sorts them, and says which column is the sort key so the
header shows ▲/▼. A row's ``style`` names a row class (``row-critical``, ``row-muted``, ``row-stale`` ...) styled by
the theme through this widget's component classes. Columns and rows (:class:`Column`, :class:`RowData`,
:class:`LazyRows`) are defined in :mod:`widgets.data_rows`, how a row is drawn in :mod:`widgets.data_cells`; both
are importable from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from widgets.cursor_grid import CursorGrid
from widgets.data_cells import cell_key, cell_segments, column_widths, header_line, row_line
from widgets.data_rows import ROW_STYLES, Align, Cell, Column, LazyRows, RowData
from widgets.safe_text import fit

# Besides the grid, the names its callers build it with (kept importable from here).
__all__ = ["ROW_STYLES", "Cell", "Column", "DataGrid", "LazyRows", "RowData", "column_widths"]


class DataGrid(CursorGrid, can_focus=True):
    """A one-line-per-row table with a sticky header, a cursor, marks and row style classes."""

    PART_PREFIX: ClassVar[str] = "data-grid--"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="data-grid.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="data-grid.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="data-grid.page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="data-grid.page-down"),
        Binding("home", "first", "First", show=False, id="data-grid.first"),
        Binding("end", "last", "Last", show=False, id="data-grid.last"),
        Binding("enter", "select", "Open", show=False, id="data-grid.select"),
        Binding("space", "toggle_mark", "Mark", show=False, id="data-grid.mark"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "data-grid--header",
        "data-grid--sorted",
        "data-grid--cursor",
        "data-grid--mark",
        "data-grid--empty",
        *(f"data-grid--{name}" for name in ROW_STYLES),
    }

    DEFAULT_CSS = """
    DataGrid {
        overflow-x: hidden;
        overflow-y: auto;
        background: $background;
        color: $state-normal;
        height: 1fr;
    }
    DataGrid > .data-grid--header { color: $text-muted; text-style: bold; }
    DataGrid > .data-grid--sorted { color: $foreground; text-style: bold underline; }
    DataGrid > .data-grid--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    DataGrid:focus > .data-grid--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    DataGrid > .data-grid--mark { color: $mark; text-style: bold; }
    DataGrid > .data-grid--empty { color: $text-muted; text-style: italic; }
    DataGrid > .data-grid--row-critical { color: $alarm-critical; text-style: $alarm-critical-style; }
    DataGrid > .data-grid--row-high { color: $alarm-high; text-style: $alarm-high-style; }
    DataGrid > .data-grid--row-medium { color: $alarm-medium; text-style: $alarm-medium-style; }
    DataGrid > .data-grid--row-low { color: $alarm-low; text-style: $alarm-low-style; }
    DataGrid > .data-grid--row-fault { color: $state-fault; }
    DataGrid > .data-grid--row-blocked { color: $state-blocked; text-style: $state-blocked-style; }
    DataGrid > .data-grid--row-paused { color: $state-paused; text-style: $state-paused-style; }
    DataGrid > .data-grid--row-maintenance { color: $state-maintenance; text-style: $state-maintenance-style; }
    DataGrid > .data-grid--row-offline { color: $state-offline; text-style: $state-offline-style; }
    DataGrid > .data-grid--row-unknown { color: $state-unknown; text-style: $state-unknown-style; }
    DataGrid > .data-grid--row-muted { color: $text-muted; }
    DataGrid > .data-grid--row-stale { color: $state-stale; text-style: $state-stale-style; }
    """

    show_header: reactive[bool] = reactive(True)

    class Highlighted(CursorGrid.Highlighted):
        """The cursor moved to another row (``key`` is ``None`` when the grid is empty)."""

    class Selected(CursorGrid.Selected):
        """The operator opened a row (enter or double click)."""

    class MarkToggled(CursorGrid.MarkToggled):
        """Space on a row; the owner updates ``marked``."""

    class HeaderClicked(Message):
        """A column header was clicked: the owner may sort by ``column_key`` (the grid does not sort)."""

        def __init__(self, grid: DataGrid, column_key: str) -> None:
            super().__init__()
            self.grid = grid
            self.column_key = column_key

        @property
        def control(self) -> DataGrid:
            return self.grid

    def __init__(
        self,
        columns: Sequence[Column] = (),
        *,
        empty_message: str = "Nothing to show",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._columns: list[Column] = list(columns)
        self._rows: list[RowData] | LazyRows = []
        self._widths: list[int] = []
        self._widths_key: tuple[tuple[Column, ...], tuple[int, ...]] = ((), ())
        self._widths_for = -1
        self.empty_message = empty_message
        self.sort_key: str | None = None
        self.sort_reverse = False

    # --- CursorGrid ------------------------------------------------------------------------------------------------

    def _item_count(self) -> int:
        return len(self._rows)

    def _key_at(self, index: int) -> str:
        return self._rows[index].key

    def _layout(self, width: int) -> tuple[int, int, int]:
        return 1, 1, 1 if self.show_header else 0

    def _header_clicked(self, x: int) -> None:
        column = self._column_at(x)
        if column is not None:
            self.post_message(self.HeaderClicked(self, column.key))

    # --- data in ---------------------------------------------------------------------------------------------------

    @property
    def columns(self) -> list[Column]:
        return list(self._columns)

    @columns.setter
    def columns(self, columns: Sequence[Column]) -> None:
        self._columns = list(columns)
        self._widths_for = -1
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def keys(self) -> list[str]:
        rows = self._rows
        return list(rows.keys) if isinstance(rows, LazyRows) else [row.key for row in rows]

    def set_sort(self, key: str | None, reverse: bool = False) -> None:
        """Show ``key`` as the sorted column (▲ ascending, ▼ descending); the caller sorts the rows."""
        self.sort_key = key
        self.sort_reverse = reverse
        self.refresh_line(0)

    def set_rows(self, rows: Sequence[RowData]) -> None:
        """Show ``rows`` (already sorted). The cursor stays on the same key if that row is still there.

        When the keys are the same and in the same order, only rows whose cells or style changed are repainted, so a
        caller may hand over the whole list on every change without sending the whole table to the terminal again.
        """
        old = self._rows
        if (
            not isinstance(old, LazyRows)
            and len(rows) == len(old)
            and all(new.key == prev.key for new, prev in zip(rows, old, strict=True))
        ):
            changed = [
                row
                for row, prev in zip(rows, old, strict=True)
                if row.style != prev.style or list(row.cells) != list(prev.cells)
            ]
            self._rows = list(rows)  # the callers' extras (models) are the newest
            if changed:
                self.update_rows(changed)
            return
        self._show(list(rows), {row.key: i for i, row in enumerate(rows)})

    def set_keys(self, keys: Sequence[str], row_of: Callable[[str], RowData | None]) -> None:
        """Show the rows of ``keys`` (already filtered and sorted), each built by ``row_of`` only when it is drawn.

        For long lists: the cost is the keys (an index by key), not formatting every row. The caller reports rows
        whose content changed with :meth:`rows_changed`; the cursor stays on the same key if it is still there.
        """
        key_list = list(keys)
        self._show(LazyRows(key_list, row_of), {key: i for i, key in enumerate(key_list)})

    def rows_changed(self, keys: Iterable[str]) -> None:
        """The rows ``keys`` have new content (built again when next drawn): repaint those that are visible."""
        rows = self._rows
        keys = list(keys)
        if isinstance(rows, LazyRows):
            cache = rows.cache
            for key in keys:
                cache.pop(key, None)
        self.refresh_keys(keys)

    def _show(self, rows: list[RowData] | LazyRows, index: dict[str, int]) -> None:
        old_key, was_visible = self._shown()
        self._rows = rows
        self._index = index
        self._reshown(old_key, was_visible)

    def update_rows(self, rows: Iterable[RowData]) -> None:
        """Replace rows with the same keys and repaint those that are visible; unknown keys are ignored.

        The visible range is read once per call (not per row), so rows off screen cost a lookup and a store.
        """
        index = self._index
        data = self._rows
        top, bottom = self._visible_index_range()  # (a LazyRows keeps the row until it changes again)
        touched: list[int] = []
        for row in rows:
            i = index.get(row.key)
            if i is not None:
                data[i] = row
                if top <= i < bottom:
                    touched.append(i)
        if touched:
            self._refresh_indices(touched)

    def refresh_keys(self, keys: Iterable[str]) -> None:
        """Repaint rows ``keys`` if visible (e.g. after ``marked`` changed)."""
        index = self._index
        touched = [i for key in keys if (i := index.get(key)) is not None]
        if touched:
            self._refresh_indices(touched)

    def get_row(self, key: str) -> RowData | None:
        i = self._index.get(key)
        return None if i is None else self._rows[i]

    def watch_show_header(self) -> None:
        self._update_virtual_size()
        self.refresh()

    def _column_at(self, x: int) -> Column | None:
        pos = 2
        for column, width in zip(self._columns, self._current_widths(), strict=False):
            if width <= 0:
                continue  # left out at this width
            if pos <= x < pos + width + 1:
                return column
            pos += width + 1
        return None

    # --- rendering -------------------------------------------------------------------------------------------------

    def _current_widths(self) -> list[int]:
        width = self.scrollable_content_region.width
        if self._widths_for != width:
            self._widths = column_widths(self._columns, width - 2)
            self._widths_key = (tuple(self._columns), tuple(self._widths))
            self._widths_for = width
        return self._widths

    def render_line(self, y: int) -> Strip:
        self.rendered_lines += 1
        width = self.scrollable_content_region.width
        styles = self._styles()
        base = styles["_base"]
        header = 1 if self.show_header else 0
        if y < header:
            return self._header_line(width, styles)
        index = self.scroll_offset.y + y - header
        if not self._rows:
            if index == 0:
                return Strip([Segment(fit(" " + self.empty_message, width), base + styles["empty"])], width)
            return Strip.blank(width, base)
        if index >= len(self._rows):
            return Strip.blank(width, base)
        row = self._rows[index]
        widths = self._current_widths()
        at_cursor = self._cursor_state(index)
        marked = row.key in self.marked
        key = (tuple(cell_key(cell) for cell in row.cells), row.style, at_cursor, marked, width, self._widths_key)
        line = self._lines.get(key, lambda: self._row_line(row, at_cursor, marked, width, widths, styles))
        assert isinstance(line, Strip)
        return line

    def _row_line(
        self, row: RowData, at_cursor: int, marked: bool, width: int, widths: list[int], styles: dict[str, Style]
    ) -> Strip:
        row_style = styles["_base"] + styles.get(row.style, Style.null())
        if not at_cursor:
            return row_line(self._columns, row, marked, width, widths, row_style, styles["mark"], self._app_console)
        # On the cursor the cursor's colours win over the mark's and every cell's own (a cell's colour could vanish
        # into the cursor's background: white on light grey in mono); their bold, dim or strike stay.
        cursor = styles["cursor"]
        row_style = row_style + cursor
        mark = styles["mark"].without_color
        line = row_line(self._columns, row, marked, width, widths, row_style, mark, self._app_console)
        colours = Style(color=cursor.color, bgcolor=cursor.bgcolor)
        return Strip(
            [Segment(text, (style or row_style) + colours, control) for text, style, control in line],
            line.cell_length,
        )

    def _cell(self, cell: Cell, width: int, align: Align, style: Style) -> list[Segment]:
        """One cell as the grid draws it (for tests that draw rows cell by cell)."""
        return cell_segments(cell, width, align, style, self._app_console)

    def _app_console(self) -> Console:
        """The app's console, for ``Text`` cells (asked for only when one is drawn: a ``str`` cell needs no app)."""
        return self.app.console

    def _header_line(self, width: int, styles: dict[str, Style]) -> Strip:
        base = styles["_base"] + styles["header"]
        widths = self._current_widths()
        return header_line(self._columns, widths, width, self.sort_key, self.sort_reverse, base, styles["sorted"])
