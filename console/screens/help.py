"""The help screen (``?``): every key of the screen it was opened from, generated from the live bindings.

Never written by hand: it reads ``screen.active_bindings``, so remapped keys, read-only mode and role checks show up
exactly as they are (a hidden action is not listed).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label


def binding_rows(screen: Screen[Any]) -> list[tuple[str, str, str]]:
    """``(keys, description, where)`` for each enabled binding of ``screen``, in binding order, one row per action."""
    rows: list[tuple[str, str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    app = screen.app
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not active.enabled and binding.action != "help":
            continue
        description = binding.description or binding.action
        where = type(active.node).__name__
        if where.endswith("App"):
            where = "everywhere"
        key_display = app.get_key_display(binding) if binding.key_display is None else binding.key_display
        del key
        ident = (binding.action, where)
        if ident in seen:
            index = seen[ident]
            keys, desc, place = rows[index]
            if key_display not in keys.split(" / "):
                rows[index] = (f"{keys} / {key_display}", desc, place)
            continue
        seen[ident] = len(rows)
        rows.append((key_display, description, where))
    # What the screen does first (its actions), then what works everywhere, then moving around in a widget.
    screen_name = type(screen).__name__
    rank = {screen_name: 0, "everywhere": 1}
    return sorted(rows, key=lambda row: rank.get(row[2], 2))


class HelpScreen(ModalScreen[None]):
    """Every key of the current screen."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90; max-width: 96%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen Label { text-style: bold; margin-bottom: 1; }
    HelpScreen DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_help", "Close", id="help.close"),
        Binding("question_mark", "dismiss_help", "Close", key_display="?", id="help.close2", show=False),
    ]

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.source_screen = screen
        self.rows = binding_rows(screen)

    def compose(self) -> ComposeResult:
        name = getattr(self.source_screen, "SCREEN_TITLE", type(self.source_screen).__name__)
        with Vertical():
            yield Label(f"Keys: {name}   (escape closes; ctrl+p opens the command palette)")
            table: DataTable[Any] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("Key", "Action", "Where")
            for keys, description, where in self.rows:
                table.add_row(Text(keys), Text(description), Text(where))
            yield table

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
