"""Nodes (key 5): every node with location, state, machines by state, queue depth, source and last seen."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from console.copy_text import id_copy
from console.formatting import duration
from console.rules import NODE_SORTS, node_sort_key
from console.screens.columns import NODE_COLUMNS, clustered, node_row, show_clusters
from console.screens.copying import COPY_BINDING, copy_out
from console.screens.flows import ActionFlows
from console.screens.list_screen import ListScreen
from console.store.changes import ChangeSet
from widgets.data_grid import DataGrid, RowData


class NodesScreen(ListScreen):
    SCREEN_TITLE = "Nodes"
    SORTS = NODE_SORTS
    COLUMNS = NODE_COLUMNS
    EMPTY = "No nodes match the filter"
    TABLES = frozenset({"nodes", "machines", "jobs", "alerts", "sources"})

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "node", "Drain/Resume node", id="node.pause"),
        Binding(
            "T",
            "timeline",
            "Timeline",
            tooltip="Timeline: what happened to the node and its machines",
            id="timeline.open",
        ),
        COPY_BINDING,
    ]

    _clusters: frozenset[str] = frozenset()
    """Several clusters: a Cluster column (``console.screens.columns.show_clusters``)."""

    def on_mount(self) -> None:
        self._clusters = show_clusters(self.grid, self.console.settings.sources)
        super().on_mount()

    def build_rows(self) -> list[RowData]:
        store = self.store
        now = self.console.server_clock.now()
        jobs, by_node = store.jobs, store.jobs_by_node_index
        queue = {  # counted from the index, not jobs_for_node, which sorts every node's jobs (issue 15: 200 sorts
            # of ~400 jobs on each switch to this screen at 20,000 machines, most of its catch-up)
            node_id: sum(1 for jid in by_node.get(node_id) if jobs[jid].status in ("queued", "assigned"))
            for node_id in store.nodes
        }
        alerts: dict[str, int] = {}
        for alert in store.active_alerts():
            node_id = alert.source.id if alert.source.kind == "node" else None
            if alert.source.kind == "machine" and (m := store.machines.get(alert.source.id)) is not None:
                node_id = m.node_id
            if node_id:
                alerts[node_id] = alerts.get(node_id, 0) + 1
        query = self.filter_query
        nodes = [n for n in store.nodes.values() if query.is_empty or query.matches_node(n)]
        nodes.sort(key=node_sort_key(self.sort_key, queue, alerts), reverse=self.sort_reverse)
        rows = []
        for node in nodes:
            source = store.node_source(node.id) or "-"
            state = store.source_state(source) if source != "-" else None
            serving = {s.source_id: s for s in store.node_sources(node.id)}.get(source)
            label = source
            if serving is not None and serving.age_s is not None:
                label = f"{source} · {duration(serving.age_s)}"
            if state not in (None, "live"):
                label = f"{label} ({state})"
            rows.append(
                node_row(
                    node, store.counts_by_state(node.id), queue.get(node.id, 0), alerts.get(node.id, 0), label, now
                )
            )
        return [clustered(row, self._clusters) for row in rows] if self._clusters else rows

    def apply_changes(self, changes: ChangeSet) -> None:
        """Counts of 20,000 machines, 100,000 jobs and the alerts over 200 nodes take ~40 ms to build, and some count
        moves in every flush under load: rebuild at most once per ``panel_interval_s`` (as the dashboard's node
        strip), at once only when nodes themselves changed."""
        if self.needs_rebuild or changes.nodes or "nodes" in changes.structure_tables:
            self.rebuild()
        elif changes.structure or self._touches(changes):
            self.soon(self.rebuild)

    def sort_column(self) -> str | None:
        return {"name": "name", "state": "state", "queue": "queue", "alerts": "alerts"}.get(self.sort_key)

    def command_actions(self) -> dict[str, tuple[str, ...]]:
        return {"node": ("node.pause", "node.resume")}

    def action_node(self) -> None:
        ActionFlows(self.console).drain_or_resume_node(self.grid.cursor_key)

    def action_timeline(self) -> None:
        from console.screens.timeline import open_timeline

        open_timeline(self, "node", self.grid.cursor_key)

    def action_copy(self) -> None:
        """``y``: the id of the node under the cursor."""
        node_id = self.grid.cursor_key
        copy_out(self, id_copy("node", node_id) if node_id else None)

    def on_data_grid_selected(self, event: DataGrid.Selected) -> None:
        """Enter opens the node: its sources, their ages and disagreements, its alerts."""
        event.stop()
        if event.key is None:
            return
        from console.screens.node_detail import NodeDetailScreen

        self.app.push_screen(NodeDetailScreen(event.key))
