"""Audit (key 7): the server's audit trail (``/v1/audit`` plus ``audit.appended`` as it happens) and this console's
own local log of command attempts and outcomes.

The server's page is fetched by the app (a worker) when the screen opens or on ``g``; the screen only renders. ``h``
opens the shift handover (``console.screens.handover``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Label

from console.api.models import AuditEntry
from console.formatting import clock, in_utc
from console.screens.list_screen import ListScreen
from console.store.changes import ChangeSet
from widgets.data_grid import Column, DataGrid, RowData
from widgets.safe_text import clean

AUDIT_COLUMNS = [
    Column("at", "Time", width=5),
    Column("operator", "Operator", min_width=8),
    Column("action", "Action", min_width=12),
    Column("target", "Target", min_width=12),
    Column("outcome", "Outcome", width=9),
    Column("reason", "Reason", min_width=10, flex=2),
    Column("detail", "Detail", min_width=10, flex=2),
]

LOCAL_COLUMNS = [
    Column("at", "Server UTC", width=19),
    Column("local", "This machine", width=13),
    Column("phase", "Phase", width=8),
    Column("action", "Action", min_width=12),
    Column("target", "Target", min_width=12),
    Column("outcome", "Outcome", width=13),
    Column("detail", "Detail", min_width=10, flex=3),
]


def audit_row(entry: AuditEntry) -> RowData:
    return RowData(
        entry.id,
        [
            clock(entry.at),
            clean(entry.operator, 30),
            clean(entry.action, 40),
            f"{clean(entry.target.kind, 10)}:{clean(entry.target.id, 40)}",
            clean(entry.outcome, 12),
            clean(entry.reason or "", 200),
            clean(entry.detail or "", 200),
        ],
        "row-high" if entry.outcome == "rejected" else "",
    )


def local_times(record: Mapping[str, Any]) -> tuple[str, str]:
    """A local audit record's time on the server's clock (the one every screen uses), and this machine's own time
    where the two differ by a minute or more (a demo runs on its own date; a real server's clock may be off)."""
    at, server_at = _parse(record.get("at")), _parse(record.get("server_at"))
    if server_at is None:  # written before the console heard a server, or by an older console
        return (clean(record.get("at", ""), 24), "")
    shown = in_utc(server_at).strftime("%Y-%m-%d %H:%M:%S")
    if at is None or abs((at - server_at).total_seconds()) < 60:
        return (shown, "")
    return (shown, in_utc(at).strftime("%m-%d %H:%M:%S"))


LOCAL_TITLE = "This console's local audit log (newest first)"


def recorded_by(record: Mapping[str, Any], moment: datetime) -> bool:
    """Whether a local audit record was written by ``moment`` (on the server's clock, else this machine's)."""
    at = _parse(record.get("server_at")) or _parse(record.get("at"))
    return at is not None and at <= moment


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


class AuditScreen(ListScreen):
    SCREEN_TITLE = "Audit"
    COLUMNS = AUDIT_COLUMNS
    EMPTY = "No audit entries yet"
    TABLES = frozenset({"audit"})

    DEFAULT_CSS = """
    AuditScreen Label.title { color: $text-muted; text-style: bold; padding: 0 1; }
    AuditScreen #local { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "fetch", "Fetch server audit", id="audit.fetch"),
        Binding(
            "h",
            "handover",
            "Handover",
            tooltip="Handover: what went wrong, what was done, what is open",
            id="handover.open",
        ),
        Binding("tab", "focus_next", "Next list", show=False, id="audit.next"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.fetched: dict[str, AuditEntry] = {}

    def compose_above(self) -> ComposeResult:
        yield Label("Server audit (newest first)", classes="title", id="server-title")

    def compose_below(self) -> ComposeResult:
        yield Label(LOCAL_TITLE, id="local-title", classes="title")
        yield DataGrid(LOCAL_COLUMNS, id="local", empty_message="No command sent from this console yet")

    def on_mount(self) -> None:
        super().on_mount()
        self.action_fetch()

    def action_fetch(self) -> None:
        self.console.fetch_audit(self._fetched)

    def action_handover(self) -> None:
        from console.screens.handover import open_handover

        open_handover(self)

    def _fetched(self, entries: list[AuditEntry]) -> None:
        self.fetched.update((e.id, e) for e in entries)
        self.rebuild()

    def apply_changes(self, changes: ChangeSet) -> None:
        if self.needs_rebuild or changes.audit:
            self.rebuild()

    def build_rows(self) -> list[RowData]:
        entries = dict(self.fetched)
        entries.update((e.id, e) for e in self.store.audit)
        ordered = sorted(entries.values(), key=lambda e: (e.at, e.id), reverse=True)
        words = self.query_text.lower().split()
        rows = [audit_row(e) for e in ordered]
        if words:
            rows = [r for r in rows if all(w in " ".join(map(str, r.cells)).lower() for w in words)]
        return rows

    def after_rebuild(self) -> None:
        # The local log is a file that may be large: read it in a thread, never on the UI loop.
        self.run_worker(self._show_local_audit(), group="local-audit", exclusive=True, exit_on_error=False)

    async def _show_local_audit(self) -> None:
        records = list(reversed(await self.console.session.local_audit(200)))
        if not self.is_mounted:
            return
        playback = self.console.session.playback
        if playback is not None:  # a replay: this machine's log as it stood at the replayed moment, not what came after
            records = [r for r in records if recorded_by(r, playback.position)]
            when = in_utc(playback.position).strftime("%H:%M:%S")
            self.query_one("#local-title", Label).update(f"{LOCAL_TITLE}, up to {when} UTC (the replayed time)")
        rows = []
        for index, record in enumerate(records):
            target = record.get("target") or {}
            rows.append(
                RowData(
                    str(index),
                    [
                        *local_times(record),
                        clean(record.get("phase", ""), 10),
                        clean(record.get("action", ""), 40),
                        f"{clean(target.get('kind', ''), 10)}:{clean(target.get('id', ''), 40)}",
                        clean(record.get("outcome") or "", 16),
                        clean(record.get("detail") or record.get("reason") or "", 200),
                    ],
                    "row-high" if record.get("outcome") in ("rejected", "failed") else "",
                )
            )
        self.query_one("#local", DataGrid).set_rows(rows)
