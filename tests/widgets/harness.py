"""Deterministic data and small harness apps for the widget tests (no I/O, no clock)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from textual import on
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widget import Widget

from console.api.models import Job, Machine
from themes import DEFAULT_THEME, VARIABLE_DEFAULTS, register_themes
from widgets.data_grid import DataGrid
from widgets.machine_grid import MachineGrid
from widgets.node_strip import NodeStrip

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

KINDS = ["fdm_printer", "cnc_mill", "laser_cutter", "sla_printer", "cnc_lathe"]
STATES = ["running", "idle", "running", "fault", "running", "blocked", "paused", "maintenance", "offline", "running"]
TELEMETRY = {
    "fdm_printer": {"nozzle_c": 215.0, "bed_c": 60.0},
    "cnc_mill": {"spindle_load_pct": 73.0, "spindle_rpm": 12000.0},
    "laser_cutter": {"laser_pct": 80.0},
    "sla_printer": {"chamber_c": 31.0},
    "cnc_lathe": {"spindle_load_pct": 41.0},
}


def machine(i: int, **changes: object) -> Machine:
    kind = KINDS[i % len(KINDS)]
    state = STATES[i % len(STATES)]
    data: dict[str, object] = {
        "id": f"M-{i:05d}",
        "node_id": f"N-{i % 6}",
        "name": f"{kind.split('_')[0].upper()}-{i:05d}",
        "kind": kind,
        "model": "X1",
        "state": state,
        "state_since": T0,
        "job_id": f"J-{2000 + i}" if state in ("running", "paused", "blocked") else None,
        "progress": ((i * 37) % 100) / 100 if state in ("running", "paused", "blocked") else None,
        "envelope_mm": (200.0, 200.0, 200.0),
        "telemetry": TELEMETRY[kind],
        "state_reason": {"fault": "spindle overload", "blocked": "bed not clear"}.get(state),
        "fault_code": "E-17" if state == "fault" else None,
        "last_seen": T0,
    }
    data.update(changes)
    return Machine.model_validate(data)


def machines(n: int) -> list[Machine]:
    return [machine(i) for i in range(n)]


def job(job_id: str, part: str = "bracket") -> Job:
    return Job.model_validate(
        {
            "id": job_id,
            "order_id": "O-1",
            "part": part,
            "design": {"file": "a.stl", "sha256": "0" * 64},
            "process": "fdm",
            "material": "PLA",
            "size_mm": (10, 10, 10),
            "quantity": 40,
            "done_qty": 12,
            "scrap_qty": 0,
            "priority": 3,
            "due_at": T0,
            "status": "running",
            "progress": 0.3,
            "created_at": T0,
            "customer_region": "EU",
        }
    )


class WidgetApp(App[None]):
    """Mounts the given widgets, registers the themes and records every message the widgets post up."""

    def __init__(self, *widgets: Widget, theme: str = DEFAULT_THEME) -> None:
        super().__init__()
        self._widgets = widgets
        self._theme_name = theme
        self.messages: list[Message] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return VARIABLE_DEFAULTS

    def compose(self) -> ComposeResult:
        yield from self._widgets

    def on_mount(self) -> None:
        register_themes(self)
        self.theme = self._theme_name
        self.animation_level = "none"

    @on(MachineGrid.Highlighted)
    @on(MachineGrid.Selected)
    @on(MachineGrid.MarkToggled)
    @on(DataGrid.Highlighted)
    @on(DataGrid.Selected)
    @on(DataGrid.MarkToggled)
    @on(DataGrid.HeaderClicked)
    @on(NodeStrip.Selected)
    def _record(self, message: Message) -> None:
        self.messages.append(message)

    def of_type(self, kind: type[Message]) -> list[Message]:
        return [m for m in self.messages if isinstance(m, kind)]


def screen_lines(app: App[object]) -> list[str]:
    """The whole screen as plain text lines (what the terminal would show)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_segments(app: App[object]) -> Iterable[object]:
    for strip in app.screen._compositor.render_strips():
        yield from strip
