"""Machine detail (enter on a machine): state and reason, telemetry with sparklines, current job, queue, alerts, SPC
series and the recent events that touched it. ``escape`` goes back; ``b`` opens the runbook of its fault or alert;
``T`` its whole timeline (``console.screens.timeline``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from console.copy_text import id_copy
from console.formatting import age, clock, clock_s, percent, progress_bar, until
from console.rules import EtaView, job_eta, sort_alerts
from console.screens.base import ConsoleScreen
from console.screens.columns import COMPACT_ALERT_COLUMNS, QUEUE_COLUMNS, alert_row, job_row, risk_text, source_name
from console.screens.copying import COPY_BINDING, copy_out
from console.screens.flows import ActionFlows
from console.screens.runbook import open_runbook
from console.store.changes import ChangeSet
from widgets.charset import fold
from widgets.data_grid import DataGrid
from widgets.glyphs import kind_glyph, machine_state_look
from widgets.safe_text import clean
from widgets.sparkline import Sparkline
from widgets.spc_chart import SpcChart

DETAIL_SCREEN = "machine-detail"
"""The name the one reused machine detail is installed under (:func:`open_machine_detail`)."""


def open_machine_detail(app: App[Any], machine_id: str) -> None:
    """Open a machine's detail, reusing one composed detail screen while it is not already showing.

    Why: a new screen composes ~30 widgets, lays them out and mounts the telemetry rows, two to three frames and
    60-190 ms on the demo before it is fully drawn (issue 15). The one instance is installed, so ``escape`` hides it
    instead of removing it, and the next ``enter`` only fills it with the other machine. If it is in a screen stack
    already (a detail opened from a timeline opened from a detail), a new one is made, as before.
    """
    if app.is_screen_installed(DETAIL_SCREEN):
        kept = app.get_screen(DETAIL_SCREEN)
        stacks: dict[str, list[Any]] = getattr(app, "_screen_stacks", {})
        if isinstance(kept, MachineDetailScreen) and not any(kept in stack for stack in stacks.values()):
            kept.show_machine(machine_id)
            app.push_screen(kept)
            return
        app.push_screen(MachineDetailScreen(machine_id))
        return
    screen = MachineDetailScreen(machine_id)
    app.install_screen(screen, DETAIL_SCREEN)
    app.push_screen(screen)


def eta_words(view: EtaView) -> str:
    """The current job's ETA in the facts: ``ETA 12:32``, ``ETA passed, not done``, ``ETA unknown (machine fault)``
    or ``no ETA``; never a time already past on the server's clock."""
    if view.kind == "time":
        return f"ETA {clock(view.at)}"
    if view.kind == "late":
        return "ETA passed, not done"
    if view.kind == "unknown":
        return f"ETA unknown ({view.reason})"
    return "no ETA"


