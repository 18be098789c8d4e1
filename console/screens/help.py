"""The help screen (``?``): every key of the screen it was opened from, generated from the live bindings, and the
``/`` filter's syntax.

Never written by hand: it reads ``screen.active_bindings``, so remapped keys, read-only mode and role checks show up
exactly as they are (a hidden action is not listed). Where a key works is named as a person reads it ("Dashboard",
"Machine grid", "Everywhere"), never as a class name. ``/`` inside help shows the filter syntax
(``console.store.query.HELP``); help opened while the filter input has focus shows it first.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import ContentSwitcher, DataTable, Label, Static

from console.screens.base import FilterInput
from console.store.query import HELP as FILTER_HELP
from widgets.charset import fold

Topic = Literal["keys", "filter"]

EVERYWHERE = "Everywhere"

WIDGET_NAMES: dict[str, str] = {
    "MachineGrid": "Machine grid",
    "DataGrid": "List",
    "DataTable": "Table",
    "FilterInput": "Filter input",
    "NodeStrip": "Node strip",
    "QualityStrip": "Quality strip",
    "SpcChart": "SPC chart",
    "Input": "Text input",
    "RadioSet": "Choices",
}
"""Names a person reads for the widgets that own keys; any other class is spelled out from its name."""


def human_name(node: DOMNode) -> str:
    """Where a key works, as the operator reads it: the screen's title, a widget's name, or "Everywhere"."""
    if isinstance(node, App):
        return EVERYWHERE
    title = getattr(node, "SCREEN_TITLE", "")
    if isinstance(title, str) and title:
        return title
    name = type(node).__name__
    if name in WIDGET_NAMES:
        return WIDGET_NAMES[name]
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name.removesuffix("Screen")) or [name]
    spelled = " ".join(word if word.isupper() and len(word) > 1 else word.lower() for word in words)
    return spelled[:1].upper() + spelled[1:]


def binding_rows(screen: Screen[Any]) -> list[tuple[str, str, str]]:
    """``(keys, description, where)`` for each enabled binding of ``screen``, in binding order, one row per action."""
    rows: list[tuple[str, str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    app = screen.app
    for active in screen.active_bindings.values():
        binding = active.binding
        if not active.enabled and binding.action != "help":
            continue
        description = binding.tooltip or binding.description or binding.action  # the footer's word, or more
        where = human_name(active.node)
        key_display = app.get_key_display(binding) if binding.key_display is None else binding.key_display
        key_display = fold(key_display)  # ASCII mode: "up / k", not "↑ / k"
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
    rank = {human_name(screen): 0, EVERYWHERE: 1}
    return sorted(rows, key=lambda row: rank.get(row[2], 2))


class HelpScreen(ModalScreen[None]):
    """Every key of the current screen, and the filter syntax (``/``)."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90; max-width: 96%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen .title { text-style: bold; margin-bottom: 1; }
    HelpScreen ContentSwitcher { height: 1fr; }
    HelpScreen DataTable { height: 1fr; }
    HelpScreen #filter-help { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_help", "Close", id="help.close"),
        Binding("question_mark", "dismiss_help", "Close", key_display="?", id="help.close2", show=False),
        Binding("slash", "toggle_topic", "Keys / filter syntax", key_display="/", id="help.filter"),
    ]

    def __init__(self, screen: Screen[Any], topic: Topic | None = None) -> None:
        super().__init__()
        self.source_screen = screen
        self.rows = binding_rows(screen)
        if topic is None:
            # Opened from the filter input (F1, or the palette while typing a filter): its syntax is the question.
            topic = "filter" if isinstance(screen.focused, FilterInput) else "keys"
        self.topic: Topic = topic

    def compose(self) -> ComposeResult:
        name = human_name(self.source_screen)
        with Vertical():
            yield Label(self._title(name), id="help-title", classes="title")
            with ContentSwitcher(initial=self.topic):
                table: DataTable[Any] = DataTable(cursor_type="row", zebra_stripes=True, id="keys")
                table.add_columns("Key", "Action", "Where")
                for keys, description, where in self.rows:
                    table.add_row(Text(keys), Text(description), Text(where))
                yield table
                with VerticalScroll(id="filter"):
                    yield Static(Content("Filter syntax (/ on a list or the grid; enter keeps it, escape clears)"))
                    yield Static(Content(FILTER_HELP), id="filter-help")

    def _title(self, name: str) -> str:
        if self.topic == "filter":
            return "Filter syntax   (/ shows the keys; escape closes)"
        return f"Keys: {name}   (/ filter syntax, escape closes, ctrl+p command palette)"

    def action_toggle_topic(self) -> None:
        self.topic = "keys" if self.topic == "filter" else "filter"
        self.query_one(ContentSwitcher).current = self.topic
        self.query_one("#help-title", Label).update(self._title(human_name(self.source_screen)))

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
