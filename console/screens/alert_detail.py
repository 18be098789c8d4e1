"""The alert detail (``i`` on the Alerts screen, ``enter`` in the alert history): one alert's fields and its whole
life, every journal row of its id, oldest first (who acked it and why, when it was shelved and until when, when it
cleared, resolved or went).

It works for alerts that have left the Alerts screen too (resolved, gone): the journal keeps the last known alert of
every id it has rows for. It follows the journal while open (a second ``ack`` shows up). Server text is plain
``Content``, never markup.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from console.api.models import Alert
from console.formatting import age, until
from console.screens.columns import ALERT_STATE_WORD, source_name, source_text
from console.screens.host import ConsoleHost
from console.screens.journal_rows import LIFE_COLUMNS, life_row, when
from widgets.data_grid import DataGrid
from widgets.glyphs import alert_priority_look
from widgets.safe_text import clean

__all__ = ["AlertDetail", "detail_lines"]

LABEL_WIDTH = 9
FIXED_LINES = 13
"""The dialog's lines other than its life: border, title, six fields, a blank, the life's title, the hint."""


class AlertDetail(ModalScreen[None]):
    """One alert and every transition the journal holds for it."""

    DEFAULT_CSS = """
    AlertDetail { align: center middle; }
    AlertDetail > #alert-detail {
        width: 110; max-width: 96%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    AlertDetail .title { text-style: bold; width: 1fr; }
    AlertDetail #fields { height: auto; margin: 0 0 1 0; }
    AlertDetail .subtitle { color: $text-muted; text-style: bold; }
    AlertDetail #life { height: 3; }
    AlertDetail .hint { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="alert-detail.close"),
    ]

    def __init__(self, alert_id: str) -> None:
        super().__init__()
        self.alert_id = alert_id
        self._version = -1

    @property
    def console(self) -> ConsoleHost:
        return cast(ConsoleHost, self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="alert-detail"):
            yield Label("", id="detail-title", classes="title")
            yield Static("", id="fields")
            yield Label("Its life (oldest first)", classes="subtitle", id="life-title")
            yield DataGrid(LIFE_COLUMNS, id="life", empty_message="The journal holds no transition of this alert")
            yield Label("escape closes", classes="hint")

    def on_mount(self) -> None:
        self.refresh_detail()
        self.query_one("#life", DataGrid).focus()
        self.set_interval(1.0, self._follow, name="follow-journal")

    def _follow(self) -> None:
        if self.console.store.journal.version != self._version:
            self.refresh_detail()

    def refresh_detail(self) -> None:
        """Show the alert as the store (else the journal) knows it now, and its rows."""
        store = self.console.store
        journal = store.journal
        self._version = journal.version
        alert = store.alerts.get(self.alert_id) or journal.last_alert(self.alert_id)
        rows = journal.rows_of(self.alert_id)
        now = self.console.server_clock.now()
        title = self.query_one("#detail-title", Label)
        fields = self.query_one("#fields", Static)
        if alert is None:
            title.update(Content(f"Alert {clean(self.alert_id, 40)}"))
            fields.update(Content("Not known here: the journal has no row of it (it may have been dropped)."))
        else:
            look = alert_priority_look(alert.priority)
            state = ALERT_STATE_WORD.get(alert.state, clean(alert.state, 20))
            title.update(Content(f"Alert {clean(alert.id, 40)}  {look.label}  {state}"))
            name = source_name(alert, store.machines, store.nodes)
            server = store.owner("alerts", alert.id) or (rows[-1].server if rows else None)
            fields.update(detail_lines(alert, now, source_text(alert, name), server))
        life_title = "Its life (oldest first)"
        if journal.dropped and (not rows or rows[0].transition != "raised"):
            life_title += f": earlier rows dropped (the journal keeps the last {journal.capacity:,})"
        self.query_one("#life-title", Label).update(life_title)
        life = self.query_one("#life", DataGrid)
        life.set_rows([life_row(row, now) for row in rows])
        self._size_life()

    def _size_life(self) -> None:
        """As tall as its rows (and the header), within 90 % of the screen less the rest of the dialog."""
        life = self.query_one("#life", DataGrid)
        room = int(self.size.height * 0.9) - FIXED_LINES
        life.styles.height = max(3, min(life.row_count + 1, room))

    def on_resize(self) -> None:
        self._size_life()

    def action_close(self) -> None:
        self.dismiss(None)

    def on_data_grid_selected(self, event: DataGrid.Selected) -> None:
        event.stop()  # a row of its life opens nothing more


def detail_lines(alert: Alert, now: datetime | None, source: str, server: str | None) -> Content:
    """The alert's fields, one per line, labels bold, values plain (``now`` is the server's time or ``None``)."""
    raised = when(alert.raised_at, now) + (f" ({age(alert.raised_at, now)} ago)" if now is not None else "")
    updated = when(alert.updated_at, now)
    if alert.acked_by or alert.state == "active_acked":
        acked = f"by {clean(alert.acked_by or 'someone the server did not name', 40)}"
        if alert.ack_note:
            acked += f": {clean(alert.ack_note, 300)}"
    else:
        acked = "not acknowledged"
    if alert.state == "shelved" and alert.shelved_until is not None:
        left = f" ({until(alert.shelved_until, now)})" if now is not None else ""
        shelved = f"until {when(alert.shelved_until, now)}{left}"
    else:
        shelved = "no"
    lines = [
        ("Source", source),
        ("Code", f"{clean(alert.code, 60)}    count {alert.count}    from {clean(server or '-', 30)}"),
        ("Message", clean(alert.message, 300)),
        ("Raised", f"{raised}    updated {updated}"),
        ("Acked", acked),
        ("Shelved", shelved),
    ]
    parts: list[str | tuple[str, str]] = []
    for index, (label, value) in enumerate(lines):
        if index:
            parts.append("\n")
        parts.append((label.ljust(LABEL_WIDTH), "bold"))
        parts.append(value)
    return Content.assemble(*parts)
