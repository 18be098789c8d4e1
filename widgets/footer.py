"""The console's footer: Textual's ``Footer`` without the watcher leak of its rebuilds.

Why: ``Footer`` rebuilds all its keys whenever the screen's bindings change, and each new ``FooterKey`` binds its
``compact`` to the footer's (``data_bind``), which appends a watcher to the footer's watcher list. Textual removes
the entries of closed widgets only when ``compact`` itself changes, which in this console it never does (Textual
issue #6666), so every rebuild left ~19 dead keys reachable from the footer. Under live load at 20,000 machines that
made the garbage collector's full passes grow past a second (docs/performance.md §3). After each rebuild this footer
drops the entries of closed widgets, by the same rule Textual applies when ``compact`` changes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from widgets.charset import ascii_only

__all__ = ["ConsoleFooter"]


class ConsoleFooter(Footer):
    """``Footer``, pruning its data-binding watchers of closed keys after every rebuild (see the module docstring).

    In ASCII mode (``widgets.charset``) the palette key loses its ``vkey`` border, drawn with ``▏``.

    Keys come in the order an operator needs them when the line is too short for all (80 columns): help and quit
    first (a newcomer's way out and way in), then the screen's own actions, then the keys every screen has (filter,
    sort, freeze, the screen numbers), which ``?`` lists anyway.
    """

    FIRST_ACTIONS: ClassVar[tuple[str, ...]] = ("help", "quit_console")
    """Always at the left."""
    GENERIC_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {"filter", "sort_next", "toggle_freeze", "toggle_cluster_api", "focus_next", "focus_previous"}
    )
    """Keys every screen has: after the screen's own."""

    DEFAULT_CSS = """
    ConsoleFooter.-ascii FooterKey.-command-palette {
        border-left: none;
    }
    """

    def on_mount(self) -> None:
        self.set_class(ascii_only(), "-ascii")

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        return sorted(widgets, key=self._rank)  # sorted() is stable: the screen's order within each rank

    def _rank(self, widget: Widget) -> int:
        action = getattr(widget, "action", None)
        if not isinstance(widget, FooterKey) or not isinstance(action, str):
            return 1
        if action in self.FIRST_ACTIONS:
            return 0
        if action in self.GENERIC_ACTIONS or action.startswith("switch_mode("):
            return 2
        return 1

    async def recompose(self) -> None:
        await super().recompose()
        self.prune_closed_watchers()

    def prune_closed_watchers(self) -> int:
        """Forget watchers that belong to closed widgets; returns how many were dropped."""
        watchers: dict[str, list[tuple[Any, Any]]] = getattr(self, "__watchers", {})
        dropped = 0
        for entries in watchers.values():
            alive = [(node, callback) for node, callback in entries if not getattr(node, "_closing", False)]
            dropped += len(entries) - len(alive)
            entries[:] = alive
        return dropped
