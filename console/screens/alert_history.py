"""Alert history (``H`` on the Alerts screen, or the palette): every transition of every alert, newest first.

Rows come from the store's alert journal (``console.store.journal``): raised, re-raised, count, acked (by whom, with
the note), shelved, unshelved, cleared, resolved, gone. Acked and resolved alerts stay here after they have left the
Alerts screen. ``/`` takes the Alerts screen's language plus the row's own fields (``transition:acked by:alice``,
``note:maintenance``, ``server:agent``); ``enter`` (or ``i``) opens the alert's detail with its whole life. A line
under the title names ISA-18.2's most frequent codes and the repeats (one code on one source, with its count) of the
last 24 h, worked out at most once a ``panel_interval_s`` and only when the journal changed.

Cheap at 50,000 rows: the list is a Line-API grid fed with keys (``DataGrid.set_keys``), rows are formatted only when
drawn, and a change tests only the rows added since the last one against the filter (the whole journal only when
the filter changes).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Label

from console.alarm_metrics import figures_now
from console.api.models import Node
from console.formatting import clock
from console.handover import isa_lines
from console.screens.alert_detail import AlertDetail
from console.screens.columns import source_name, source_text
from console.screens.journal_rows import HISTORY_COLUMNS, history_row
from console.screens.list_screen import ListScreen
from console.store.changes import ChangeSet
from console.store.journal import JournalRow
from console.store.query import Query, alert_node_id
from widgets.data_grid import DataGrid, RowData
from widgets.safe_text import clean

__all__ = ["AlertHistoryScreen"]


class AlertHistoryScreen(ListScreen):
    SCREEN_TITLE = "Alert history"
    COLUMNS = HISTORY_COLUMNS
    EMPTY = "No alert transition heard yet"
    ROW_NOUN = "history rows"
    TABLES = frozenset({"alerts", "audit"})
    FILTER_KIND = "history"

    DEFAULT_CSS = """
    AlertHistoryScreen #history-title { color: $text-muted; text-style: bold; padding: 0 1; }
    AlertHistoryScreen #history-figures {
        color: $text-muted; padding: 0 1; height: 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "detail", "Detail", id="alert.detail"),
        Binding("escape", "back", "Back", id="history.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._keys: list[str] = []
        self._keys_query: Query | None = None
        self._keys_upto = 0
        self._version = -1
        self._figures_version = -1

    def compose_above(self) -> ComposeResult:
        yield Label("", id="history-title")
        yield Label("", id="history-figures")

    def apply_changes(self, changes: ChangeSet) -> None:
        if self.needs_rebuild:
            self.rebuild()
        elif self.store.journal.version != self._version:
            self.soon(self.rebuild)  # an alarm flood adds rows every flush: at most once per panel interval

    def fill_grid(self, grid: DataGrid) -> None:
        """The journal's rows newest first, as keys; only rows added since the last fill are tested again."""
        journal = self.store.journal
        self._version = journal.version
        query = self.filter_query
        if query is not self._keys_query or self._keys_upto < journal.first_n - 1:
            self._keys = [str(row.n) for row in reversed(journal.rows) if self._matches(query, row)]
        else:
            fresh: list[str] = []
            for row in reversed(journal.rows):
                if row.n <= self._keys_upto:
                    break
                if self._matches(query, row):
                    fresh.append(str(row.n))
            keys = fresh + self._keys if fresh else self._keys
            first = journal.first_n
            while keys and int(keys[-1]) < first:  # dropped from the journal
                keys.pop()
            self._keys = keys
        self._keys_query = query
        self._keys_upto = journal.total
        grid.set_keys(list(self._keys), self._row_of)

    def _matches(self, query: Query, row: JournalRow) -> bool:
        if query.is_empty:
            return True
        store = self.store
        node_id = alert_node_id(row, store.machines, store.jobs)
        node: Node | None = None if node_id is None else store.nodes.get(node_id)
        return query.matches_history(row, node, source_name(row, store.machines, store.nodes))

    def _row_of(self, key: str) -> RowData | None:
        row = self.store.journal.row(int(key))
        if row is None:
            return None
        store = self.store
        source = source_text(row, source_name(row, store.machines, store.nodes))
        return history_row(row, self.console.server_clock.now(), source=source)

    def after_rebuild(self) -> None:
        journal = self.store.journal
        shown = len(self._keys)
        parts = [f"{shown:,} of {len(journal):,} transitions" if self.query_text else f"{shown:,} transitions"]
        parts.append("newest first")
        if journal.since is not None:
            heard = f"the console heard from {clock(journal.since)} UTC on"
            if journal.rows and journal.rows[0].at < journal.since:  # first sights, at their raised_at
                heard += " (earlier rows: what its first snapshot held)"
            parts.append(heard)
        if journal.dropped:
            parts.append(f"{journal.dropped:,} older dropped")
        self.query_one("#history-title", Label).update("Alert history: " + ", ".join(parts))
        if journal.version != self._figures_version:
            self.soon(self.update_figures)

    def update_figures(self) -> None:
        """ISA-18.2's most frequent codes and the repeats (one code on one source, with its count), over the last
        24 h on the server's clock: the handover's words (``console.handover.isa_lines``)."""
        journal = self.store.journal
        figures = figures_now(journal, self.console.server_clock)
        if figures is None:
            return
        self._figures_version = journal.version
        top, repeats = isa_lines(figures)[-2:]
        hours = figures.window.total_seconds() / 3600
        text = clean(f"{hours:g} h: {top} · {repeats}", 600)  # codes and source ids are the server's text
        self.query_one("#history-figures", Label).update(Content(text))

    def current_target(self) -> tuple[str, str | None]:
        row = self._cursor_row()
        return ("alert", row.id if row else None)

    def _cursor_row(self) -> JournalRow | None:
        key = self.grid.cursor_key
        return self.store.journal.row(int(key)) if key else None

    def action_detail(self) -> None:
        row = self._cursor_row()
        if row is None:
            self.notify("No row under the cursor", timeout=2)
            return
        self.app.push_screen(AlertDetail(row.id))

    def on_data_grid_selected(self, event: DataGrid.Selected) -> None:
        """Enter opens the alert's detail."""
        event.stop()
        if event.key is not None:
            self.action_detail()
