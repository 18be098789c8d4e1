"""Alerts (key 3): active alerts by priority then age, unacknowledged first; shelved alerts in their own list.

A flood banner shows when more than ten alerts were raised in the last ten minutes (ISA-18.2 calls this an alarm
flood: the operator should know the list is longer than one person can work through). Under it one line gives the
alarm system's ISA-18.2 figures from the alert journal (``console.alarm_metrics``): alarms raised in the last hour and
10 minutes, floods, chattering and stale alarms, the priority mix against the guideline.

``i`` opens the detail of the alert under the cursor (its fields and its whole life: who acked it and why, when it
was shelved, cleared, resolved); ``H`` the alert history (``console.screens.alert_history``), where acked and
resolved alerts stay findable. ``enter`` still jumps to the alert's source.

Working the standing pile: filter it (``/node:york state:clr``), mark rows (``space`` marks and moves down, ``*``
marks every row the filter shows) and act on them, or ``A`` acknowledges every cleared-unacknowledged alert the
filter shows at once (the ack dialog lists them first). ``b`` opens the runbook of the alert under the cursor
(``console.screens.runbook``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Label, Static

from console.alarm_metrics import figures_now
from console.api.models import Alert, Node
from console.rules import ALERT_SORTS, alert_flood, sort_alerts
from console.screens.alert_detail import AlertDetail
from console.screens.alert_history import AlertHistoryScreen
from console.screens.columns import (
    ALERT_COLUMNS,
    SHELVED_COLUMNS,
    alert_row,
    clustered,
    shelved_row,
    show_clusters,
    source_name,
    source_text,
)
from console.screens.copying import COPY_BINDING, copy_alert, copy_out
from console.screens.flows import ActionFlows
from console.screens.host import ConsoleHost
from console.screens.journal_rows import isa_summary
from console.screens.list_screen import ListScreen
from console.screens.runbook import open_runbook
from console.store.query import alert_node_id
from widgets.charset import pick
from widgets.data_grid import DataGrid, RowData
from widgets.safe_text import clean

FLOOD_THRESHOLD = 10
ISA_REFRESH_S = 15.0
"""How often the ISA-18.2 line is worked out again while no alert changes."""


class AlertsScreen(ListScreen):
    SCREEN_TITLE = "Alerts"
    SORTS = ALERT_SORTS
    COLUMNS = ALERT_COLUMNS
    EMPTY = "No active alerts"
    TABLES = frozenset({"alerts"})
    FILTER_KIND = "alert"

    DEFAULT_CSS = """
    AlertsScreen #flood { display: none; background: $error; color: $text; text-style: bold; padding: 0 1; width: 1fr; }
    AlertsScreen #flood.-shown { display: block; }
    AlertsScreen #isa { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    AlertsScreen #isa.-alarm { color: $warning; text-style: bold; }
    AlertsScreen #isa-top { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    AlertsScreen #shelved-title { color: $text-muted; text-style: bold; padding: 0 1; }
    AlertsScreen #shelved { height: 2; max-height: 8; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "ack", "Ack", id="alert.ack"),
        Binding("s", "shelve", "Shelve", id="alert.shelve"),
        Binding("S", "unshelve", "Unshelve", id="alert.unshelve"),
        Binding("A", "ack_cleared", "Ack all cleared", show=False, id="alert.ack_cleared"),
        Binding("b", "runbook", "Runbook", tooltip="Runbook: what the alert means and what to do", id="runbook.open"),
        Binding("i", "detail", "Detail", tooltip="Detail: the alert's fields and its whole life", id="alert.detail"),
        Binding("H", "history", "History", tooltip="History: every transition of every alert", id="alert.history"),
        COPY_BINDING,
        Binding("tab", "focus_next", "Next list", show=False, id="alerts.next_list"),
    ]

    def compose_above(self) -> ComposeResult:
        yield Label("", id="flood")
        yield Static("", id="isa")
        yield Static("", id="isa-top")

    _clusters: frozenset[str] = frozenset()
    """Several clusters: a Cluster column on both lists (``console.screens.columns.show_clusters``)."""

    def on_mount(self) -> None:
        self._clusters = show_clusters(self.grid, self.console.settings.sources)
        show_clusters(self.query_one("#shelved", DataGrid), self.console.settings.sources)
        super().on_mount()
        self.set_interval(ISA_REFRESH_S, self._isa_tick, name="isa")  # "the last hour" moves on without events

    def compose_below(self) -> ComposeResult:
        yield Label("Shelved", id="shelved-title")
        yield DataGrid(SHELVED_COLUMNS, id="shelved", empty_message="No shelved alerts")

    def build_rows(self) -> list[RowData]:
        now = self.console.server_clock.now()
        query = self.filter_query
        alerts = self.store.active_alerts()
        if not query.is_empty:
            store = self.store
            nodes, machines, jobs = store.nodes, store.machines, store.jobs

            def node_of(alert: Alert) -> Node | None:
                node_id = alert_node_id(alert, machines, jobs)
                return None if node_id is None else nodes.get(node_id)

            alerts = [a for a in alerts if query.matches_alert(a, node_of(a), source_name(a, machines, nodes))]
        machines, nodes = self.store.machines, self.store.nodes
        rows = [
            alert_row(a, now, name=source_name(a, machines, nodes))
            for a in sort_alerts(alerts, self.sort_key, self.sort_reverse)
        ]
        return [clustered(row, self._clusters) for row in rows] if self._clusters else rows

    def after_rebuild(self) -> None:
        store = self.store
        now = self.console.server_clock.now()
        shelved = [a for a in store.alerts.values() if a.state == "shelved"]
        shelved.sort(key=lambda a: (a.shelved_until is None, a.shelved_until, a.id))
        machines, nodes = store.machines, store.nodes
        grid = self.query_one("#shelved", DataGrid)
        rows = [shelved_row(a, now, name=source_name(a, machines, nodes)) for a in shelved]
        grid.set_rows([clustered(row, self._clusters) for row in rows] if self._clusters else rows)
        # As tall as its rows (the header and one line when empty), up to max-height: the active list, the one that
        # needs work, keeps the rest of the screen instead of blank lines below one shelved alert.
        grid.styles.height = 1 + max(1, len(shelved))
        self.query_one("#shelved-title", Label).update(f"Shelved ({len(shelved)})")
        raised = alert_flood(store.alerts.values(), now)
        flood = self.query_one("#flood", Label)
        if raised > FLOOD_THRESHOLD:
            flood.update(
                f"{pick('⚠', '!')} ALERT FLOOD: {raised} alerts raised in the last 10 minutes; work them by priority"
            )
            flood.add_class("-shown")
        else:
            flood.remove_class("-shown")
        self.soon(self.update_isa)

    def update_isa(self) -> None:
        """The ISA-18.2 line: figures over the journal's last 24 h, on the server's clock, in words that fit."""
        figures = figures_now(self.store.journal, self.console.server_clock)
        line = self.query_one("#isa", Static)
        if figures is None:
            line.update(Content("ISA-18.2: waiting for the server's time"))
            line.remove_class("-alarm")
            return
        text, abnormal = isa_summary(figures, self.size.width)
        line.update(Content(text))
        line.set_class(abnormal, "-alarm")
        # ISA-18.2's "top 10 most frequent": the bad actors to fix first (codes are the server's text: cleaned)
        top = ", ".join(f"{code} {n}" for code, n in figures.top_codes[:10])
        hours = figures.window.total_seconds() / 3600
        self.query_one("#isa-top", Static).update(Content(clean(f"Most frequent ({hours:g} h): {top or 'none'}", 600)))

    def _isa_tick(self) -> None:
        if self.is_current and not self.console.frozen:
            self.soon(self.update_isa)

    def on_resize(self) -> None:
        if self.ready:
            self.soon(self.update_isa)

    def sort_column(self) -> str | None:
        return {"priority": "priority", "age": "age", "source": "source", "count": "count"}.get(self.sort_key)

    def command_actions(self) -> dict[str, tuple[str, ...]]:
        return {
            "ack": ("alert.ack",),
            "ack_cleared": ("alert.ack",),
            "shelve": ("alert.shelve",),
            "unshelve": ("alert.unshelve",),
        }

    def _targets_here(self) -> list[str]:
        focused = self.focused
        if isinstance(focused, DataGrid) and focused.id == "shelved":
            return [focused.cursor_key] if focused.cursor_key else []
        return self.targets()

    def action_ack(self) -> None:
        ActionFlows(self.console).ack_alerts(self._targets_here())

    def action_ack_cleared(self) -> None:
        """Acknowledge every cleared-unacknowledged alert the filter shows (the ack dialog lists them first)."""
        ids = cleared_unacked(self.store.alerts.get(key) for key in self.grid.keys)
        if not ids:
            where = "the filter shows" if self.query_text else "in the list"
            self.notify(f"No cleared alert waiting for acknowledgement {where}", timeout=2)
            return
        ActionFlows(self.console).ack_alerts(ids)

    def current_target(self) -> tuple[str, str | None]:
        """The alert under the cursor: its source decides which actions are offered (an OPC UA server's alerts can be
        acknowledged, not shelved; the keys it cannot carry are not shown, rather than refused after the fact)."""
        return ("alert", self._cursor_alert_id())

    def on_data_grid_highlighted(self, event: DataGrid.Highlighted) -> None:
        self.target_changed()

    def _cursor_alert_id(self) -> str | None:
        """The alert under the cursor of the focused list (active or shelved)."""
        focused = self.focused
        grid = focused if isinstance(focused, DataGrid) and focused.id == "shelved" else self.grid
        return grid.cursor_key

    def action_detail(self) -> None:
        """``i``: the alert's detail, with its whole life from the journal."""
        alert_id = self._cursor_alert_id()
        if alert_id is None:
            self.notify("No alert under the cursor", timeout=2)
            return
        self.app.push_screen(AlertDetail(alert_id))

    def action_copy(self) -> None:
        """``y``: the alert under the cursor (id, priority, code, source, message)."""
        copy_out(self, copy_alert(self.store, self._cursor_alert_id()))

    def action_history(self) -> None:
        """``H``: every transition of every alert, newest first."""
        self.app.push_screen(AlertHistoryScreen())

    def action_shelve(self) -> None:
        ActionFlows(self.console).shelve_alerts(self._targets_here())

    def action_unshelve(self) -> None:
        ActionFlows(self.console).unshelve_alerts(self._targets_here())

    def action_runbook(self) -> None:
        """``b``: the runbook of the alert under the cursor (of the focused list: active or shelved)."""
        focused = self.focused
        grid = focused if isinstance(focused, DataGrid) and focused.id == "shelved" else self.grid
        alert = self.store.alerts.get(grid.cursor_key) if grid.cursor_key else None
        if alert is None:
            self.notify("No alert under the cursor", timeout=2)
            return
        store = self.store
        source = source_text(alert, source_name(alert, store.machines, store.nodes))
        open_runbook(self, [alert.code], context=f"Alert {alert.id} on {source}")

    def on_data_grid_selected(self, event: DataGrid.Selected) -> None:
        """Enter jumps to the alert's source."""
        event.stop()
        if event.key is None:
            return
        alert = self.store.alerts.get(event.key)
        if alert is None:
            return
        jump_to_source(self, alert.source.kind, alert.source.id)


def cleared_unacked(alerts: Iterable[Alert | None]) -> list[str]:
    """The ids of the alerts that cleared but were never acknowledged (``CLR-UNACK``), in the order given."""
    return [a.id for a in alerts if a is not None and a.state == "cleared_unacked"]


def jump_to_source(screen: Screen[Any], kind: str, ident: str) -> None:
    """Open what an alert is about: a machine's detail, a job's machine, or the node on the dashboard.

    ``screen`` is any screen of the console (the palette passes the one showing), so the store comes from its app."""
    from console.screens.dashboard import DashboardScreen
    from console.screens.machine_detail import open_machine_detail

    app = screen.app
    store = cast(ConsoleHost, app).store
    if kind == "machine" and ident in store.machines:
        open_machine_detail(app, ident)
    elif kind == "job" and (job := store.jobs.get(ident)) is not None and job.machine_id in store.machines:
        open_machine_detail(app, job.machine_id)
    elif kind == "node" and ident in store.nodes:
        app.switch_mode("dashboard")
        dashboard = app.screen
        if isinstance(dashboard, DashboardScreen):
            dashboard.selected_node = ident
            dashboard.rebuild()
    else:
        app.notify(f"The source {kind}:{ident} is not known here", severity="warning", markup=False)