class MachineDetailScreen(ConsoleScreen):
    """One machine, all of it."""

    SCREEN_TITLE = "Machine"
    FILTERABLE = False

    DEFAULT_CSS = """
    MachineDetailScreen #top { height: auto; }
    MachineDetailScreen #facts { width: 1fr; height: auto; padding: 0 1; }
    MachineDetailScreen #telemetry { width: 1fr; height: auto; max-height: 12; padding: 0 1; }
    MachineDetailScreen .row { height: 1; }
    MachineDetailScreen .row Label { width: 22; }
    MachineDetailScreen .row Sparkline { width: 1fr; }
    MachineDetailScreen #lists { height: 1fr; }
    MachineDetailScreen #lists > Vertical { width: 1fr; }
    MachineDetailScreen Label.title { color: $text-muted; text-style: bold; padding: 0 1; }
    MachineDetailScreen #spc { height: 1fr; min-height: 8; }
    MachineDetailScreen #events { height: 1fr; padding: 0 1; }
    MachineDetailScreen.-narrow #telemetry { display: none; }
    MachineDetailScreen.-narrow #side { display: none; }
    """
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("p", "pause", "Pause/Resume", id="machine.pause"),
        Binding("c", "ready", "Ready", tooltip="Ready: confirm a blocked machine is clear", id="machine.ready"),
        Binding("n", "node", "Drain node", id="node.pause"),
        Binding("r", "reroute", "Reroute job", id="job.reroute"),
        Binding("a", "ack", "Ack alerts", id="alert.ack"),
        Binding(
            "b",
            "runbook",
            "Runbook",
            tooltip="Runbook: what the machine's fault or alert means and what to do",
            id="runbook.open",
        ),
        Binding("T", "timeline", "Timeline", tooltip="Timeline: what happened to the machine", id="timeline.open"),
        COPY_BINDING,
        Binding("tab", "focus_next", "Next", show=False, id="detail.next"),
    ]

    def __init__(self, machine_id: str) -> None:
        super().__init__()
        self.machine_id = machine_id
        self._telemetry_names: list[str] = []
        self._telemetry_rows: list[tuple[Horizontal, Label, Sparkline]] = []
        self._shown_jobs: set[str] = set()
        self._shown_alerts: set[str] = set()

    def show_machine(self, machine_id: str) -> None:
        """Show another machine on this (already composed) screen, before it is pushed again: its first frame is the
        new machine, from the top of its lists, with the queue focused, as a new screen would be."""
        self.machine_id = machine_id
        if not self.ready:
            self.needs_rebuild = True  # not mounted yet: on_mount rebuilds it
            return
        for grid in self.query(DataGrid):
            grid.set_rows([])  # the cursor goes back to the first row
        self.query_one("#telemetry", VerticalScroll).scroll_home(animate=False)
        self.rebuild()
        self.query_one("#queue", DataGrid).focus()
        self.target_changed()  # another machine may be offered other actions (an OctoPrint printer: no reroute)

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static(id="facts")
            yield VerticalScroll(id="telemetry")
        with Horizontal(id="lists"):
            with Vertical():
                yield Label("Queue", classes="title", id="queue-title")
                yield DataGrid(QUEUE_COLUMNS, id="queue", empty_message="Nothing queued")
                yield Label("Alerts", classes="title", id="alerts-title")
                yield DataGrid(COMPACT_ALERT_COLUMNS, id="alerts", empty_message="No active alerts")
            with Vertical(id="side"):
                yield SpcChart(id="spc")
                yield Label("Recent events (server time, UTC)", classes="title")
                yield Static(id="events")

    def on_mount(self) -> None:
        super().on_mount()
        self.rebuild()
        self.query_one("#queue", DataGrid).focus()

    def apply_changes(self, changes: ChangeSet) -> None:
        mid = self.machine_id
        if self.needs_rebuild or self._touched(changes):
            self.rebuild()
        elif mid in changes.telemetry_only:
            self._show_telemetry()
        elif changes.quality:
            self._show_spc()

    def _touched(self, changes: ChangeSet) -> bool:
        """Did this machine, its node, or one of its jobs or alerts change? Not any job or alert of the cluster: at
        20,000 machines some job changes in every flush, and the screen was rebuilt ten times a second for nothing."""
        mid, store = self.machine_id, self.store
        if mid in changes.machines:
            return True
        machine = store.machines.get(mid)
        if machine is None or machine.node_id in changes.nodes:
            return True
        if changes.jobs and (
            not changes.jobs.isdisjoint(self._shown_jobs)
            or any((job := store.jobs.get(i)) is not None and job.machine_id == mid for i in changes.jobs)
        ):
            return True
        alerts = store.alerts
        return bool(changes.alerts) and (
            not changes.alerts.isdisjoint(self._shown_alerts)
            or any((a := alerts.get(i)) is not None and a.source.id == mid for i in changes.alerts)
        )

    def rebuild(self) -> None:
        super().rebuild()
        self._show_facts()
        self._show_telemetry()
        self._show_lists()
        self._show_spc()
        self._show_events()

    def _show_facts(self) -> None:
        store = self.store
        machine = store.machines.get(self.machine_id)
        facts = self.query_one("#facts", Static)
        if machine is None:
            facts.update(Content(f"{clean(self.machine_id, 40)}: no longer known (removed or not yet loaded)"))
            return
        now = self.console.server_clock.now()
        look = machine_state_look(machine.state)
        node = store.nodes.get(machine.node_id)
        node_name = clean(node.name if node else machine.node_id, 40)
        lines = [
            f"{kind_glyph(machine.kind)} {clean(machine.name, 60)}  ({clean(machine.id, 40)})",
            f"{clean(machine.kind, 30)} · {clean(machine.model, 60)} · node {node_name}",
            f"State: {look.label} for {age(machine.state_since, now)}"
            + (f" · {clean(machine.state_reason, 80)}" if machine.state_reason else "")
            + (f" · fault {clean(machine.fault_code, 30)}" if machine.fault_code else ""),
        ]
        if machine.paused_by:
            lines.append(f"Paused by {clean(machine.paused_by, 40)}")
        if machine.draining:
            lines.append("Draining: finishes the current job, then takes no more")
        lines.append(
            f"Materials: {', '.join(clean(m, 20) for m in machine.materials) or '-'} · "
            f"envelope {' x '.join(f'{v:g}' for v in machine.envelope_mm)} mm"
        )
        job = store.jobs.get(machine.job_id) if machine.job_id else None
        if job is not None:
            risk = risk_text(job, now)
            lines.append(
                f"Job {clean(job.id, 30)}: {clean(job.part, 50)} ({job.done_qty}/{job.quantity}) "
                f"{progress_bar(job.progress, 20)} {percent(job.progress)} · {eta_words(job_eta(job, now, machine))} "
                f"· due {until(job.due_at, now)}" + (f" · {risk}" if risk else "")
            )
        else:
            lines.append("No current job")
        lines.append(f"Last seen {age(machine.last_seen, now)} ago")
        facts.update(Content(fold("\n".join(lines))))  # fold: ASCII mode

    def _show_telemetry(self) -> None:
        """One row per telemetry value: a label and a sparkline. Rows are kept and reused (hidden when a machine has
        fewer values), so another machine, or a value coming or going, mounts nothing unless it needs more rows than
        were ever shown; new rows are built with their content, so they are drawn complete in their first frame."""
        machine = self.store.machines.get(self.machine_id)
        if machine is None:
            return
        telemetry = self.store.machine_telemetry(self.machine_id)
        names = sorted(telemetry)
        rows = self._telemetry_rows
        new: list[Horizontal] = []
        for index, name in enumerate(names):
            text = Content(f"{clean(name, 16)} {telemetry[name]:,.1f}")
            series = list(self.store.telemetry_series(machine.id, name))
            if index < len(rows):
                _row, label, sparkline = rows[index]
                label.update(text)
                sparkline.data = series
            else:
                label, sparkline = Label(text, id=f"tl-{index}"), Sparkline(series, id=f"ts-{index}")
                row = Horizontal(label, sparkline, classes="row")
                rows.append((row, label, sparkline))
                new.append(row)
        if names != self._telemetry_names:
            self._telemetry_names = names
            for index, (row, _label, _sparkline) in enumerate(rows):
                row.display = index < len(names)
        if new:
            self.query_one("#telemetry", VerticalScroll).mount_all(new)

    def _show_lists(self) -> None:
        store = self.store
        now = self.console.server_clock.now()
        jobs = store.jobs_for_machine(self.machine_id)
        machine = store.machines.get(self.machine_id)
        self._shown_jobs = {j.id for j in jobs} | ({machine.job_id} if machine and machine.job_id else set())
        self.query_one("#queue-title", Label).update(f"Queue ({len(jobs)})")
        rows = [job_row(j, store.nodes, store.machines, queue=True, now=now) for j in jobs]
        self.query_one("#queue", DataGrid).set_rows(rows)
        alerts = sort_alerts(store.alerts_for("machine", self.machine_id))
        self._shown_alerts = {a.id for a in alerts}
        self.query_one("#alerts-title", Label).update(f"Alerts ({len(alerts)})")
        self.query_one("#alerts", DataGrid).set_rows(
            [alert_row(a, now, compact=True, name=source_name(a, store.machines, store.nodes)) for a in alerts]
        )

    def _show_spc(self) -> None:
        quality = self.store.quality.get(("machine", self.machine_id))
        series = quality.spc[0] if quality and quality.spc else None
        self.query_one("#spc", SpcChart).set_series(series)

    def _show_events(self) -> None:
        events = self.store.recent_machine_events(self.machine_id)
        lines = [f"{clock_s(e.at)} {clean(e.type, 12)} {clean(e.summary, 100)}" for e in reversed(events)]
        self.query_one("#events", Static).update(Content("\n".join(lines) or "No events seen yet"))

    # --- actions --------------------------------------------------------------------------------------------------

    def command_actions(self) -> dict[str, tuple[str, ...]]:
        return {
            "pause": ("machine.pause", "machine.resume"),
            "ready": ("machine.ready",),
            "node": ("node.pause", "node.resume"),
            "reroute": ("job.reroute",),
            "ack": ("alert.ack",),
        }

    def action_back(self) -> None:
        self.app.pop_screen()

    def current_target(self) -> tuple[str, str | None]:
        return ("machine", self.machine_id)

    def action_pause(self) -> None:
        ActionFlows(self.console).pause_or_resume_machines([self.machine_id])

    def action_ready(self) -> None:
        ActionFlows(self.console).ready_machines([self.machine_id])

    def action_node(self) -> None:
        machine = self.store.machines.get(self.machine_id)
        if machine is not None:
            ActionFlows(self.console).drain_or_resume_node(machine.node_id)

    def action_reroute(self) -> None:
        focused = self.focused
        if isinstance(focused, DataGrid) and focused.id == "queue" and focused.cursor_key:
            ActionFlows(self.console).reroute_job(focused.cursor_key)
            return
        machine = self.store.machines.get(self.machine_id)
        if machine is None:
            return
        job_id = machine.job_id
        if job_id is None:
            queued = self.store.jobs_for_machine(machine.id)
            job_id = queued[0].id if queued else None
        ActionFlows(self.console).reroute_job(job_id)

    def action_ack(self) -> None:
        ActionFlows(self.console).ack_alerts([a.id for a in self.store.alerts_for("machine", self.machine_id)])

    def action_timeline(self) -> None:
        from console.screens.timeline import open_timeline

        open_timeline(self, "machine", self.machine_id)

    def action_copy(self) -> None:
        """``y``: the machine's id."""
        copy_out(self, id_copy("machine", self.machine_id))

    def action_runbook(self) -> None:
        """``b``: a runbook for what is wrong here: the alert under the cursor of the alert list if it has focus,
        else the machine's fault code, else its worst alert's code (the first of them that has a runbook)."""
        store = self.store
        machine = store.machines.get(self.machine_id)
        alerts = store.alerts_for("machine", self.machine_id)
        standing = [a for a in alerts if a.state != "shelved"] or alerts  # most urgent first
        codes: list[str | None] = []
        focused = self.focused
        if isinstance(focused, DataGrid) and focused.id == "alerts" and focused.cursor_key:
            chosen = store.alerts.get(focused.cursor_key)
            codes.append(chosen.code if chosen else None)
        codes.append(machine.fault_code if machine else None)
        codes.append(standing[0].code if standing else None)
        open_runbook(self, codes, context=f"Machine {clean(self.machine_id, 40)}")
