"""The console's footer: Textual's ``Footer`` without the watcher leak of its rebuilds.

Why: ``Footer`` rebuilds all its keys whenever the screen's bindings change, and each new ``FooterKey`` binds its
``compact`` to the footer's (``data_bind``), which appends a watcher to the footer's watcher list. Textual removes
the entries of closed widgets only when ``compact`` itself changes, which in this console it never does (Textual
issue #6666), so every rebuild left ~19 dead keys reachable from the footer. Under live load at 20,000 machines that
made the garbage collector's full passes grow past a second (docs/performance.md §3). After each rebuild this footer
drops the entries of closed widgets, by the same rule Textual applies when ``compact`` changes.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Footer

from widgets.charset import ascii_only

__all__ = ["ConsoleFooter"]


class ConsoleFooter(Footer):
    """``Footer``, pruning its data-binding watchers of closed keys after every rebuild (see the module docstring).

    In ASCII mode (``widgets.charset``) the palette key loses its ``vkey`` border, drawn with ``▏``.
    """

    DEFAULT_CSS = """
    ConsoleFooter.-ascii FooterKey.-command-palette {
        border-left: none;
    }
    """

    def on_mount(self) -> None:
        self.set_class(ascii_only(), "-ascii")

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
