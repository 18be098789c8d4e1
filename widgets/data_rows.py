"""What a :class:`~widgets.data_grid.DataGrid` shows: its columns, its rows, and rows built only when drawn.

Why its own module: these are the caller's side of the grid. Every list screen builds :class:`Column` and
:class:`RowData` (often far from any widget: the column and row builders of the screens), and :class:`LazyRows` is the
rule that a long list formats only the rows that are drawn. None of it scrolls, draws or knows Textual's widgets;
the grid indexes the rows and draws them (cells: :mod:`widgets.data_cells`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, overload

from rich.text import Text
from textual.content import Content

__all__ = ["ROW_STYLES", "Align", "Cell", "Column", "LazyRows", "RowData"]

Cell = str | Text | Content
Align = Literal["left", "right", "center"]

ROW_STYLES: tuple[str, ...] = (
    "row-critical",
    "row-high",
    "row-medium",
    "row-low",
    "row-fault",
    "row-blocked",
    "row-paused",
    "row-maintenance",
    "row-offline",
    "row-unknown",
    "row-muted",
    "row-stale",
)
"""Row style classes the theme knows; another name draws the row unstyled."""


@dataclass(frozen=True, slots=True)
class Column:
    """A column: ``width`` fixed in cells, or ``None`` to share the free width (by ``flex``) with ``min_width``."""

    key: str
    label: str
    width: int | None = None
    align: Align = "left"
    min_width: int = 6
    flex: int = 1
    drop: int = 0
    """When the table is too narrow for every column, columns with ``drop`` > 0 are left out, the highest first:
    the least needed go (a node's latitude and longitude) so the ones that matter stay whole (its source and age)."""


@dataclass(slots=True)
class RowData:
    """One row: its key, its cells in column order, and an optional row style class (see :data:`ROW_STYLES`)."""

    key: str
    cells: Sequence[Cell]
    style: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    """Free for the caller (e.g. the model the row was built from); the grid ignores it."""


class LazyRows(Sequence[RowData]):
    """Rows built on demand: ``keys`` in order, and ``row_of(key)`` for a row when it is first drawn (then kept until
    :meth:`DataGrid.rows_changed` says it changed). Why: formatting 100,000 job rows takes a second; a screen shows
    fifty. Never iterate one (that would build every row); the grid only indexes it."""

    __slots__ = ("cache", "keys", "row_of")

    CACHE_LIMIT = 4096

    def __init__(self, keys: list[str], row_of: Callable[[str], RowData | None]) -> None:
        self.keys = keys
        self.row_of = row_of
        self.cache: dict[str, RowData] = {}

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> RowData: ...

    @overload
    def __getitem__(self, index: slice) -> list[RowData]: ...

    def __getitem__(self, index: int | slice) -> RowData | list[RowData]:
        if isinstance(index, slice):  # the grid never slices; a slice builds each of its rows
            return [self[i] for i in range(len(self.keys))[index]]
        key = self.keys[index]
        row = self.cache.get(key)
        if row is None:
            row = self.row_of(key) or RowData(key, [])
            if len(self.cache) >= self.CACHE_LIMIT:  # bounded: a few screens' worth
                self.cache.clear()
            self.cache[key] = row
        return row

    def __setitem__(self, index: int, row: RowData) -> None:
        self.cache[self.keys[index]] = row
