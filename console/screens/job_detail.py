"""Job detail (``enter`` on the Jobs screen, or on a job in a timeline): the job's order, part, design file and its
sha256, process, material, size, quantity with done and scrapped counts, priority, due time, ETA and risk, status,
where it runs, where it ran and was rerouted (from the store's history), and its timeline below, newest first.

``T`` opens the timeline on a screen of its own (filter, export); ``m`` the detail of its machine; ``p``, ``x`` and
``r`` pause or resume, cancel and reroute it as on the Jobs screen; ``enter`` on a timeline row opens what it is
about. The ETA follows the console's rule (``console.rules.job_eta``): never a time already past on the server's
clock; unknown while its machine or the job is stopped. A job that has left the store (removed after it finished)
keeps its timeline here, as far as the store's history reaches.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Label, Static

from console.api.models import Job
from console.formatting import clock, percent, progress_bar, until
from console.rules import job_eta
from console.screens.base import ConsoleScreen
from console.screens.columns import risk_text
from console.screens.copying import COPY_BINDING, copy_job, copy_out
from console.screens.flows import ActionFlows
from console.screens.machine_detail import eta_words
from console.screens.timeline_rows import TIMELINE_COLUMNS, entry_row, open_ref, row_entry
from console.store.changes import ChangeSet
from console.timeline_view import Placement, placements, subject_entries
from widgets.charset import fold
from widgets.data_grid import DataGrid
from widgets.glyphs import job_status_look
from widgets.safe_text import clean

__all__ = ["JobDetailScreen", "job_facts", "placement_text"]


def placement_text(place: Placement, until: Placement | None = None) -> str:
    """``M-LDS-07 (node N-LDS) 08:21-08:40 (rerouted)``: where, from when (if seen) until the next move, and why
    it went there; ``the backlog`` for a job on neither a machine nor a node."""
    where = clean(place.machine_id, 40) if place.machine_id else ""
    if place.node_id:
        where += f" (node {clean(place.node_id, 40)})" if where else f"node {clean(place.node_id, 40)}"
    where = where or "the backlog"
    start = clock(place.since) if place.since is not None else ""
    end = clock(until.since) if until is not None and until.since is not None else ""
    span = f" {start}-{end}" if start and end else f" from {start}" if start else f" until {end}" if end else ""
    why = "" if place.why in ("first seen there", "since first seen") else f" ({place.why})"
    return f"{where}{span}{why}"


def job_facts(job: Job, store: Any, now: Any, ran: list[Placement]) -> list[str]:
    """The facts of a job, one line each, cleaned (server text is plain): for the screen and for tests."""
    machine = store.machines.get(job.machine_id) if job.machine_id else None
    node = store.nodes.get(job.node_id) if job.node_id else None
    look = job_status_look(job.status)
    if machine is not None:
        runs = f"on {clean(machine.name, 40)} ({clean(machine.id, 40)})"
    else:
        runs = f"on {clean(job.machine_id, 40)}" if job.machine_id else "on no machine"
    if job.node_id:
        runs += f" · {clean((node.city or node.name) if node else job.node_id, 40)}"
    else:
        runs += " (the backlog: no node has taken it)"
    risk = risk_text(job, now)
    lines = [
        f"{clean(job.id, 40)} · {clean(job.part, 60)} · order {clean(job.order_id, 40)}",
        f"Status: {look.label} {runs}",
        f"Design: {clean(job.design.file, 80)}",
        f"sha256: {clean(job.design.sha256, 80)}",
        f"Process {clean(job.process, 30)} · material {clean(job.material, 30)} · "
        f"{' x '.join(f'{v:g}' for v in job.size_mm)} mm · customer {clean(job.customer_region, 30)}",
        f"Quantity {job.quantity}: {job.done_qty} done, {job.scrap_qty} scrapped · "
        f"{progress_bar(job.progress, 16)} {percent(job.progress)}"
        + (f" · queue #{job.queue_position}" if job.queue_position is not None else ""),
        f"Priority {job.priority} · due {clock(job.due_at)} ({until(job.due_at, now)}) · "
        f"{eta_words(job_eta(job, now, machine))}"
        + (f" · {risk}" if risk else "")
        + f" · created {clock(job.created_at)}",
    ]
    if len(ran) > 1 or (ran and ran[0].why != "since first seen"):
        steps = [placement_text(p, ran[i + 1] if i + 1 < len(ran) else None) for i, p in enumerate(ran)]
        lines.append("Ran on: " + " → ".join(steps))
    return lines


class JobDetailScreen(ConsoleScreen):
    """One job, all of it, and its timeline."""

    SCREEN_TITLE = "Job"
    FILTERABLE = False

    DEFAULT_CSS = """
    JobDetailScreen #job-facts { height: auto; padding: 0 1; }
    JobDetailScreen Label.title { color: $text-muted; text-style: bold; padding: 0 1; }
    JobDetailScreen #job-timeline { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="job-detail.back"),
        Binding("m", "machine", "Its machine", id="job-detail.machine"),
        Binding("p", "pause", "Pause/Resume", id="job.pause"),
        Binding("x", "cancel_job", "Cancel", id="job.cancel"),
        Binding("r", "reroute", "Reroute", id="job.reroute"),
        Binding("T", "timeline", "Timeline", tooltip="Its timeline, to filter and export", id="timeline.open"),
        COPY_BINDING,
    ]

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.local: list[dict[str, Any]] = []
        self.fetched: list[Any] = []

    def compose_body(self) -> ComposeResult:
        yield Static(id="job-facts")
        yield Label("Timeline (newest first, server time UTC)", classes="title", id="job-timeline-title")
        yield DataGrid(TIMELINE_COLUMNS, id="job-timeline", empty_message="Nothing heard about this job yet")

    def on_mount(self) -> None:
        super().on_mount()
        self.rebuild()
        self.query_one("#job-timeline", DataGrid).focus()
        self.run_worker(self._read_local(), group="job-local-audit", exclusive=True, exit_on_error=False)
        self.console.fetch_audit(self._fetched)

    async def _read_local(self) -> None:
        self.local = await self.console.session.local_audit(500)
        if self.is_mounted:
            self.rebuild()

    def _fetched(self, entries: list[Any]) -> None:
        self.fetched = entries
        if self.is_mounted:
            self.rebuild()

    def apply_changes(self, changes: ChangeSet) -> None:
        touched = self.job_id in changes.jobs or changes.machines or changes.audit  # its facts, its ETA, commands
        if self.needs_rebuild or touched or changes.alerts or changes.sources:  # its alerts' rows, connection gaps
            self.soon(self.rebuild)

    def rebuild(self) -> None:
        super().rebuild()
        store = self.store
        now = self.console.server_clock.now()
        job = store.jobs.get(self.job_id)
        history = store.timeline.entries(("job", self.job_id))
        facts = self.query_one("#job-facts", Static)
        if job is None:
            words = f"{clean(self.job_id, 40)}: no longer in the cluster's list (finished and removed, or not loaded)"
            facts.update(Content(words))
        else:
            facts.update(Content(fold("\n".join(job_facts(job, store, now, placements(job, history))))))  # ASCII mode
        entries = subject_entries(store, "job", self.job_id, now=now, local=self.local, fetched=self.fetched)
        self.query_one("#job-timeline", DataGrid).set_rows([entry_row(e, now) for e in entries])

    # --- actions --------------------------------------------------------------------------------------------------

    def command_actions(self) -> dict[str, tuple[str, ...]]:
        return {"pause": ("job.pause", "job.resume"), "cancel_job": ("job.cancel",), "reroute": ("job.reroute",)}

    def current_target(self) -> tuple[str, str | None]:
        return ("job", self.job_id)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_timeline(self) -> None:
        from console.screens.timeline import open_timeline

        open_timeline(self, "job", self.job_id)

    def action_copy(self) -> None:
        """``y``: the job's details (id, part, status, where, due, order)."""
        copy_out(self, copy_job(self.store, self.job_id))

    def action_machine(self) -> None:
        job = self.store.jobs.get(self.job_id)
        if job is None or not job.machine_id or job.machine_id not in self.store.machines:
            self.notify("This job is on no machine the console knows", timeout=2)
            return
        open_ref(self, ("machine", job.machine_id))

    def action_pause(self) -> None:
        ActionFlows(self.console).pause_or_resume_jobs([self.job_id])

    def action_cancel_job(self) -> None:
        ActionFlows(self.console).cancel_jobs([self.job_id])

    def action_reroute(self) -> None:
        ActionFlows(self.console).reroute_job(self.job_id)

    def on_data_grid_selected(self, event: DataGrid.Selected) -> None:
        """Enter on a timeline row: open what it is about."""
        event.stop()
        grid = event.control
        if event.key is None or not isinstance(grid, DataGrid):
            return
        entry = row_entry(grid.get_row(event.key))
        if entry is not None:
            open_ref(self, entry.ref)
