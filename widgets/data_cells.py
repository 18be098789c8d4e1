"""How a :class:`~widgets.data_grid.DataGrid` row looks: column widths at a width, each cell fitted to its column,
the header with the sort arrow, and the key a drawn row is remembered by.

Why its own module: this is the grid's drawing, apart from its scrolling, cursor and data. It is a set of plain
functions of columns, cells, widths and styles (no widget state), so a test can draw a row exactly as the grid does
without mounting one, and the rule that a line cache key covers everything a row shows (:func:`cell_key`) sits next
to the code that draws it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.content import Content
from textual.strip import Strip

from widgets.data_rows import Align, Cell, Column, RowData
from widgets.glyphs import ascii_only
from widgets.safe_text import fit

__all__ = ["cell_key", "cell_segments", "column_widths", "header_line", "row_line"]


def column_widths(columns: Sequence[Column], total: int, gap: int = 1) -> list[int]:
    """Widths that fit ``total`` cells: fixed columns as asked, flex columns share the rest (at least ``min_width``).

    A column of width 0 is left out (its cells and its gap are not drawn): the droppable ones (``Column.drop``), the
    highest first, while the others would not fit at their minimum."""
    dropped: set[int] = set()

    def needed() -> int:
        kept = [c for i, c in enumerate(columns) if i not in dropped]
        return sum(c.width or c.min_width for c in kept) + gap * max(0, len(kept) - 1)

    for i in sorted((i for i, c in enumerate(columns) if c.drop > 0), key=lambda i: -columns[i].drop):
        if needed() <= total:
            break
        dropped.add(i)
    widths = [0 if i in dropped else (c.width or 0) for i, c in enumerate(columns)]
    flex = [i for i, c in enumerate(columns) if c.width is None and i not in dropped]
    kept_count = len(columns) - len(dropped)
    free = total - sum(widths) - gap * max(0, kept_count - 1)
    if flex:
        weights = sum(columns[i].flex for i in flex)
        given = 0
        for n, i in enumerate(flex):
            share = free - given if n == len(flex) - 1 else free * columns[i].flex // weights
            widths[i] = max(columns[i].min_width, share)
            given += widths[i]
    return widths


def cell_key(cell: Cell) -> Hashable:
    """What a cell shows, as a hashable key for the line cache (a ``Text`` is mutable and unhashable: its plain text,
    spans and style stand for it)."""
    if isinstance(cell, Text):
        return (cell.plain, tuple(cell.spans), cell.style, cell.justify, cell.overflow)
    return cell


def cell_segments(cell: Cell, width: int, align: Align, style: Style, console: Callable[[], Console]) -> list[Segment]:
    """``cell`` as exactly ``width`` cells under ``style``: a ``str`` cleaned and fitted, a ``Text`` or ``Content``
    drawn as given (its own styles over ``style``), cut with an ellipsis or padded to ``align``. ``console()`` (the
    app's) is asked for only to render a ``Text``."""
    if isinstance(cell, str):
        return [Segment(fit(cell, width, align=align), style)]
    if isinstance(cell, Content):
        fitted = cell.truncate(width, ellipsis=True, pad=False)
        gap = width - fitted.cell_length
        if gap > 0:
            fitted = fitted.pad(gap if align == "right" else 0, 0 if align == "right" else gap)
        return list(Segment.apply_style(fitted.render_segments(), style))
    text = cell.copy()
    text.end = ""
    text.no_wrap = True
    text.truncate(width, overflow="ellipsis")
    gap = width - text.cell_len
    if gap > 0:
        if align == "right":
            text.pad_left(gap)
        else:
            text.pad_right(gap)
    return list(Segment.apply_style(text.render(console()), style))


def row_line(
    columns: Sequence[Column],
    row: RowData,
    marked: bool,
    width: int,
    widths: Sequence[int],
    row_style: Style,
    mark_style: Style,
    console: Callable[[], Console],
) -> Strip:
    """``row`` as one line of exactly ``width`` cells: the mark, then each cell in its column's width and alignment."""
    segments: list[Segment] = [
        Segment(("*" if ascii_only() else "●") if marked else " ", row_style + mark_style),
        Segment(" ", row_style),
    ]
    for column, cell_width, cell in zip(columns, widths, row.cells, strict=False):
        if cell_width <= 0:
            continue  # a column left out at this width
        segments.extend(cell_segments(cell, cell_width, column.align, row_style, console))
        segments.append(Segment(" ", row_style))
    return Strip(segments).adjust_cell_length(width, row_style)


def header_line(
    columns: Sequence[Column],
    widths: Sequence[int],
    width: int,
    sort_key: str | None,
    sort_reverse: bool,
    base: Style,
    sorted_style: Style,
) -> Strip:
    """The column labels in ``base`` style; the sorted column's label with ▲ or ▼ (``^``/``v`` in ASCII mode)."""
    segments = [Segment("  ", base)]
    for column, cell_width in zip(columns, widths, strict=False):
        if cell_width <= 0:
            continue
        label = column.label
        style = base
        if column.key == sort_key:
            arrow = ("v" if sort_reverse else "^") if ascii_only() else ("▼" if sort_reverse else "▲")
            label = f"{label}{arrow}"
            style = base + sorted_style
        segments.append(Segment(fit(label, cell_width, align=column.align), style))
        segments.append(Segment(" ", base))
    return Strip(segments).adjust_cell_length(width, base)
