"""Jobs (key 2): every job with status, machine, node, priority, due time, ETA and its risk: ``LATE 14m`` when
overdue (due time passed on the server's clock, not done), ``AT RISK`` when its ETA is past its due time. An ETA that
cannot be met is shown as ``late`` or ``?``, never as a time already past (``console.rules.job_eta``).

The cluster backlog (jobs no node has taken yet) comes first by default: it is the work nobody is doing. ``enter``
opens the job's detail (``console.screens.job_detail``).

The list can hold 100,000 jobs, so it costs what changes and what is on screen: the filtered jobs are kept in a
sorted list of ``(sort value, id)``, a flush moves only the changed jobs in it (``bisect``), and the grid formats a
row only when it is drawn (``DataGrid.set_keys``). A full filter and sort (~65 ms at 100,000 jobs) happens only when
the filter or the sort order changes; formatting every row used to take a second on every flush.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from datetime import datetime, timedelta
from typing import Any, ClassVar

from textual.binding import Binding, BindingType

from console.api.models import Job
from console.rules import JOB_SORTS, job_sort_key
from console.screens.columns import JOB_COLUMNS, clustered, job_row, show_clusters
from console.screens.copying import COPY_BINDING, copy_job, copy_out
from console.screens.flows import ActionFlows
from console.screens.list_screen import ListScreen
from console.store.changes import ChangeSet
from widgets.data_grid import DataGrid, RowData


class JobsScreen(ListScreen):
    SCREEN_TITLE = "Jobs"
    SORTS = JOB_SORTS
    COLUMNS = JOB_COLUMNS
    EMPTY = "No jobs yet"
    TABLES = frozenset({"jobs"})

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause", "Pause/Resume", id="job.pause"),
        Binding("x", "cancel_job", "Cancel", id="job.cancel"),
        Binding("r", "reroute", "Reroute", id="job.reroute"),
        Binding("T", "timeline", "Timeline", tooltip="Timeline: what happened to the job", id="timeline.open"),
        COPY_BINDING,
    ]

    _order: list[tuple[Any, str]]
    """The shown jobs as ``(sort value, id)``, ascending (ids make every entry distinct)."""
    _sort_values: dict[str, Any]
    """Each shown job's sort value, to find it in ``_order``."""
    _sorted_at: datetime | None = None
    """The server time of the last full sort: rows say how late a job is and some sorts move with the clock alone,
    so the list is sorted and formatted afresh once ``REFRESH_EVERY`` of server time has passed."""
    REFRESH_EVERY = timedelta(seconds=60)

    SORT_COLUMNS: ClassVar[dict[str, str]] = {
        "backlog": "node",
        "risk": "risk",
        "due": "due",
        "priority": "priority",
        "status": "status",
        "eta": "eta",
        "machine": "machine",
    }
    """The column that carries the sort arrow for each sort; its header starts the sort's description (the toast)."""

    def _matches(self, job: Job) -> bool:
        query = self.filter_query
        if query.is_empty:
            return True
        return query.matches_job(job, self.store.nodes.get(job.node_id) if job.node_id else None)

    _clusters: frozenset[str] = frozenset()
    """Several clusters: a Cluster column (``console.screens.columns.show_clusters``)."""

    def on_mount(self) -> None:
        self._clusters = show_clusters(self.grid, self.console.settings.sources)
        super().on_mount()

    def build_rows(self) -> list[RowData]:
        """Every shown row, formatted (for callers that want them all; the grid itself builds rows lazily)."""
        self._sort_all()
        return [row for job_id in self._keys() if (row := self._row_of(job_id)) is not None]

    def fill_grid(self, grid: DataGrid) -> None:
        self._sort_all()
        grid.set_keys(self._keys(), self._row_of)

    def _now(self) -> datetime | None:
        return self.console.server_clock.now()

    def _sort_all(self) -> None:
        now = self._now()
        self._sorted_at = now
        key = job_sort_key(self.sort_key, now)
        values = {job.id: key(job) for job in self.store.jobs.values() if self._matches(job)}
        self._sort_values = values
        self._order = sorted((value, job_id) for job_id, value in values.items())

    def _keys(self) -> list[str]:
        keys = [job_id for _, job_id in self._order]
        if self.sort_reverse:
            keys.reverse()
        return keys

    def _row_of(self, job_id: str) -> RowData | None:
        store = self.store
        job = store.jobs.get(job_id)
        if job is None:
            return None
        row = job_row(job, store.nodes, store.machines, now=self._now())
        return clustered(row, self._clusters) if self._clusters else row

    def apply_changes(self, changes: ChangeSet) -> None:
        """Move only the changed jobs in the sorted order; repaint only changed rows when the order stands."""
        if self.needs_rebuild or not hasattr(self, "_order") or self._clock_moved():
            self.rebuild()
            return
        grid = self.grid
        if changes.nodes:
            if not self.filter_query.is_empty:  # a filter may name node fields: decide membership again
                self.rebuild()
                return
            grid.set_keys(self._keys(), self._row_of)  # rows show node cities: format the visible ones again
        if not changes.jobs:
            return
        jobs = self.store.jobs
        key = job_sort_key(self.sort_key, self._sorted_at)
        order, values = self._order, self._sort_values
        moved = False
        for job_id in changes.jobs:
            job = jobs.get(job_id)
            old = values.get(job_id)
            new = key(job) if job is not None and self._matches(job) else None
            if old == new and old is not None:
                continue  # same place: only its row changes
            moved = True
            if old is not None:
                del order[bisect_left(order, (old, job_id))]
                del values[job_id]
            if new is not None:
                insort(order, (new, job_id))
                values[job_id] = new
        if moved:
            grid.set_keys(self._keys(), self._row_of)
        else:
            grid.rows_changed(changes.jobs)

    def _clock_moved(self) -> bool:
        """Has the server's clock moved on enough since the last full sort to sort and format again?"""
        now, then = self._now(), self._sorted_at
        if now is None or then is None:
            return now is not then
        return abs(now - then) >= self.REFRESH_EVERY

    def sort_column(self) -> str | None:
        return self.SORT_COLUMNS.get(self.sort_key)

    def action_sort_next(self) -> None:
        super().action_sort_next()
        self._show_top()

    def action_sort_reverse(self) -> None:
        super().action_sort_reverse()
        self._show_top()

    def _show_top(self) -> None:
        """After re-sorting, the list shows its top (the cursor on the first row), not where the old order was."""
        grid = self.grid
        grid.action_first()
        grid.scroll_home(animate=False)

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

    def action_timeline(self) -> None:
        from console.screens.timeline import open_timeline

        open_timeline(self, "job", self.grid.cursor_key)

    def action_copy(self) -> None:
        """``y``: the details of the job under the cursor."""
        copy_out(self, copy_job(self.store, self.grid.cursor_key))

    def on_data_grid_selected(self, event: DataGrid.Selected) -> None:
        """Enter opens the job's detail (its machine is one key further: ``m`` there)."""
        event.stop()
        if event.key is None:
            return
        from console.screens.job_detail import JobDetailScreen

        self.app.push_screen(JobDetailScreen(event.key))
