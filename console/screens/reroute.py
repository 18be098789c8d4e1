"""The reroute dialog: the server's candidates best first, blocked ones greyed with their blocker.

``auto`` lets the server pick the best. A running or paused job moves only with the explicit restart choice, and the
dialog says what restart costs (the part in progress is scrapped). Candidates with blockers cannot be chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Static

from console.api.models import Job, Machine, RerouteCandidate
from console.formatting import clock
from console.screens.modals import ShapeCheckbox
from widgets.safe_text import clean

AUTO_KEY = "__auto__"


@dataclass(frozen=True)
class RerouteChoice:
    machine_id: str | None
    """``None`` means auto: the server picks the best candidate."""
    restart: bool
    reason: str


SCORE_AND_DELIVERY = (
    "Score: the server's ranking of each machine for this job, 0 to 1, higher is better (it weighs the wait, "
    "the due time and the delivery distance). Delivery: distance from the machine's node to the customer "
    "({region}); CO2e: that delivery's estimated emissions. ETA: when the job would finish there."
)


def candidate_row(candidate: RerouteCandidate, machines: Mapping[str, Machine]) -> tuple[Text, ...]:
    """One table row; a blocked candidate is dim and struck through and says BLOCKED (its blockers, in full, are
    on the detail line under the table)."""
    machine = machines.get(candidate.machine_id)
    name = clean(candidate.machine_id, 20) + (f" {clean(machine.name, 40)}" if machine else "")
    style = "dim strike" if candidate.blocked else ""
    notes = (
        "; ".join(clean(b, 60) for b in candidate.blockers)
        if candidate.blocked
        else "; ".join(clean(r, 60) for r in candidate.reasons)
    )
    if candidate.blocked:
        notes = "BLOCKED: " + notes
    distance = f"{candidate.distance_km:,.0f} km" if candidate.distance_km is not None else "-"
    co2 = f"{candidate.co2e_kg:.1f} kg" if candidate.co2e_kg is not None else "-"
    cells = (
        clean(name, 30),
        clean(candidate.node_id, 20),
        f"{candidate.score:.2f}",
        clock(candidate.eta),
        distance,
        co2,
        clean(notes, 40),
    )
    return tuple(Text(cell, style=style) for cell in cells)


def candidate_detail(
    candidate: RerouteCandidate, machines: Mapping[str, Machine], node_names: Mapping[str, str], due: str
) -> str:
    """The highlighted candidate in full (never cut: the line wraps): where, score, ETA against the due time,
    delivery, and every reason or blocker."""
    machine = machines.get(candidate.machine_id)
    where = clean(candidate.machine_id, 30) + (f" {clean(machine.name, 60)}" if machine else "")
    node = node_names.get(candidate.node_id)
    on = f"{clean(node, 60)} ({clean(candidate.node_id, 30)})" if node else clean(candidate.node_id, 30)
    facts = [f"score {candidate.score:.2f}", f"ETA {clock(candidate.eta)} (due {due})"]
    if candidate.distance_km is not None:
        facts.append(f"delivery {candidate.distance_km:,.0f} km")
    if candidate.co2e_kg is not None:
        facts.append(f"{candidate.co2e_kg:.1f} kg CO2e")
    if candidate.blocked:
        why = "BLOCKED: " + "; ".join(clean(b, 200) for b in candidate.blockers)
    else:
        why = "Why: " + ("; ".join(clean(r, 200) for r in candidate.reasons) or "-")
    return f"{where} on {on}: {', '.join(facts)}.\n{why}"


def job_place(job: Job) -> str:
    """Where the job is now, in words: a backlog job is "in the backlog", not "on -"."""
    if job.machine_id:
        return f"on {clean(job.machine_id, 30)}"
    if job.node_id:
        return f"on {clean(job.node_id, 30)}, no machine yet"
    return "in the backlog (no node or machine yet)"


class RerouteDialog(ModalScreen[RerouteChoice | None]):
    """Pick where a job goes."""

    DEFAULT_CSS = """
    RerouteDialog { align: center middle; }
    RerouteDialog > Vertical {
        width: 110; max-width: 98%; height: auto; max-height: 95%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    RerouteDialog .title { text-style: bold; }
    RerouteDialog .hint { color: $text-muted; }
    RerouteDialog DataTable { height: auto; max-height: 12; margin: 1 0 0 0; }
    RerouteDialog #detail { height: auto; min-height: 2; margin: 0 0 1 0; }
    RerouteDialog .warn { color: $warning; }
    RerouteDialog .buttons { height: auto; align-horizontal: right; }
    RerouteDialog .buttons Button { margin-left: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="reroute.cancel"),
        Binding("ctrl+s", "confirm", "Reroute", id="reroute.confirm"),
    ]

    def __init__(
        self,
        job: Job,
        candidates: list[RerouteCandidate],
        machines: Mapping[str, Machine],
        *,
        node_names: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.job = job
        self.candidates = candidates
        self.machines = machines
        self.node_names: Mapping[str, str] = node_names or {}
        self.needs_restart = job.status in ("running", "paused")

    def job_times(self) -> str:
        """The job's due time and its current ETA (and how late that is), so a candidate's ETA can be weighed."""
        job = self.job
        eta = clock(job.eta) if job.eta is not None else "unknown"
        late = ""
        if job.eta is not None and job.eta > job.due_at:
            minutes = round((job.eta - job.due_at).total_seconds() / 60)
            late = f", {minutes} min after the due time"
        region = clean(job.customer_region, 30)
        return f"Due {clock(job.due_at)}; ETA where it is now {eta}{late}. Customer region: {region}"

    def detail(self, key: str | None) -> str:
        if key == AUTO_KEY:
            best = next((c for c in self.candidates if not c.blocked), None)
            if best is None:
                return "auto: the server picks the best machine when the command arrives (no candidate is free now)."
            now = candidate_detail(best, self.machines, self.node_names, clock(self.job.due_at))
            return f"auto: the server picks the best machine when the command arrives; now that is\n{now}"
        candidate = next((c for c in self.candidates if c.machine_id == key), None)
        if candidate is None:
            return ""
        return candidate_detail(candidate, self.machines, self.node_names, clock(self.job.due_at))

    def compose(self) -> ComposeResult:
        job = self.job
        with Vertical():
            yield Label(
                Content(
                    f"Reroute {clean(job.id, 30)}: {clean(job.part, 40)} ({clean(job.process, 20)}, "
                    f"{clean(job.material, 20)}) now {clean(job.status, 16)} {job_place(job)}"
                ),
                classes="title",
            )
            yield Static(Content(self.job_times()), id="times")
            yield Static(
                Content(SCORE_AND_DELIVERY.format(region=clean(job.customer_region, 30))), id="legend", classes="hint"
            )
            table: DataTable[Any] = DataTable(cursor_type="row", id="candidates")
            table.add_columns("Machine", "Node", "Score", "ETA", "Delivery", "CO2e", "Reasons / blockers")
            table.add_row(Text("auto: the best candidate", style="bold"), *(Text("") for _ in range(6)), key=AUTO_KEY)
            for candidate in self.candidates:
                table.add_row(*candidate_row(candidate, self.machines), key=candidate.machine_id)
            yield table
            yield Static(Content(self.detail(AUTO_KEY)), id="detail")
            if self.needs_restart:
                yield Static(
                    "This job is running: it moves only with restart. Its part in progress is scrapped and it "
                    "starts again on the target.",
                    classes="warn",
                )
                yield ShapeCheckbox("Restart the job on the target (scraps the part in progress)", id="restart")
            yield Label("Reason (required)")
            yield Input(id="reason", placeholder="why the job moves")
            with Horizontal(classes="buttons"):
                yield Button("Leave it", id="cancel")
                yield Button("Reroute", id="confirm", variant="error" if self.needs_restart else "primary")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.query_one("#detail", Static).update(Content(self.detail(event.row_key.value)))

    def on_mount(self) -> None:
        self.query_one("#candidates", DataTable).focus()

    def _selected_key(self) -> str | None:
        table = self.query_one("#candidates", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_confirm(self) -> None:
        key = self._selected_key()
        reason = self.query_one("#reason", Input).value.strip()
        restart = self.needs_restart and self.query_one("#restart", Checkbox).value
        if key is None:
            return
        if key != AUTO_KEY:
            candidate = next((c for c in self.candidates if c.machine_id == key), None)
            if candidate is not None and candidate.blocked:
                self.notify(
                    Content(
                        f"{clean(key, 30)} cannot take this job: {'; '.join(clean(b, 60) for b in candidate.blockers)}"
                    ).plain,
                    severity="error",
                    markup=False,
                )
                return
        if self.needs_restart and not restart:
            self.notify("A running job moves only with restart: tick the restart box", severity="warning")
            return
        if not reason:
            self.notify("A reason is required", severity="warning")
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(RerouteChoice(None if key == AUTO_KEY else key, restart, reason))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.query_one("#reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_confirm()
        else:
            self.dismiss(None)
