"""A bounded cache of rendered lines (or line pieces), keyed by what the line shows, shared by the Line-API grids.

Why: Textual asks a ``ScrollView`` for a line again whenever the line is repainted: on a scroll back, on a cursor
move (two lines), on a telemetry tick of one tile, when a toast passes over it. Building a line from a row costs
cleaning, fitting and styling every cell; most of the time nothing it shows has changed. As Toolong's log view
does, the grids keep the last few thousand rendered lines in an LRU and draw a line again only when its key is new.

The key is the whole truth of a line: the content it shows (the row's cells, or a machine's render key and the
facts the owner gives), the width, the cursor state (off, on a blurred widget, on a focused one) and the mark.
So a changed row never shows a stale line: new content is a new key. The styles are not in the key: they come from
the theme, and :meth:`LineCache.set_theme` clears the cache when the theme (or the ASCII-only switch) changes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from textual.cache import LRUCache

__all__ = ["LineCache"]

V = TypeVar("V")


class LineCache(Generic[V]):
    """An LRU of rendered lines by content key, cleared whenever the theme token changes.

    ``hits``, ``misses`` and ``clears`` are counters for tests and benchmarks.
    """

    __slots__ = ("_cache", "_theme", "clears", "hits", "misses")

    def __init__(self, maxsize: int = 2048) -> None:
        self._cache: LRUCache[Hashable, V] = LRUCache(maxsize)
        self._theme: Hashable = None
        self.hits = 0
        self.misses = 0
        self.clears = 0

    def __len__(self) -> int:
        return len(self._cache)

    @property
    def maxsize(self) -> int:
        return self._cache.maxsize

    def fit(self, maxsize: int) -> None:
        """Keep at most ``maxsize`` lines from now on. A new size starts empty: Textual's LRU, once full, keeps its
        size whatever its ``maxsize`` says, and the size changes with the widget's, when the width in every key does."""
        if maxsize != self._cache.maxsize:
            self._cache = LRUCache(maxsize)

    def set_theme(self, theme: Hashable) -> None:
        """Say which theme (and glyph set) lines are drawn with now; a different one empties the cache."""
        if theme != self._theme:
            self._theme = theme
            self.clear()

    def clear(self) -> None:
        """Forget every line (a style changed: the widget's CSS, the theme)."""
        if len(self._cache):
            self._cache.clear()
        self.clears += 1

    def get(self, key: Hashable, render: Callable[[], V]) -> V:
        """The line for ``key``: the remembered one, else ``render()`` (then remembered)."""
        cache = self._cache
        line = cache.get(key)
        if line is None:
            self.misses += 1
            line = render()
            cache.set(key, line)
        else:
            self.hits += 1
        return line
