"""A subject's timeline (``T`` on the dashboard, a machine's, a node's or a job's detail, the Jobs and Nodes screens):
everything the console knows happened to one machine, node or job, newest first, on the server's clock.

The entries are :mod:`console.timeline_view`'s: state changes, jobs started, paused, rerouted, finished, failed,
scrapped or cancelled, alerts (every journal row), operator commands with who, the reason and the outcome (the
server's audit trail, and this console's local log for what never reached it), and the connection gaps of the
sources that serve the subject. ``/`` filters by words (every word must be in the row: ``/ alice pause``);
``enter`` opens what a row is about (a machine, a job, a node, an alert); ``e`` exports what is shown as Markdown
(``console.exports``); the toast names the file.

The list is a Line-API grid; it is gathered again at most once a ``panel_interval_s`` while changes come in (a
timeline is a few hundred rows: gathering it costs a scan of the alert journal, a few milliseconds).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Label

from console.copy_text import entry_copy
from console.exports import timeline_markdown
from console.formatting import clock
from console.screens.copying import COPY_BINDING, copy_out
from console.screens.list_screen import ListScreen
from console.screens.timeline_rows import TIMELINE_COLUMNS, entry_row, open_ref, row_entry, subject_title
from console.store.changes import ChangeSet
from console.timeline_view import Entry, subject_entries
from widgets.data_grid import DataGrid, RowData

__all__ = ["TimelineScreen", "open_timeline"]

LOCAL_RECORDS = 500
"""How many of the newest local audit records a timeline reads (off the UI thread)."""


class TimelineScreen(ListScreen):
    SCREEN_TITLE = "Timeline"
    COLUMNS = TIMELINE_COLUMNS
    EMPTY = "Nothing heard about it yet: the console keeps what it saw change since it started listening"
    ROW_NOUN = "entries"

    DEFAULT_CSS = """
    TimelineScreen #timeline-title { color: $text-muted; text-style: bold; padding: 0 1; width: 1fr; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="timeline.back"),
        Binding("e", "export", "Export", tooltip="Export what is shown as Markdown", id="timeline.export"),
        Binding("g", "fetch", "Fetch server audit", show=False, id="timeline.fetch"),
        COPY_BINDING,
    ]

    def __init__(self, kind: str, subject_id: str) -> None:
        super().__init__()
        self.kind = kind
        self.subject_id = subject_id
        self.local: list[dict[str, Any]] = []
        self.fetched: list[Any] = []
        self.entries: list[Entry] = []
        """What the list shows (filtered), newest first: what ``e`` exports."""
        self._total = 0
        self._seen: tuple[object, ...] | None = None

    def compose_above(self) -> ComposeResult:
        yield Label("", id="timeline-title")

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self._read_local(), group="timeline-local-audit", exclusive=True, exit_on_error=False)
        self.action_fetch()

    async def _read_local(self) -> None:
        self.local = await self.console.session.local_audit(LOCAL_RECORDS)
        if self.is_mounted:
            self.rebuild()

    def action_fetch(self) -> None:
        self.console.fetch_audit(self._fetched)

    def _fetched(self, entries: list[Any]) -> None:
        self.fetched = entries
        if self.is_mounted:
            self.rebuild()

    # --- what is shown --------------------------------------------------------------------------------------------

    def _versions(self) -> tuple[object, ...]:
        """What changes when the timeline may: its history, the journal, the audit trail, each source's last log
        line (the log is bounded, so its length stops moving)."""
        store = self.store
        audit = store.audit[-1].id if store.audit else None
        logs = tuple(status.log[-1] if status.log else None for status in store.sources.values())
        return (store.timeline.version, store.journal.version, audit, logs)

    def apply_changes(self, changes: ChangeSet) -> None:
        """Gather again when something it shows may have changed: its history, the journal, the audit, a log."""
        if self.needs_rebuild or self._versions() != self._seen or self.subject_id in changes.jobs:
            self.soon(self.rebuild)

    def build_rows(self) -> list[RowData]:
        now = self.console.server_clock.now()
        self._seen = self._versions()
        entries = subject_entries(
            self.store, self.kind, self.subject_id, now=now, local=self.local, fetched=self.fetched
        )
        words = self.query_text.lower().split()
        rows = []
        shown = []
        for entry in entries:
            row = entry_row(entry, now)
            if words:
                text = " ".join(str(cell) for cell in row.cells).lower()
                if not all(word in text for word in words):
                    continue
            rows.append(row)
            shown.append(entry)
        self.entries = shown
        self._total = len(entries)
        return rows

    def after_rebuild(self) -> None:
        store = self.store
        title = subject_title(store, self.kind, self.subject_id)
        shown, total = len(self.entries), self._total
        noun = "entry" if total == 1 else "entries"
        parts = [f"{shown} of {total} {noun}" if self.query_text else f"{total} {noun}", "newest first"]
        if store.journal.since is not None:
            parts.append(f"the console heard from {clock(store.journal.since)} UTC on")
        self.query_one("#timeline-title", Label).update(f"Timeline of {title}: " + ", ".join(parts))

    # --- keys -----------------------------------------------------------------------------------------------------

    def current_target(self) -> tuple[str, str | None]:
        return (self.kind, self.subject_id)

    def on_data_grid_selected(self, event: DataGrid.Selected) -> None:
        """Enter opens what the row is about."""
        event.stop()
        grid = event.control
        if event.key is None or not isinstance(grid, DataGrid):
            return
        entry = row_entry(grid.get_row(event.key))
        if entry is not None:
            open_ref(self, entry.ref)

    def action_copy(self) -> None:
        """``y``: the entry under the cursor (time, whose timeline, what, who)."""
        entry = row_entry(self.grid.get_row(self.grid.cursor_key)) if self.grid.cursor_key else None
        title = subject_title(self.store, self.kind, self.subject_id)
        copy_out(self, None if entry is None else entry_copy(entry, title))

    def action_export(self) -> None:
        self.run_worker(self._export(), group="timeline-export", exclusive=True, exit_on_error=False)

    async def _export(self) -> None:
        store, session = self.store, self.console.session
        text = timeline_markdown(
            subject_title(store, self.kind, self.subject_id),
            self.entries,
            now=session.server_now(),
            cluster=store.cluster.name if store.cluster else None,
            operator=session.operator,
            since=store.journal.since,
            filtered=self.query_text,
        )
        try:
            path = await session.export_markdown(f"timeline-{self.kind}-{self.subject_id}", text)
        except OSError as error:
            self.notify(f"Export failed: {error}", severity="error", timeout=8)
            return
        self.notify(f"Timeline exported to {path}", title="Export", timeout=8)


def open_timeline(screen: Any, kind: str, subject_id: str | None) -> None:
    """``T``: the timeline of a machine, node or job (a toast when there is none under the cursor)."""
    if not subject_id:
        screen.notify("Nothing under the cursor to show the timeline of", timeout=2)
        return
    screen.app.push_screen(TimelineScreen(kind, subject_id))
