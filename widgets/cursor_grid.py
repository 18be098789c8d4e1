"""The cursor-and-scroll base of the Line-API lists: :class:`~widgets.data_grid.DataGrid` and
:class:`~widgets.machine_grid.MachineGrid`.

Why one base: both grids show items (rows, machines) in a virtual ``ScrollView``, keep a cursor on one item by key,
page, jump home and end, scroll just enough to show the cursor, toggle marks, turn a click into a cursor move and
post the same three messages. Written twice, those rules had started to drift (one grid clamped, the other did not);
here they are written once, for any layout of items in rows of ``columns`` items, ``row_height`` lines each, under
``header`` sticky lines (a table: 1 item per row, 1 line; tiles: several per row, 5 lines).

A subclass says how many items there are and which key each has (:meth:`_item_count`, :meth:`_key_at`, and the
``_index`` map from key to position), its geometry (:meth:`_layout`), how a line is drawn (``render_line``), and
its bindings and component classes (their ids and names are the subclass's own: users remap keys by binding id).
The base keeps the styles resolved once per theme and focus, and a :class:`~widgets.line_cache.LineCache` of
rendered lines that is emptied when the theme or the widget's styles change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets._styles import part_styles
from widgets.glyphs import ascii_only
from widgets.grid_message import GridMessage
from widgets.line_cache import LineCache

__all__ = ["CursorGrid"]


class CursorGrid(ScrollView, can_focus=True):
    """Items in rows under a sticky header, with a cursor, marks, paging and the three grid messages."""

    PART_PREFIX: ClassVar[str] = "cursor-grid--"
    """The prefix of this widget's component classes (``data-grid--``, ``machine-grid--``)."""

    LINE_CACHE_SIZE: ClassVar[int] = 256
    """Rendered lines (or tile pieces) kept at the least; more when a screenful holds more (``LINE_CACHE_SCREENS``)."""
    LINE_CACHE_SCREENS: ClassVar[int] = 4
    """Screenfuls of lines (or tile pieces) kept.

    Why not a fixed few thousand: a line's key holds what it shows, so with live data most remembered lines are ones
    that will never be asked for again, and each is a Textual ``Strip`` that keeps ~20 objects the garbage collector
    walks on every full collection. In-process, after five demo minutes at speed 20, the grids held 3,300 lines
    (a fixed 2,048 each) and full collections took up to 169 ms of CPU; at 512 each the hit rates were the same
    (72.7 % against 74.1 % for the machine tiles, the others equal) with 21 % fewer tracked objects (issue 15)."""

    class Highlighted(GridMessage):
        """The cursor moved to another item (``key`` is ``None`` when the grid is empty)."""

    class Selected(GridMessage):
        """The operator opened an item (enter or double click)."""

    class MarkToggled(GridMessage):
        """Space on an item; the owner updates ``marked`` (the grid does not)."""

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._index: dict[str, int] = {}
        """Position of each shown key (the subclass keeps it in step with its items)."""
        self._cursor = 0
        self._style_cache: dict[str, Style] | None = None
        self._style_key: tuple[str, bool] | None = None
        self._lines: LineCache[object] = LineCache(self.LINE_CACHE_SIZE)
        self.marked: set[str] = set()
        """Marked keys (owned by the screen: set it, then repaint the keys that changed)."""
        # Instrumentation for tests and benchmarks: lines drawn and lines asked to repaint.
        self.rendered_lines = 0
        self.refreshed_lines = 0

    # --- what a subclass provides ----------------------------------------------------------------------------------

    def _item_count(self) -> int:
        raise NotImplementedError

    def _key_at(self, index: int) -> str:
        raise NotImplementedError

    def _layout(self, width: int) -> tuple[int, int, int]:
        """(items per row, lines per row, header lines) at content ``width``."""
        return 1, 1, 0

    def _gap_line(self, within: int) -> bool:
        """Is line ``within`` of a row a separator (no item under a click there)?"""
        return False

    def _header_clicked(self, x: int) -> None:
        """A click on the header at content column ``x`` (nothing by default)."""

    def _extra_styles(self, styles: dict[str, Style]) -> None:
        """Add derived styles to the resolved part styles (called once per theme and focus)."""

    # --- the cursor ------------------------------------------------------------------------------------------------

    @property
    def cursor_key(self) -> str | None:
        """The key of the highlighted item, ``None`` when the grid is empty."""
        count = self._item_count()
        if not count:
            return None
        return self._key_at(min(self._cursor, count - 1))

    @property
    def cursor_index(self) -> int:
        return self._cursor

    def move_cursor_to(self, key: str) -> bool:
        """Highlight ``key`` (scrolling to it); ``False`` if it is not shown."""
        i = self._index.get(key)
        if i is None:
            return False
        self._set_cursor(i)
        return True

    def _set_cursor(self, index: int) -> None:
        """Move the cursor to ``index`` (clamped), repaint the two items, scroll to it, say so if it moved."""
        count = self._item_count()
        if not count:
            return
        index = max(0, min(index, count - 1))
        old = self._cursor
        self._cursor = index
        if index != old:
            self._refresh_indices([old, index])
        self._scroll_to_index(index)
        if index != old:
            self.post_message(self.Highlighted(self, self._key_at(index)))

    def _shown(self) -> tuple[str | None, bool]:
        """Call before replacing the items: (the cursor's key, whether the cursor is on screen)."""
        return self.cursor_key, self._index_visible(self._cursor)

    def _reshown(self, old_key: str | None, was_visible: bool) -> None:
        """Call after replacing the items (and ``_index``): the cursor stays on ``old_key`` if it is still shown,
        else stays in range; repaint; keep the cursor on screen if it was; say so if it now names another item."""
        if old_key is not None and old_key in self._index:
            self._cursor = self._index[old_key]
        else:
            self._cursor = min(self._cursor, max(0, self._item_count() - 1))
        self._update_virtual_size()
        self.refresh()
        if was_visible:
            self._scroll_to_index(self._cursor)
        if self.cursor_key != old_key:
            self.post_message(self.Highlighted(self, self.cursor_key))

    # --- geometry --------------------------------------------------------------------------------------------------

    def _body_height(self) -> int:
        """Lines below the header (at least 1)."""
        region = self.scrollable_content_region
        return max(1, region.height - self._layout(region.width)[2])

    def _update_virtual_size(self) -> None:
        region = self.scrollable_content_region
        width = region.width
        cols, height, header = self._layout(width)
        rows = -(-self._item_count() // cols)
        self.virtual_size = Size(width, max(1, rows) * height + header)
        self._lines.fit(max(self.LINE_CACHE_SIZE, self.LINE_CACHE_SCREENS * cols * max(1, region.height)))

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()

    def _visible_index_range(self) -> tuple[int, int]:
        """Items ``[lo, hi)`` with at least one line in the scrolled body (the header excluded)."""
        region = self.scrollable_content_region
        cols, height, header = self._layout(region.width)
        top = self.scroll_offset.y
        first_row = top // height
        end_row = -(-(top + max(0, region.height - header)) // height)
        return first_row * cols, min(end_row * cols, self._item_count())

    def _index_visible(self, index: int) -> bool:
        """Whether the first line of item ``index`` is in the scrolled body."""
        region = self.scrollable_content_region
        cols, height, header = self._layout(region.width)
        top = self.scroll_offset.y
        line = (index // cols) * height
        return top <= line < top + max(1, region.height - header)

    def _refresh_indices(self, indices: Iterable[int]) -> None:
        """Repaint the items ``indices`` that are visible (all the lines of their row)."""
        lo, hi = self._visible_index_range()
        cols, height, header = self._layout(self.scrollable_content_region.width)
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

    def _scroll_to_index(self, index: int) -> None:
        """Scroll (without animation) just enough to show all the lines of item ``index``."""
        region = self.scrollable_content_region
        cols, height, header = self._layout(region.width)
        line = (index // cols) * height
        body = max(1, region.height - header)
        top = self.scroll_offset.y
        if line < top:
            self.scroll_to(y=line, animate=False, immediate=True)
        elif line + height > top + body:
            self.scroll_to(y=line + height - body, animate=False, immediate=True)

    def _page_items(self) -> int:
        region = self.scrollable_content_region
        cols, height, header = self._layout(region.width)
        return max(1, max(1, region.height - header) // height) * cols

    def _index_at(self, x: int, y: int) -> int | None:
        """The item under content coordinates ``(x, y)`` of the viewport, if any."""
        region = self.scrollable_content_region
        cols, height, header = self._layout(region.width)
        if y < header:
            return None
        row, within = divmod(y + self.scroll_offset.y - header, height)
        if self._gap_line(within):
            return None
        col = min(x // max(1, region.width // cols), cols - 1)
        index = row * cols + col
        return index if 0 <= index < self._item_count() else None

    # --- actions ---------------------------------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self._set_cursor(self._cursor - self._layout(self.scrollable_content_region.width)[0])

    def action_cursor_down(self) -> None:
        self._set_cursor(self._cursor + self._layout(self.scrollable_content_region.width)[0])

    def action_cursor_left(self) -> None:
        self._set_cursor(self._cursor - 1)

    def action_cursor_right(self) -> None:
        self._set_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        self._set_cursor(self._cursor - self._page_items())

    def action_page_down(self) -> None:
        self._set_cursor(self._cursor + self._page_items())

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(self._item_count() - 1)

    def action_select(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def action_toggle_mark(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.MarkToggled(self, key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y < self._layout(self.scrollable_content_region.width)[2]:
            self._header_clicked(offset.x)
            return
        index = self._index_at(offset.x, offset.y)
        if index is None:
            return
        self._set_cursor(index)
        if event.chain >= 2:
            self.post_message(self.Selected(self, self._key_at(index)))

    def on_focus(self) -> None:
        self._refresh_indices([self._cursor])

    def on_blur(self) -> None:
        self._refresh_indices([self._cursor])

    # --- styles and the line cache ---------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        self._style_cache = None
        self._lines.clear()  # the widget's CSS (or the theme) changed: every remembered line has old colours
        super().notify_style_update()

    def _styles(self) -> dict[str, Style]:
        """All component styles, resolved once per theme and focus (not per cell); a new theme empties the cache
        of rendered lines."""
        theme = self.app.theme
        key = (theme, self.has_focus)
        cache = self._style_cache
        if cache is None or self._style_key != key:
            cache = part_styles(self, self.COMPONENT_CLASSES, self.PART_PREFIX)
            cache["_base"] = self.rich_style
            self._extra_styles(cache)
            self._style_cache = cache
            self._style_key = key
        self._lines.set_theme((theme, ascii_only()))
        return cache

    def _cursor_state(self, index: int) -> int:
        """For line keys: 0 off the cursor, 1 on it in a blurred widget, 2 on it in a focused one."""
        if index != self._cursor:
            return 0
        return 2 if self.has_focus else 1

    @property
    def line_cache(self) -> LineCache[object]:
        """The cache of rendered lines (for tests and benchmarks)."""
        return self._lines

    def _blank(self, width: int, style: Style) -> Strip:
        return Strip.blank(width, style)
