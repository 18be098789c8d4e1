"""The console's footer: the screen's keys on one line, drawn as one piece of text (not a widget per key).

Why not Textual's ``Footer``: it rebuilds a ``FooterKey`` widget for every key whenever the screen's bindings change
(a screen switch, a focus change, the cursor reaching a machine that offers other actions), which cost a few hundred
widgets' worth of style work each time and leaked the old keys through ``data_bind`` watchers (Textual issue
#6666: at 20,000 machines the collector's full passes grew past a second). It also cuts the line mid-word when the
keys do not fit (``1 Dashboa`` at 160 columns). This footer works out what to show with ``widgets.footer_layout``
(whole entries, most needed first, the screen numbers folded when short of room) and repaints only when that
changes. A click on a key presses it, as with Textual's footer.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

from widgets.charset import ascii_only
from widgets.footer_layout import FooterEntry, FooterKey, FooterPiece, entries_from_keys, layout, narrowest

__all__ = ["ConsoleFooter"]


class ConsoleFooter(Widget, can_focus=False):
    """The key line at the bottom of every main screen; see the module docstring."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "console-footer--key",
        "console-footer--description",
        "console-footer--current",
        "console-footer--disabled",
    }

    DEFAULT_CSS = """
    ConsoleFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
    }
    ConsoleFooter > .console-footer--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    ConsoleFooter > .console-footer--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    ConsoleFooter > .console-footer--current {
        color: $footer-key-foreground;
        text-style: bold reverse;
    }
    ConsoleFooter > .console-footer--disabled { color: $text-disabled; }
    """

    PALETTE_ACTION: ClassVar[str] = "command_palette"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.entries: list[FooterEntry] = []
        self.palette: FooterKey | None = None
        self.current_action: str | None = None
        self._spans: list[tuple[int, int, FooterPiece]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.update_keys)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.update_keys()

    def update_keys(self) -> None:
        """Read the screen's active bindings; repaint only if what the footer shows changed."""
        if not self.is_attached:
            return
        app = self.app
        keys: list[FooterKey] = []
        palette: FooterKey | None = None
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            item = FooterKey(binding.key, app.get_key_display(binding), binding.description, binding.action, enabled)
            if binding.action == self.PALETTE_ACTION and app.ENABLE_COMMAND_PALETTE:
                palette = item
            elif binding.show:
                keys.append(item)
        entries = entries_from_keys(keys)
        current = f"switch_mode({app.current_mode!r})" if app.current_mode else None
        if (entries, palette, current) != (self.entries, self.palette, self.current_action):
            self.entries, self.palette, self.current_action = entries, palette, current
            self.refresh()

    def _style_of(self, piece: FooterPiece) -> Style:
        if not piece.enabled:
            return self.get_component_rich_style("console-footer--disabled", partial=True)
        name = {"key": "key", "current": "current", "description": "description"}.get(piece.role)
        return self.get_component_rich_style(f"console-footer--{name}", partial=True) if name else Style()

    def render(self) -> Text:
        width = self.size.width
        palette_pieces: list[FooterPiece] = []
        if self.palette is not None:
            bar = "|" if ascii_only() else "▏"
            palette_pieces = [
                FooterPiece(bar, "gap"),
                FooterPiece(f"{self.palette.display} ", "key", self.palette.key, self.palette.enabled),
                FooterPiece(f"{self.palette.description.lower()} ", "description", self.palette.key),
            ]
        # The palette key goes first when the line is short: ^p is in ? help, the screen's keys are not elsewhere.
        room = width - sum(len(p.text) for p in palette_pieces)
        if narrowest(self.entries) > room:
            palette_pieces, room = [], width
        pieces = layout(self.entries, room, current_action=self.current_action)
        text = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, FooterPiece]] = []
        for piece in pieces:
            start = text.cell_len
            text.append(piece.text, self._style_of(piece))
            spans.append((start, text.cell_len, piece))
        if palette_pieces:
            text.append(" " * max(0, width - text.cell_len - sum(len(p.text) for p in palette_pieces)))
            for piece in palette_pieces:
                start = text.cell_len
                text.append(piece.text, self._style_of(piece))
                spans.append((start, text.cell_len, piece))
        self._spans = spans
        return text

    def key_at(self, x: int) -> FooterPiece | None:
        """The key piece under column ``x`` (for clicks), or ``None`` for a gap."""
        for start, end, piece in self._spans:
            if start <= x < end and piece.key is not None:
                return piece
        return None

    def on_click(self, event: events.Click) -> None:
        piece = self.key_at(event.x)
        if piece is None or piece.key is None:
            return
        event.stop()
        if piece.enabled:
            self.app.simulate_key(piece.key)
        else:
            self.app.bell()

    @property
    def shown_actions(self) -> list[str]:
        """The actions whose keys are on the line now, in order (for tests and the help screen's agreement)."""
        seen: list[str] = []
        for _start, _end, piece in self._spans:
            if piece.key is None:
                continue
            action = self._action_of(piece.key)
            if action is not None and action not in seen:
                seen.append(action)
        return seen

    def _action_of(self, key: str) -> str | None:
        for entry in self.entries:
            for item in entry.keys:
                if item.key == key:
                    return item.action
        if self.palette is not None and self.palette.key == key:
            return self.palette.action
        return None
