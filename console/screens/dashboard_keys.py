"""The dashboard's keys and what each does to what: the machine under the cursor, the marked machines, or the
job or alert under the cursor of the side panel that has focus.

Why apart from the screen (``dashboard.py``, which shows): a key's meaning depends on where the focus is, and that
rule is the same whatever the panels show. The flows (``console.screens.flows``) ask and send; nothing here does I/O.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from console.copy_text import id_copy
from console.screens.base import ConsoleScreen
from console.screens.copying import COPY_BINDING, copy_alert, copy_job, copy_out
from console.screens.dashboard_facts import job_to_reroute
from console.screens.flows import ActionFlows
from widgets.data_grid import DataGrid
from widgets.machine_grid import MachineGrid


class DashboardKeys(ConsoleScreen):
    """The dashboard's bindings and actions; :class:`~console.screens.dashboard.DashboardScreen` gives the panels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause", "Pause/Resume", id="machine.pause"),
        Binding("c", "ready", "Ready", tooltip="Ready: confirm a blocked machine is clear", id="machine.ready"),
        Binding("n", "node", "Drain node", id="node.pause"),
        Binding("r", "reroute", "Reroute", id="job.reroute"),
        Binding("x", "cancel_job", "Cancel job", id="job.cancel"),
        Binding("a", "ack", "Ack", id="alert.ack"),
        Binding("s", "shelve", "Shelve", id="alert.shelve"),
        Binding("S", "unshelve", "Unshelve", show=False, id="alert.unshelve"),
        Binding("t", "toggle_layout", "Tiles/table", id="view.layout"),
        COPY_BINDING,
        # Not in the footer: the dashboard's line is full at 160 columns and would lose the screen keys (? lists it).
        Binding(
            "T", "timeline", "Timeline", tooltip="Timeline of what is under the cursor", show=False, id="timeline.open"
        ),
        Binding("tab", "focus_next", "Next panel", show=False, id="view.next_panel"),
        Binding("shift+tab", "focus_previous", "Previous panel", show=False, id="view.previous_panel"),
    ]

    flows: ActionFlows | None
    selected_node: str | None

    @property
    def grid(self) -> MachineGrid:
        raise NotImplementedError

    @property
    def queue(self) -> DataGrid:
        raise NotImplementedError

    # --- what each key does -----------------------------------------------------------------------------------

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
        self.flows.reroute_job(job_to_reroute(self.store, self.grid.cursor_id))

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

    def action_timeline(self) -> None:
        """``T``: the timeline of what the focused panel points at: the machine under the grid's cursor, the job
        under the queue's, the subject of the alert under the alerts' (a machine, job or node); with no machine
        under the cursor, the node the grid shows."""
        from console.screens.timeline import open_timeline

        where = self._focused_list()
        if where == "queue":
            open_timeline(self, "job", self.queue.cursor_key)
            return
        if where == "alerts":
            focused = self.focused
            alert = self.store.alerts.get(focused.cursor_key or "") if isinstance(focused, DataGrid) else None
            if alert is not None and alert.source.kind in ("machine", "job", "node"):
                open_timeline(self, alert.source.kind, alert.source.id)
            else:
                self.notify("This alert is about no machine, job or node", timeout=2)
            return
        machine_id = self.grid.cursor_id
        if machine_id:
            open_timeline(self, "machine", machine_id)
        else:
            open_timeline(self, "node", self.selected_node)

    def action_copy(self) -> None:
        """``y``: copy what the focused panel points at: the machine's id, the job's details, the alert."""
        where = self._focused_list()
        focused = self.focused
        key = focused.cursor_key if isinstance(focused, DataGrid) else None
        if where == "queue":
            copy_out(self, copy_job(self.store, key))
        elif where == "alerts":
            copy_out(self, copy_alert(self.store, key))
        else:
            machine_id = self.grid.cursor_id
            copy_out(self, id_copy("machine", machine_id) if machine_id else None)

    def action_shelve(self) -> None:
        assert self.flows is not None
        if self._focused_list() == "alerts":
            self.flows.shelve_alerts(self._targets())

    def action_unshelve(self) -> None:
        assert self.flows is not None
        if self._focused_list() == "alerts":
            self.flows.unshelve_alerts(self._targets())
