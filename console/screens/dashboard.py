"""The dashboard (key 1): node strip, machine grid, the selection's job queue, active alerts, cluster quality.

The grid is one Line-API widget. On each flush the screen decides between two costs: when only fields of machines
already shown changed (and not in a way that moves them in the sort or the filter), it swaps those rows in and the
grid repaints only the visible ones; when objects came, went or moved, it moves just those in its placement
(``console.screens.grid_placement``: the order a full sort gives, without sorting 20,000 machines per flush), or,
when that cannot be done, re-filters and re-sorts once.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Label

from console.api.models import Machine, Quality
from console.rules import MACHINE_SORTS, machine_sort_key, sort_alerts, sort_machines
from console.screens.columns import (
    COMPACT_ALERT_COLUMNS,
    QUEUE_COLUMNS,
    alert_row,
    cluster_names,
    job_row,
    source_name,
)
from console.screens.dashboard_facts import (
    StoreMachines,
    alert_counts,
    alerts_stale_note,
    grid_source,
    queue_panel,
    queue_touched,
    stale_machine_ids,
    strip_facts,
)
from console.screens.dashboard_keys import DashboardKeys
from console.screens.flows import ActionFlows
from console.screens.grid_placement import GridPlacement
from console.store.changes import ChangeSet
from console.store.clusters import SEVERAL_ID, cluster_of
from widgets.data_grid import DataGrid
from widgets.machine_grid import MachineGrid
from widgets.node_strip import NodeStrip
from widgets.quality_strip import QualityStrip

if TYPE_CHECKING:
    pass


class DashboardScreen(DashboardKeys):
    """Everything at a glance."""

    SCREEN_TITLE = "Dashboard"
    # Abnormal first by default (ISA-101: the eye goes to what needs action): fault, blocked, paused, then the rest.
    SORTS = sorted(MACHINE_SORTS, key=lambda sort: sort[0] != "state")
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

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    def __init__(self) -> None:
        super().__init__()
        self.selected_node: str | None = None
        self.flows: ActionFlows | None = None
        self.oee_history: deque[float] = deque(maxlen=60)
        self._placement = GridPlacement()
        self._panels_filled = False
        self._strip_signature: object = None
        self._titles: dict[str | None, str] = {}
        self._quality_signature: object = None
        self._layout_chosen = False
        self._machine_source: StoreMachines | None = None

    # --- layout ---------------------------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield NodeStrip(id="nodes", clusters=cluster_names(self.console.settings.sources))
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
        self._placement.place(machines, machine_sort_key(self.sort_key), self._ranks())
        self._machine_source = grid_source(store)
        grid.marked = self.marked
        self._show_machines([m.id for m in machines])
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

    def _ranks(self) -> dict[str, int] | None:
        """The store's order of the machines, when the grid's input is all of them in that order and the sort is
        ascending: then later changes move machines in the placement instead of sorting again (``grid_placement``)."""
        if self.selected_node is not None or self.sort_reverse:
            return None
        return {machine_id: i for i, machine_id in enumerate(self.store.machines)}

    def _show_machines(self, ids: list[str]) -> None:
        """Place ``ids`` in the grid, read live from the store; a snapshot of them while the view is frozen."""
        grid = self.grid
        if self.marked and not self.marked <= (shown := set(ids)):
            self.marked &= shown  # a mark the filter or the node selection hides must not be acted on
            grid.marked = self.marked
        grid.set_view(ids, self.machine_source)
        if self.console.frozen:
            grid.freeze()

    def freeze_view(self) -> None:
        if self.ready:
            self.grid.freeze()

    def apply_changes(self, changes: ChangeSet) -> None:
        """Repaint what changed: swap changed machines into the grid in place (it repaints only visible rows whose
        content changed) unless one of them joins, leaves or moves in the current filter and sort; only then place
        the rows again. Side panels refresh only when their own data changed."""
        if self.needs_rebuild or (not self._panels_filled and self.store.machines):
            # The first data (the snapshot) fills every panel at once: a node strip saying "0" or an alert panel
            # saying "No active alerts" beside a grid full of faults, for the throttle's second, is a wrong answer.
            self._panels_filled = bool(self.store.machines)
            self.rebuild()
            return
        store = self.store
        grid = self.grid
        source = self.machine_source
        placing = self._grid_needs_placing(changes)
        if placing is None:
            self._place_machines()
        elif placing:
            # Moved in place of a full sort (the same order). The grid repaints nothing when the moves were all off
            # screen, so the visible machines among the changed ones are repainted as below.
            self._show_machines(self._placement.order)
            grid.machines_changed(changes.machines)
            grid.machines_changed(changes.telemetry_only)
        elif changes.machines or changes.telemetry_only:
            # The grid reads machines from the store's mapping: it repaints the visible ones among these.
            grid.machines_changed(changes.machines)
            grid.machines_changed(changes.telemetry_only)
        if changes.sources:
            stale = stale_machine_ids(self.store)
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
            counts = alert_counts(self.store)
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

    def _grid_needs_placing(self, changes: ChangeSet) -> bool | None:
        """Did a changed machine join or leave the view, or change what it is sorted by? ``True``: yes, and the
        placement has moved it (its ``order`` is the new one); ``None``: yes, place again in full; ``False``: no."""
        if not changes.machines:
            return False
        query, nodes, selected = self.filter_query, self.store.nodes, self.selected_node

        def belongs(machine: Machine) -> bool:
            return (selected is None or machine.node_id == selected) and (
                query.is_empty or query.matches_machine(machine, nodes.get(machine.node_id))
            )

        return self._placement.reposition(self.store, changes.machines, belongs, machine_sort_key(self.sort_key))

    def _place_machines(self) -> None:
        """Filter and sort again (membership or order changed); the grid keeps its cursor on the same machine."""
        machines = self._visible_machines()
        self._placement.place(machines, machine_sort_key(self.sort_key), self._ranks())
        self._show_machines([m.id for m in machines])

    def _states_changed(self, changes: ChangeSet) -> bool:
        """The node strip counts machines by state: only a state change (or a machine coming or going) moves it."""
        return "machines" in changes.structure_tables

    def _queue_touched(self, job_ids: set[str]) -> bool:
        return queue_touched(self.store, job_ids, set(self.queue.keys), self.grid.cursor_id, self.selected_node)

    def _refresh_nodes(self) -> None:
        facts = strip_facts(self.store)
        strip = self.query_one("#nodes", NodeStrip)
        if facts.signature != self._strip_signature:  # repaint the strip only when what it shows changed
            self._strip_signature = facts.signature
            strip.set_nodes(facts.nodes, facts.counts, facts.alerts)
        strip.select(self.selected_node, notify=False)

    def _title(self, label: Label, text: str) -> None:
        """Set a panel title, repainting only when its words changed."""
        if self._titles.get(label.id) != text:
            self._titles[label.id] = text
            label.update(Content(text))  # plain: a title may name a source or node

    def _refresh_queue(self) -> None:
        store = self.store
        title, jobs = queue_panel(store, self.grid.cursor_id, self.selected_node)
        self._title(self.query_one("#queue-title", Label), title)
        now = self.console.server_clock.now()
        self.queue.set_rows([job_row(j, store.nodes, store.machines, queue=True, now=now) for j in jobs])

    def _refresh_alerts(self) -> None:
        store = self.store
        now = self.console.server_clock.now()
        alerts = sort_alerts(store.active_alerts())
        note = alerts_stale_note(store, alerts)
        self._title(self.query_one("#alerts-title", Label), f"Active alerts ({len(alerts)}){note}")
        machines, nodes = store.machines, store.nodes
        self.alert_list.set_rows(
            [alert_row(a, now, compact=True, name=source_name(a, machines, nodes)) for a in alerts]
        )

    def _refresh_quality(self) -> None:
        store = self.store
        cluster = store.cluster
        cluster_quality = None if cluster is None else store.quality.get(("cluster", cluster.id))
        if cluster_quality is None and (cluster is None or cluster.id != SEVERAL_ID):
            # Several clusters: no one cluster's OEE is shown as if it were everyone's (docs/multi-cluster.md).
            cluster_quality = next((q for q in store.quality.values() if q.scope == "cluster"), None)
        if cluster_quality is not None and (not self.oee_history or self.oee_history[-1] != cluster_quality.oee):
            self.oee_history.append(cluster_quality.oee)
        per_cluster: list[tuple[str, Quality]] = []
        if cluster_quality is None and cluster is not None and cluster.id == SEVERAL_ID:
            names = cluster_names(self.console.settings.sources)
            found = [(cluster_of(q.id, names), q) for q in store.quality.values() if q.scope == "cluster"]
            per_cluster = sorted(((name, q) for name, q in found if name), key=lambda pair: pair[0])
        signature = (cluster_quality, tuple(self.oee_history), tuple(per_cluster))
        if signature != self._quality_signature:
            self._quality_signature = signature
            strip = self.query_one("#quality", QualityStrip)
            strip.set_quality(cluster_quality, list(self.oee_history), per_cluster)

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
        from console.screens.machine_detail import open_machine_detail

        open_machine_detail(self.app, machine_id)

    def on_machine_grid_mark_toggled(self, event: MachineGrid.MarkToggled) -> None:
        event.stop()
        self.marked ^= {event.machine_id}
        self.marks_changed()

    def on_data_grid_mark_toggled(self, event: DataGrid.MarkToggled) -> None:
        event.stop()
        grid = event.control
        if isinstance(grid, DataGrid) and event.key is not None:
            grid.marked ^= {event.key}
            grid.refresh_keys([event.key])

    def on_data_grid_selected(self, event: DataGrid.Selected) -> None:
        event.stop()
        if event.key is None:
            return
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

    # --- keys: DashboardKeys; what escape does here ------------------------------------------------------------

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
