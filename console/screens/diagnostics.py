"""Diagnostics (key 6): every source's state, the connection log, and the malformed events that were refused.

This is where the on-call engineer looks first at 3 a.m.: which server is down since when and why, when the next
try is, what the console did about it, and what garbage a server sent (shown inert and cut, never interpreted).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Label

from console.formatting import clock_s, duration
from console.screens.base import ConsoleScreen
from console.store.changes import ChangeSet
from widgets.data_grid import Column, DataGrid, RowData
from widgets.safe_text import clean

SOURCE_COLUMNS = [
    Column("source", "Source", min_width=10),
    Column("kind", "Kind", width=9),
    Column("url", "URL", min_width=12, flex=2),
    Column("state", "State", width=13),
    Column("since", "For", width=7, align="right"),
    Column("retry", "Retry in", width=8, align="right"),
    Column("reason", "Reason", min_width=10, flex=2),
    Column("seq", "Seq", width=9, align="right"),
    Column("events", "Events", width=9, align="right"),
    Column("bad", "Malformed", width=9, align="right"),
    Column("silent", "Silent", width=7, align="right"),
]

LOG_COLUMNS = [
    Column("at", "Server UTC", width=10),
    Column("source", "Source", min_width=10),
    Column("message", "What happened", min_width=20, flex=4),
]

MALFORMED_COLUMNS = [
    Column("at", "Server UTC", width=10),
    Column("source", "Source", min_width=8),
    Column("seq", "Seq", width=9, align="right"),
    Column("type", "Type", min_width=10),
    Column("reason", "Why it was refused", min_width=16, flex=2),
    Column("excerpt", "Data (inert, cut)", min_width=16, flex=2),
]

STATE_STYLE = {"live": "", "connecting": "row-medium", "reconnecting": "row-high", "stale": "row-high"}


def _hms(value: datetime) -> str:
    return clock_s(value)


class DiagnosticsScreen(ConsoleScreen):
    SCREEN_TITLE = "Diagnostics"
    FILTERABLE = False

    DEFAULT_CSS = """
    DiagnosticsScreen Label.title { color: $text-muted; text-style: bold; padding: 0 1; }
    DiagnosticsScreen #sources { height: auto; max-height: 10; }
    DiagnosticsScreen #log { height: 2fr; }
    DiagnosticsScreen #malformed { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = []

    def compose_body(self) -> ComposeResult:
        yield Label("Sources", classes="title")
        yield DataGrid(SOURCE_COLUMNS, id="sources", empty_message="No sources")
        yield Label("Connection log (newest first)", classes="title")
        yield DataGrid(LOG_COLUMNS, id="log", empty_message="Nothing has happened yet")
        yield Label("Malformed events (refused; the stream went on)", classes="title", id="malformed-title")
        yield DataGrid(MALFORMED_COLUMNS, id="malformed", empty_message="None: every event was valid")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#log", DataGrid).focus()

    def focus_main(self) -> None:
        self.query_one("#log", DataGrid).focus()

    def apply_changes(self, changes: ChangeSet) -> None:
        if self.needs_rebuild or changes.sources:
            self.rebuild()

    def update_status(self) -> None:
        super().update_status()
        if self.is_mounted and self.app.screen_stack and self.app.screen is self:
            self._show_sources()  # countdowns and silence move every second

    def rebuild(self) -> None:
        super().rebuild()
        self._show_sources()
        self._show_log()
        self._show_malformed()

    def _show_sources(self) -> None:
        now = time.monotonic()
        rows = []
        for source_id, status in self.store.sources.items():
            retry = status.retry_in(now)
            silent = status.seconds_since_event(now)
            rows.append(
                RowData(
                    source_id,
                    [
                        clean(source_id, 30),
                        clean(status.kind, 12),
                        clean(status.url, 80),
                        clean(status.state, 20),
                        duration(now - status.state_since),
                        duration(retry) if retry is not None else "-",
                        clean(status.reason or "", 120),
                        str(status.seq) if status.seq is not None else "-",
                        f"{status.events_total:,}",
                        f"{status.malformed_total:,}",
                        duration(silent) if silent is not None else "-",
                    ],
                    STATE_STYLE.get(str(status.state), "row-critical"),
                )
            )
        self.query_one("#sources", DataGrid).set_rows(rows)

    def _show_log(self) -> None:
        lines = []
        for source_id, status in self.store.sources.items():
            for line in status.log:
                lines.append((line.at, source_id, line.message))
        lines.sort(key=lambda item: item[0], reverse=True)
        rows = [
            RowData(f"{index}", [_hms(at), clean(source_id, 30), clean(message, 300)])
            for index, (at, source_id, message) in enumerate(lines[:500])
        ]
        self.query_one("#log", DataGrid).set_rows(rows)

    def _show_malformed(self) -> None:
        records = []
        total = 0
        for source_id, status in self.store.sources.items():
            total += status.malformed_total
            for record in status.malformed:
                records.append((record, source_id))
        records.sort(key=lambda item: item[0].at, reverse=True)
        rows = [
            RowData(
                f"{index}",
                [
                    _hms(record.at),
                    clean(source_id, 30),
                    str(record.seq) if record.seq is not None else "-",
                    clean(record.type, 40),
                    clean(record.reason, 200),
                    clean(record.excerpt, 200),
                ],
                "row-high",
            )
            for index, (record, source_id) in enumerate(records)
        ]
        self.query_one("#malformed-title", Label).update(
            f"Malformed events: {total} refused (the stream went on); the last {len(rows)} below"
        )
        self.query_one("#malformed", DataGrid).set_rows(rows)
