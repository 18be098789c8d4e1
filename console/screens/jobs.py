"""Jobs (key 2): every job with status, machine, node, priority, due time, ETA and an at-risk flag.

The cluster backlog (jobs no node has taken yet) comes first by default: it is the work nobody is doing.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from console.rows import JOB_COLUMNS, JOB_SORTS, job_row, sort_jobs
from console.screens.actions import ActionFlows
from console.screens.list_screen import ListScreen
from widgets.data_grid import DataGrid, RowData


class JobsScreen(ListScreen):
    SCREEN_TITLE = "Jobs"
    SORTS = JOB_SORTS
    COLUMNS = JOB_COLUMNS
    EMPTY = "No jobs match the filter"
    TABLES = frozenset({"jobs"})

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause", "Pause/Resume", id="job.pause"),
        Binding("x", "cancel_job", "Cancel", id="job.cancel"),
        Binding("r", "reroute", "Reroute", id="job.reroute"),
    ]

    def build_rows(self) -> list[RowData]:
        store = self.store
        query = self.filter_query
        jobs = store.jobs.values()
        if not query.is_empty:
            nodes = store.nodes
            jobs = [j for j in jobs if query.matches_job(j, nodes.get(j.node_id) if j.node_id else None)]
        ordered = sort_jobs(jobs, self.sort_key, self.sort_reverse)
        return [job_row(j, store.nodes, store.machines) for j in ordered]

    def sort_column(self) -> str | None:
        return {
            "backlog": "node",
            "due": "due",
            "priority": "priority",
            "status": "status",
            "eta": "eta",
            "machine": "machine",
        }.get(self.sort_key)

    def current_target(self) -> tuple[str, str | None]:
        return ("job", self.grid.cursor_key)

    def on_data_grid_highlighted(self, event: DataGrid.Highlighted) -> None:
        event.stop()
        self.target_changed()

    def command_actions(self) -> dict[str, tuple[str, ...]]:
        return {"pause": ("job.pause", "job.resume"), "cancel_job": ("job.cancel",), "reroute": ("job.reroute",)}

    def action_pause(self) -> None:
        ActionFlows(self.console).pause_or_resume_jobs(self.targets())

    def action_cancel_job(self) -> None:
        ActionFlows(self.console).cancel_jobs(self.targets())

    def action_reroute(self) -> None:
        ActionFlows(self.console).reroute_job(self.grid.cursor_key)

    def on_data_grid_selected(self, event: DataGrid.Selected) -> None:
        event.stop()
        job = self.store.jobs.get(event.key)
        if job is not None and job.machine_id and job.machine_id in self.store.machines:
            from console.screens.machine_detail import MachineDetailScreen

            self.app.push_screen(MachineDetailScreen(job.machine_id))
