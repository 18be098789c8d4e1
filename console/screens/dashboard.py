"""The dashboard (key 1): node strip, machine grid, the selection's job queue, active alerts, cluster quality.

The grid is one Line-API widget. On each flush the screen decides between two costs: when only fields of machines
already shown changed (and not in a way that moves them in the sort or the filter), it swaps those rows in and the
grid repaints only the visible ones; when objects came, went or moved, it re-filters and re-sorts once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Label

from console.api.models import Job, Machine
from console.rules import MACHINE_SORTS, machine_sort_key, sort_alerts, sort_machines
from console.screens.base import ConsoleScreen
from console.screens.columns import COMPACT_ALERT_COLUMNS, QUEUE_COLUMNS, alert_row, job_row
from console.screens.flows import ActionFlows
from console.store.changes import ChangeSet
from widgets.data_grid import DataGrid
from widgets.machine_grid import MachineGrid
from widgets.node_strip import NodeStrip
from widgets.quality_strip import QualityStrip
from widgets.safe_text import clean

if TYPE_CHECKING:
    from console.store.store import Store


@dataclass(eq=False)
class StoreMachines:
    """The machine grid's source (:class:`widgets.machine_source.MachineSource`) over the store: machines, jobs and
    telemetry are read live from the store when a line is drawn; node names, alert counts and stale flags are worked
    out by the screen, which repaints the machines whose facts it changed."""

    store: Store
    node_names: dict[str, str] = field(default_factory=dict)
    alert_counts: dict[str, int] = field(default_factory=dict)
    stale_ids: set[str] = field(default_factory=set)
    stale: bool = False

    @property
    def machines(self) -> Mapping[str, Machine]:
        return self.store.machines

    @property
    def jobs(self) -> Mapping[str, Job]:
        return self.store.jobs

    def telemetry(self, machine: Machine) -> Mapping[str, float]:
        """Current values: the store keeps telemetry apart from the machine objects."""
        return self.store.machine_telemetry(machine.id)


class DashboardScreen(ConsoleScreen):
    """Everything at a glance."""

    SCREEN_TITLE = "Dashboard"
    SORTS = MACHINE_SORTS
    DEFAULT_CSS = """
    DashboardScreen #main { height: 1fr; }
    DashboardScreen #side { width: 64; display: block; }
    DashboardScreen #side Label { color: $text-muted; text-style: bold; padding: 0 1; width: 1fr; }
    DashboardScreen #queue { height: 1fr; }
    DashboardScreen #alerts { height: 1fr; }
    DashboardScreen.-narrow #side { display: none; }
    DashboardScreen NodeStrip { height: auto; max-height: 4; }
    DashboardScreen.-narrow NodeStrip { max-height: 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause", "Pause/Resume", id="machine.pause"),
        Binding("c", "ready", "Clear (ready)", id="machine.ready"),
        Binding("n", "node", "Drain node", id="node.pause"),
        Binding("r", "reroute", "Reroute", id="job.reroute"),
        Binding("x", "cancel_job", "Cancel job", id="job.cancel"),
        Binding("a", "ack", "Ack", id="alert.ack"),
        Binding("s", "shelve", "Shelve", id="alert.shelve"),
        Binding("S", "unshelve", "Unshelve", show=False, id="alert.unshelve"),
        Binding("t", "toggle_layout", "Tiles/table", id="view.layout"),
        Binding("tab", "focus_next", "Next panel", show=False, id="view.next_panel"),
        Binding("shift+tab", "focus_previous", "Previous panel", show=False, id="view.previous_panel"),
    ]

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (120, "-wide")]

    def __init__(self) -> None:
        super().__init__()
        self.selected_node: str | None = None
        self.flows: ActionFlows | None = None
        self.oee_history: deque[float] = deque(maxlen=60)
        self._shown_ids: set[str] = set()
        self._sort_values: dict[str, object] = {}
        self._strip_signature: object = None
        self._titles: dict[str | None, str] = {}
        self._quality_signature: object = None
        self._layout_chosen = False
        self._machine_source: StoreMachines | None = None

    # --- layout ---------------------------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield NodeStrip(id="nodes")
        with Horizontal(id="main"):
            yield MachineGrid(id="grid")
            with Vertical(id="side"):
                yield Label("Queue", id="queue-title")
                yield DataGrid(QUEUE_COLUMNS, id="queue", empty_message="No jobs queued here")
                yield Label("Active alerts", id="alerts-title")
                yield DataGrid(COMPACT_ALERT_COLUMNS, id="alerts", empty_message="No active alerts")
        yield QualityStrip(id="quality")

    def on_mount(self) -> None:
        super().on_mount()
        self.flows = ActionFlows(self.console)
        self.grid.focus()

    def on_resize(self) -> None:
        # At 80 columns the dense table reads better than tiles; the operator can still toggle with `t`.
        if not self._layout_chosen:
            self.grid.grid_layout = "table" if self.size.width < 120 else "tiles"

    @property
    def grid(self) -> MachineGrid:
        return self.query_one("#grid", MachineGrid)

    @property
    def queue(self) -> DataGrid:
        return self.query_one("#queue", DataGrid)

    @property
    def alert_list(self) -> DataGrid:
        return self.query_one("#alerts", DataGrid)

    def focus_main(self) -> None:
        self.grid.focus()

    # --- data -----------------------------------------------------------------------------------------------------

    def _visible_machines(self) -> list[Machine]:
        store = self.store
        if self.selected_node is not None:
            machines = store.machines_by_node(self.selected_node)
        else:
            machines = list(store.machines.values())
        query = self.filter_query
        if not query.is_empty:
            nodes = store.nodes
            machines = [m for m in machines if query.matches_machine(m, nodes.get(m.node_id))]
        return sort_machines(machines, self.sort_key, self.sort_reverse)

    def rebuild(self) -> None:
        super().rebuild()
        store = self.store
        grid = self.grid
        machines = self._visible_machines()
        self._shown_ids = {m.id for m in machines}
        key = machine_sort_key(self.sort_key)
        self._sort_values = {m.id: key(m) for m in machines}
        self._machine_source = StoreMachines(
            store,
            node_names={n.id: n.name for n in store.nodes.values()},
            alert_counts=self._alert_counts(),
            stale_ids=self._stale_machine_ids(),
        )
        grid.marked = self.marked
        self._show_machines(machines)
        self._refresh_nodes()
        self._refresh_queue()
        self._refresh_alerts()
        self._refresh_quality()

    @property
    def machine_source(self) -> StoreMachines:
        """The grid's live source (made by :meth:`rebuild`)."""
        if self._machine_source is None:
            self._machine_source = StoreMachines(self.store)
        return self._machine_source

    def _show_machines(self, machines: list[Machine]) -> None:
        """Place ``machines`` in the grid, read live from the store; a snapshot of them while the view is frozen."""
        grid = self.grid
        grid.set_view([m.id for m in machines], self.machine_source)
        if self.console.frozen:
            grid.freeze()

    def freeze_view(self) -> None:
        if self.ready:
            self.grid.freeze()

    def apply_changes(self, changes: ChangeSet) -> None:
        """Repaint what changed: swap changed machines into the grid in place (it repaints only visible rows whose
        content changed) unless one of them joins, leaves or moves in the current filter and sort; only then place
        the rows again. Side panels refresh only when their own data changed."""
        if self.needs_rebuild:
            self.rebuild()
            return
        store = self.store
        grid = self.grid
        source = self.machine_source
        if self._grid_needs_placing(changes):
            self._place_machines()
        elif changes.machines or changes.telemetry_only:
            # The grid reads machines from the store's mapping: it repaints the visible ones among these.
            grid.machines_changed(changes.machines)
            grid.machines_changed(changes.telemetry_only)
        if changes.sources:
            stale = self._stale_machine_ids()
            if stale != source.stale_ids:
                flipped = stale ^ source.stale_ids
                source.stale_ids = stale
                grid.refresh_ids(flipped)
            self.soon(self._refresh_queue)
            self.soon(self._refresh_alerts)
        if changes.nodes:
            names = {n.id: n.name for n in store.nodes.values()}
            if names != source.node_names:
                source.node_names = names
                grid.refresh()
        if changes.jobs:
            grid.refresh_ids({j.machine_id for i in changes.jobs if (j := store.jobs.get(i)) and j.machine_id})
            if self._queue_touched(changes.jobs):
                self.soon(self._refresh_queue)
        if changes.alerts:
            counts = self._alert_counts()
            if counts != source.alert_counts:
                shown = source.alert_counts
                flipped = {k for k in counts.keys() | shown.keys() if counts.get(k) != shown.get(k)}
                source.alert_counts = counts
                grid.refresh_ids(flipped)
            self.soon(self._refresh_alerts)
        if changes.nodes or changes.alerts or changes.sources or self._states_changed(changes):
            self.soon(self._refresh_nodes)
        if changes.quality:
            self._refresh_quality()

    def _grid_needs_placing(self, changes: ChangeSet) -> bool:
        """Did a changed machine join or leave the view, or change what it is sorted by?"""
        if not changes.machines:
            return False
        store = self.store
        query = self.filter_query
        key = machine_sort_key(self.sort_key)
        nodes = store.nodes
        selected = self.selected_node
        for machine_id in changes.machines:
            machine = store.machines.get(machine_id)
            shown = machine_id in self._shown_ids
            if machine is None:
                if shown:
                    return True
                continue
            belongs = (selected is None or machine.node_id == selected) and (
                query.is_empty or query.matches_machine(machine, nodes.get(machine.node_id))
            )
            if belongs != shown or (shown and key(machine) != self._sort_values.get(machine_id)):
                return True
        return False

    def _place_machines(self) -> None:
        """Filter and sort again (membership or order changed); the grid keeps its cursor on the same machine."""
        machines = self._visible_machines()
        self._shown_ids = {m.id for m in machines}
        key = machine_sort_key(self.sort_key)
        self._sort_values = {m.id: key(m) for m in machines}
        self._show_machines(machines)

    def _states_changed(self, changes: ChangeSet) -> bool:
        """The node strip counts machines by state: only a state change (or a machine coming or going) moves it."""
        return "machines" in changes.structure_tables

    def _queue_touched(self, job_ids: set[str]) -> bool:
        """Does the queue panel show, or should it now show, any of these jobs?"""
        shown = set(self.queue.keys)
        if shown & job_ids:
            return True
        store = self.store
        machine_id = self.grid.cursor_id
        for job_id in job_ids:
            job = store.jobs.get(job_id)
            if job is None:
                continue
            if machine_id is not None:
                if job.machine_id == machine_id:
                    return True
            elif self.selected_node is not None:
                if job.node_id == self.selected_node:
                    return True
            elif job.node_id is None:
                return True
        return False

    def _alert_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for alert in self.store.active_alerts():
            if alert.source.kind == "machine":
                counts[alert.source.id] = counts.get(alert.source.id, 0) + 1
        return counts

    def _stale_machine_ids(self) -> set[str]:
        """Machines whose node is served by a source that is not live (their values may be old)."""
        store = self.store
        stale_nodes = {
            node_id
            for node_id in store.nodes
            if (source := store.node_source(node_id)) is not None and store.source_state(source) != "live"
        }
        if not stale_nodes:
            return set()
        return {m.id for node_id in stale_nodes for m in store.machines_by_node(node_id)}

    def _refresh_nodes(self) -> None:
        store = self.store
        alerts_by_node: dict[str, int] = {}
        for alert in store.active_alerts():
            node_id = self._alert_node(alert)
            if node_id:
                alerts_by_node[node_id] = alerts_by_node.get(node_id, 0) + 1
        nodes = sorted(store.nodes.values(), key=lambda n: n.name)
        # A node whose source is not live shows the word "stale" instead of a state that may no longer be true.
        nodes = [
            n.model_copy(update={"state": "stale"})
            if (source := store.node_source(n.id)) is not None and store.source_state(source) != "live"
            else n
            for n in nodes
        ]
        strip = self.query_one("#nodes", NodeStrip)
        counts = {n.id: store.counts_by_state(n.id) for n in nodes}
        signature = ([(n.id, n.name, n.state) for n in nodes], counts, alerts_by_node)
        if signature != self._strip_signature:  # repaint the strip only when what it shows changed
            self._strip_signature = signature
            strip.set_nodes(nodes, counts, alerts_by_node)
        strip.select(self.selected_node, notify=False)

    def _alert_node(self, alert) -> str | None:
        store = self.store
        kind, ident = alert.source.kind, alert.source.id
        if kind == "node":
            return ident
        if kind == "machine":
            machine = store.machines.get(ident)
            return machine.node_id if machine else None
        if kind == "job":
            job = store.jobs.get(ident)
            return job.node_id if job else None
        return None

    def _title(self, label: Label, text: str) -> None:
        """Set a panel title, repainting only when its words changed."""
        if self._titles.get(label.id) != text:
            self._titles[label.id] = text
            label.update(Content(text))  # plain: a title may name a source or node

    def _stale_note(self) -> str:
        """A word for panel titles while any source is not live: what is shown may be old."""
        store = self.store
        down = [s for s in store.sources if store.source_state(s) != "live"]
        return f"  · STALE ({', '.join(clean(s, 20) for s in down)} not live)" if down else ""

    def _refresh_queue(self) -> None:
        store = self.store
        machine_id = self.grid.cursor_id
        title = self.query_one("#queue-title", Label)
        if machine_id is not None:
            jobs = store.jobs_for_machine(machine_id)
            self._title(title, f"Queue of {clean(machine_id, 30)} ({len(jobs)}){self._stale_note()}")
        elif self.selected_node is not None:
            jobs = store.jobs_for_node(self.selected_node)
            self._title(title, f"Queue of node {clean(self.selected_node, 30)} ({len(jobs)}){self._stale_note()}")
        else:
            jobs = store.backlog()
            self._title(title, f"Cluster backlog ({len(jobs)}){self._stale_note()}")
        self.queue.set_rows([job_row(j, store.nodes, store.machines, queue=True) for j in jobs])

    def _refresh_alerts(self) -> None:
        store = self.store
        now = self.console.server_clock.now()
        alerts = sort_alerts(store.active_alerts())
        self._title(self.query_one("#alerts-title", Label), f"Active alerts ({len(alerts)}){self._stale_note()}")
        self.alert_list.set_rows([alert_row(a, now, compact=True) for a in alerts])

    def _refresh_quality(self) -> None:
        store = self.store
        cluster_quality = next((q for q in store.quality.values() if q.scope == "cluster"), None)
        if cluster_quality is not None and (not self.oee_history or self.oee_history[-1] != cluster_quality.oee):
            self.oee_history.append(cluster_quality.oee)
        signature = (cluster_quality, tuple(self.oee_history))
        if signature != self._quality_signature:
            self._quality_signature = signature
            self.query_one("#quality", QualityStrip).set_quality(cluster_quality, list(self.oee_history))

    # --- widget messages ------------------------------------------------------------------------------------------

    def on_machine_grid_highlighted(self, event: MachineGrid.Highlighted) -> None:
        event.stop()
        self._refresh_queue()
        self.target_changed()

    def on_data_grid_highlighted(self, event: DataGrid.Highlighted) -> None:
        event.stop()
        self.target_changed()

    def current_target(self) -> tuple[str, str | None]:
        focused = self.focused
        if isinstance(focused, DataGrid):
            return ("job" if focused.id == "queue" else "alert", focused.cursor_key)
        return ("machine", self.grid.cursor_id)

    def on_machine_grid_selected(self, event: MachineGrid.Selected) -> None:
        event.stop()
        self.open_machine(event.machine_id)

    def open_machine(self, machine_id: str) -> None:
        from console.screens.machine_detail import MachineDetailScreen

        self.app.push_screen(MachineDetailScreen(machine_id))

    def on_machine_grid_mark_toggled(self, event: MachineGrid.MarkToggled) -> None:
        event.stop()
        self.marked ^= {event.machine_id}
        self.marks_changed()

    def on_data_grid_mark_toggled(self, event: DataGrid.MarkToggled) -> None:
        event.stop()
        grid = event.control
        grid.marked ^= {event.key}
        grid.refresh_keys([event.key])

    def on_data_grid_selected(self, event: DataGrid.Selected) -> None:
        event.stop()
        if event.control.id == "alerts":
            self.jump_to_alert_source(event.key)
        elif event.control.id == "queue":
            job = self.store.jobs.get(event.key)
            if job is not None and job.machine_id:
                self.grid.move_cursor_to(job.machine_id)
                self.grid.focus()

    def jump_to_alert_source(self, alert_id: str) -> None:
        alert = self.store.alerts.get(alert_id)
        if alert is None:
            return
        kind, ident = alert.source.kind, alert.source.id
        if kind == "machine" and ident in self.store.machines:
            self.open_machine(ident)
        elif kind == "job" and (job := self.store.jobs.get(ident)) and job.machine_id:
            self.open_machine(job.machine_id)
        elif kind == "node":
            self.selected_node = ident
            self.rebuild()

    def on_node_strip_selected(self, event: NodeStrip.Selected) -> None:
        event.stop()
        self.selected_node = event.node_id
        self.rebuild()

    def marks_changed(self) -> None:
        grid = self.grid
        grid.marked = self.marked
        grid.refresh()

    def current_key(self) -> str | None:
        focused = self.focused
        if isinstance(focused, DataGrid):
            return focused.cursor_key
        return self.grid.cursor_id

    # --- actions --------------------------------------------------------------------------------------------------

    def command_actions(self) -> dict[str, tuple[str, ...]]:
        return {
            "pause": ("machine.pause", "machine.resume", "job.pause", "job.resume"),
            "ready": ("machine.ready",),
            "node": ("node.pause", "node.resume"),
            "reroute": ("job.reroute",),
            "cancel_job": ("job.cancel",),
            "ack": ("alert.ack",),
            "shelve": ("alert.shelve",),
            "unshelve": ("alert.unshelve",),
        }

    def _focused_list(self) -> str:
        focused = self.focused
        if isinstance(focused, DataGrid):
            return focused.id or ""
        return "grid"

    def _targets(self) -> list[str]:
        """The marked items of the focused list, or the one under its cursor."""
        focused = self.focused
        if isinstance(focused, DataGrid):
            if focused.marked:
                return sorted(focused.marked)
            return [focused.cursor_key] if focused.cursor_key else []
        if self.marked:
            return sorted(self.marked)
        return [self.grid.cursor_id] if self.grid.cursor_id else []

    def action_pause(self) -> None:
        assert self.flows is not None
        where = self._focused_list()
        if where == "queue":
            self.flows.pause_or_resume_jobs(self._targets())
        elif where == "grid":
            self.flows.pause_or_resume_machines(self._targets())

    def action_ready(self) -> None:
        assert self.flows is not None
        if self._focused_list() == "grid":
            self.flows.ready_machines(self._targets())

    def action_node(self) -> None:
        assert self.flows is not None
        node_id = self.selected_node
        machine = self.store.machines.get(self.grid.cursor_id or "")
        if self._focused_list() == "grid" and machine is not None:
            node_id = machine.node_id
        self.flows.drain_or_resume_node(node_id)

    def action_reroute(self) -> None:
        assert self.flows is not None
        where = self._focused_list()
        if where == "queue":
            self.flows.reroute_job(self.queue.cursor_key)
            return
        machine = self.store.machines.get(self.grid.cursor_id or "")
        if machine is None:
            return
        job_id = machine.job_id
        if job_id is None:
            queued = self.store.jobs_for_machine(machine.id)
            job_id = queued[0].id if queued else None
        self.flows.reroute_job(job_id)

    def action_cancel_job(self) -> None:
        assert self.flows is not None
        if self._focused_list() == "queue":
            self.flows.cancel_jobs(self._targets())
        else:
            machine = self.store.machines.get(self.grid.cursor_id or "")
            if machine is not None and machine.job_id:
                self.flows.cancel_jobs([machine.job_id])

    def action_ack(self) -> None:
        assert self.flows is not None
        if self._focused_list() == "alerts":
            self.flows.ack_alerts(self._targets())
        else:
            machine_id = self.grid.cursor_id
            if machine_id:
                self.flows.ack_alerts([a.id for a in self.store.alerts_for("machine", machine_id)])

    def action_shelve(self) -> None:
        assert self.flows is not None
        if self._focused_list() == "alerts":
            self.flows.shelve_alerts(self._targets())

    def action_unshelve(self) -> None:
        assert self.flows is not None
        if self._focused_list() == "alerts":
            self.flows.unshelve_alerts(self._targets())

    def action_back(self) -> None:
        """Escape: marks, then the filter, then the node selection."""
        if not self.marked and not self.query_text and self.selected_node is not None:
            self.selected_node = None
            self.rebuild()
            return
        super().action_back()

    def action_toggle_layout(self) -> None:
        self._layout_chosen = True
        grid = self.grid
        grid.grid_layout = "table" if grid.grid_layout == "tiles" else "tiles"
